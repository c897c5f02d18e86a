"""Refusing an upload by its declared size, before anything reads the body.

Django streams a multipart file to a temporary file whatever its size, and the first reader of
`request.POST` (the CSRF check, DRF's authentication) parses the whole body. A request body is
never longer than its `Content-Length` (Django reads no further, and reads nothing without
one), so checking that header first bounds what an upload can write to the disk.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.exceptions import ApplicationError

# Room for a multipart body's boundaries and form fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def body_size_check(request: HttpRequest, *, max_bytes: int) -> None:
    """413 `file_too_large` when the request declares a body longer than `max_bytes`."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes:
        raise ApplicationError(
            f"The upload is larger than {max_bytes // (1024 * 1024)} MB.",
            code="file_too_large",
            status=413,
        )


def upload_size_limited(max_bytes: int) -> Callable:
    """Decorate a form view that takes a file: a body declared longer than `max_bytes` answers
    413 before the CSRF check (which would parse it) runs; the CSRF check then runs as usual."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        protected = csrf_protect(view)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                body_size_check(request, max_bytes=max_bytes)
            except ApplicationError as exc:
                return HttpResponse(exc.message, status=413, content_type="text/plain")
            return protected(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorator

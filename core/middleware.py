"""Middleware of our own."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import resolve

from core.formatting import locale_negotiate, locale_override

# Hit by visitors' browsers and partners' servers, never with a session.
TRACKING_PATH_PREFIXES = ("/c/", "/api/track/click/", "/postback/")


class TrackingFastPathMiddleware:
    """Serve the tracking endpoints without the browser-session middleware listed after this one.

    The click redirect and the partner postback need none of it: no session or auth cookie is
    read (the views take no user), CSRF does not apply (the click is GET/HEAD only and the
    postback views are csrf_exempt), there is no message to show, no page to frame and no login
    to lock out. Skipping them is a measurable share of a click's CPU (see the README's
    benchmark section). Placed right after SecurityMiddleware, so HTTPS redirects and security
    headers still apply; an unknown path under these prefixes raises Resolver404, which the
    handler turns into the project's 404 answer exactly as it would without this middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(TRACKING_PATH_PREFIXES):
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)


class FormatLocaleMiddleware:
    """Write the numbers of this request's pages in the viewer's locale (`core.formatting`).

    The locale comes from the `Accept-Language` header, negotiated against the locales Babel has
    data for; without one, English. Only number formatting changes: pages stay in English and
    Django's active language is untouched.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        locale = locale_negotiate(request.headers.get("Accept-Language", ""))
        with locale_override(locale):
            return self.get_response(request)

"""Middleware of our own."""

import functools
from collections.abc import Callable

from csp import middleware as csp_middleware
from csp.constants import HEADER as CSP_HEADER
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import resolve

from core.api import error_json, is_page_path
from core.formatting import locale_negotiate, locale_override

# Hit by visitors' browsers and partners' servers, never with a session.
TRACKING_PATH_PREFIXES = ("/c/", "/s/", "/api/track/click/", "/postback/", "/px/")


class TrackingFastPathMiddleware:
    """Serve the tracking endpoints without the browser-session middleware listed after this one.

    The click redirect, the partner postback and the conversion pixel need none of it: no session
    or auth cookie is read (the views take no user), CSRF does not apply (the click and the pixel
    are GET/HEAD only and the postback views are csrf_exempt), there is no message to show, no
    page to frame (the iframe pixel must be framed by the advertiser's page) and no login to lock
    out. Skipping them is a measurable share of a click's CPU (docs/performance.md). Placed right
    after SecurityMiddleware, so HTTPS redirects and security headers still apply; an unknown path
    under these prefixes raises Resolver404, which the handler turns into the project's 404 answer
    exactly as it would without this middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(TRACKING_PATH_PREFIXES):
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)


class JsonErrorPagesMiddleware:
    """Outside the HTML pages, turn any HTML error page into the API's JSON error shape.

    The error handlers (core.api) cover what Django routes through them. This covers what they
    cannot: Django's debug 404 page (DEBUG bypasses `handler404`), the 405 answers of
    `require_GET`-style decorators, and a DRF view whose renderer is HTML (the Swagger UI). The
    status and the `Allow` / `Retry-After` headers are kept. Plain-text answers (a click's
    "Not found.") are deliberate and left alone; so are 2xx/3xx answers, at the cost of one
    comparison per request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400:
            return response
        if is_page_path(request.path) or not response.get("Content-Type", "").startswith(
            "text/html"
        ):
            return response
        message = None
        if response.status_code == 405:
            message = f'Method "{request.method}" not allowed.'
        replacement = error_json(response.status_code, message=message)
        for header in ("Allow", "Retry-After"):
            if header in response:
                replacement[header] = response[header]
        return replacement


# What django-csp's decorators and nonces leave on a response or request to vary its policy.
_CSP_RESPONSE_OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


@functools.cache
def _csp_policy() -> str:
    return build_policy()


@receiver(setting_changed)
def _csp_policy_forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _csp_policy.cache_clear()


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, with the header built once per process.

    django-csp builds the header from CONTENT_SECURITY_POLICY again on every response: about
    30 µs, close to a tenth of a click's whole cost in-process. Responses that no django-csp
    decorator or nonce varies (all of them today) get the policy built once; any other response,
    and a report-only policy, go through django-csp unchanged.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or any(hasattr(response, name) for name in _CSP_RESPONSE_OVERRIDES)
        ):
            return super().process_response(request, response)
        # django-csp leaves Django's debug pages alone (they use inline scripts and styles).
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        if CSP_HEADER not in response:
            response[CSP_HEADER] = _csp_policy()
        # As django-csp does: a nonce asked for after the header was written is an error.
        # django-csp's own attribute on the request, which HttpRequest does not declare.
        request.csp_nonce = csp_middleware.CheckableLazyObject(  # type: ignore[attr-defined]
            self._csp_nonce_post_response
        )
        return response


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

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET, require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico`, which browsers ask for on their own: our icon, from the static files."""
    response = HttpResponseRedirect(static("core/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


class _JsonOutsideGetMixin(APIView):
    """Anything but the document itself (OPTIONS, a refused method, an error) is rendered as
    JSON, in the API's error shape: the view's own renderers (HTML, YAML) are for the document."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if request.method not in ("GET", "HEAD") or response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class ApiSchemaView(_JsonOutsideGetMixin, SpectacularAPIView):
    """`/api/schema/`: the OpenAPI document (YAML, or JSON on request)."""


class ApiDocsView(_JsonOutsideGetMixin, SpectacularSwaggerSplitView):
    """`/api/docs/`: the Swagger UI, with no inline script or style (Content-Security-Policy).

    The page loads its start-up script from this same URL (`?script`), as drf-spectacular's split
    view does, and its few rules from core/static/core/swagger_ui.css.
    """

    template_name = "api/swagger_ui.html"

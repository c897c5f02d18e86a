"""The benchmark's baseline view, mounted only on the benchmark's own server."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def trivial(request: HttpRequest) -> HttpResponse:
    """The benchmark's baseline: the cheapest response this server can give (no database).

    Routed only when BENCHMARK_ROUTES_ENABLED is on (the benchmark command's own server)."""
    return HttpResponse("ok", content_type="text/plain")

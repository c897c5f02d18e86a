from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def trivial(request: HttpRequest) -> HttpResponse:
    """The benchmark's baseline: the cheapest response this server can give (no database)."""
    return HttpResponse("ok", content_type="text/plain")

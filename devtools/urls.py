"""Routes of the benchmark's own server: `config.urls` includes them only when
BENCHMARK_ROUTES_ENABLED is on (the `benchmark` command turns it on for its gunicorn)."""

from django.urls import path

from devtools import views

urlpatterns = [
    path("bench/trivial", views.trivial, name="bench-trivial"),
]

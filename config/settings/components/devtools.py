"""Developer tools: the benchmark's own server."""

from config.env import env

# `/bench/trivial` (the benchmark's do-nothing baseline) is routed only when this is on: the
# `benchmark` command turns it on for its own gunicorn; no other server needs it.
BENCHMARK_ROUTES_ENABLED = env.bool("BENCHMARK_ROUTES_ENABLED", default=False)

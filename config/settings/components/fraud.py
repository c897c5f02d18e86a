"""Fraud checks: the operator's IP lists and where click velocity is counted (docs/fraud.md)."""

from config.env import env

# An IP list file (management command or console upload) may hold at most this many entries,
# and an uploaded file at most this many bytes.
IP_LIST_MAX_ENTRIES = env.int("IP_LIST_MAX_ENTRIES", default=2_000_000)
IP_LIST_MAX_BYTES = env.int("IP_LIST_MAX_BYTES", default=64 * 1024 * 1024)
# Where clicks per (IP, link, minute) are counted for the `click_velocity` signal: `auto` counts
# in Redis when the default cache is Redis (every web process shares the counter), else in each
# process's memory (an approximation: each process sees only its own clicks); `redis` insists on
# Redis, `local` on process memory.
FRAUD_VELOCITY_COUNTER = env.str("FRAUD_VELOCITY_COUNTER", default="auto")

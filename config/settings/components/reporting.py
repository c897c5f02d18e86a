"""Hourly rollups and the raw clicks behind them."""

from config.env import env

# Raw clicks older than this many days that never converted are pruned by a daily task; the
# hourly rollups keep their counts. 0 keeps clicks forever. Never below the longest attribution
# window plus a day (enforced by the pruning itself).
CLICK_RETENTION_DAYS = env.int("CLICK_RETENTION_DAYS", default=180)
# How long the rollup refresh waits on an id that is taken but not yet committed before it
# treats it as rolled back (see reporting/services/rollups.py).
STATS_GAP_GRACE_SECONDS = env.int("STATS_GAP_GRACE_SECONDS", default=300)

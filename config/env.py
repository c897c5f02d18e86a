"""The one environment object every setting is read from."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's `.env` (never committed) fills in what the shell did not set.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

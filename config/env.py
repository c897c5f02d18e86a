"""The one environment object every setting is read from (the pattern: config/settings/base.py)."""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_NO_ENVIRONMENT_DEFAULT = object()


class Env(environ.Env):
    """django-environ's reader, with defaults that an environment module may replace.

    Each variable is read once, by the settings component that owns it, with the default most
    environments want. An environment module that wants another default (debug on in local, no
    default at all for production's secrets) calls `env.use_defaults(...)` before it imports
    base; a value set in the environment always wins over either default.
    """

    # As a default: the variable must be set ("Set the X environment variable" otherwise).
    REQUIRED = environ.Env.NOTSET

    def __init__(self) -> None:
        super().__init__()
        self.environment_defaults: dict[str, Any] = {}
        self.variables_read: set[str] = set()

    def use_defaults(self, **defaults: Any) -> None:
        # A new default for a variable already read would be silently ignored.
        late = sorted(
            name
            for name, value in defaults.items()
            if name in self.variables_read
            and self.environment_defaults.get(name, _NO_ENVIRONMENT_DEFAULT) != value
        )
        if late:
            raise ImproperlyConfigured(
                f"env.use_defaults() for {', '.join(late)} must run before the settings read "
                "them: call it before importing config.settings.base."
            )
        self.environment_defaults.update(defaults)

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        self.variables_read.add(var)
        default = self.environment_defaults.get(var, default)
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = Env()

# A developer's `.env` (never committed) fills in what the shell did not set, when the shell asks
# for it: a stray file must not change what a server runs, and docker compose (`env_file:`) and
# honcho (the quickstart's Procfile) load the file into the environment themselves.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(BASE_DIR / ".env", overwrite=False)

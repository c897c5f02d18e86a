"""Rate limits of the public auth entry points, shared by the API and the portal's forms.

One counter per scope and client: `auth_login` counts `POST /api/auth/login`, the portal's and
the console's login forms together; `auth_register` counts `POST /api/auth/register` and the
portal's signup form; `auth_password_reset` the password-reset form. The counters are DRF's
(`ScopedRateThrottle`: the client IP as `NUM_PROXIES` trusts it, or the user once logged in),
kept in the default cache, which every web process must share (the production settings refuse a
process-local one).
"""

from types import SimpleNamespace

from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle

SCOPE_LOGIN = "auth_login"
SCOPE_REGISTER = "auth_register"
SCOPE_PASSWORD_RESET = "auth_password_reset"  # noqa: S105 - a throttle scope, not a secret
# Every attempt at a change that asks for the password again (`user_password_confirm`), per user.
SCOPE_REAUTHENTICATION = "reauthentication"


def auth_throttle_hit(*, request: HttpRequest, scope: str) -> int | None:
    """Count one attempt of `request`'s client against `scope`'s rate.

    Returns None when the attempt is within the limit, else the whole seconds to wait (at least
    1) before the next one is allowed. A refused attempt is not counted.
    """
    throttle = ScopedRateThrottle()
    # The throttle reads only the request's `user` and `META` and the view's `throttle_scope`:
    # a Django request and a namespace carry them, though the stubs ask for DRF's classes.
    view = SimpleNamespace(throttle_scope=scope)
    if throttle.allow_request(request, view):  # type: ignore[arg-type]
        return None
    return max(1, int(throttle.wait() or 0))

"""Request types for views that only run for a logged-in user.

Django and DRF type `request.user` as `User | AnonymousUser`. A view behind a login decorator or
an authenticating permission class never sees the anonymous user, so it annotates its request
with one of these and the checker knows `request.user` is our `User`. Typing only: at runtime
the request is the ordinary one.
"""

from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A Django request behind `login_required` (or a decorator that implies it)."""

    user: User


class AuthenticatedRequest(Request):
    """A DRF request behind a permission class that requires an authenticated user."""

    user: User

"""System checks of the login settings: role names that exist, and admins' second factor in
production (`check --deploy`)."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from accounts.models import Role


@register(Tags.security)
def otp_required_roles_check(**kwargs: Any) -> list[Error]:
    known = {role.value for role in Role}
    return [
        Error(
            f"OTP_REQUIRED_ROLES: {role!r} is not a role (one of: {', '.join(sorted(known))}).",
            id="clickledger.E002",
        )
        for role in settings.OTP_REQUIRED_ROLES
        if role not in known
    ]


@register(Tags.security, deploy=True)
def otp_admins_check(**kwargs: Any) -> list[Warning]:
    if Role.ADMIN in settings.OTP_REQUIRED_ROLES or settings.OTP_ADMIN_OPTIONAL:
        return []
    return [
        Warning(
            "Admins may log in to the console without a second factor.",
            hint="Add `admin` to OTP_REQUIRED_ROLES, or set OTP_ADMIN_OPTIONAL=true if that "
            "is on purpose.",
            id="clickledger.W001",
        )
    ]

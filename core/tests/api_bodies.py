"""What the API answers, as tests expect it: the error bodies `core.api` renders (refused fields,
not authenticated, forbidden by role, not found) and datetimes as the API writes them."""

import datetime as dt
from typing import Any


def invalid_fields_body(fields: dict[str, Any]) -> dict[str, Any]:
    """The 400 `invalid` body naming each refused field with its messages."""
    return {
        "status": "error",
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": fields,
    }


def iso(moment: dt.datetime | None) -> str | None:
    """A datetime as the API writes it (ISO 8601, UTC, `Z`)."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


NOT_AUTHENTICATED = {
    "status": "error",
    "code": "not_authenticated",
    "message": "Authentication credentials were not provided.",
}


def forbidden(message: str) -> dict[str, str]:
    return {"status": "error", "code": "permission_denied", "message": message}


ANY_ROLE_FORBIDDEN = forbidden(
    "Only network admins, approved advertisers and approved affiliates may do this."
)
ADMIN_OR_ADVERTISER_FORBIDDEN = forbidden(
    "Only network admins and approved advertisers may do this."
)
ADMIN_OR_AFFILIATE_FORBIDDEN = forbidden("Only network admins and approved affiliates may do this.")
AFFILIATE_FORBIDDEN = forbidden("Only approved affiliates may do this.")


def not_found(message: str) -> dict[str, str]:
    return {"status": "error", "code": "not_found", "message": message}

"""The API's error bodies as tests expect them (core.api renders them)."""

from typing import Any


def invalid_fields_body(fields: dict[str, Any]) -> dict[str, Any]:
    """The 400 `invalid` body naming each refused field with its messages."""
    return {
        "status": "error",
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": fields,
    }

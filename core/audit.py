"""The audit log of configuration changes: `audit_record`, field snapshots and their diff.

The service that changes an object records the change itself, inside its own transaction, so
an entry exists exactly when the change committed. Callers pass who acted (`actor`, a user or
None) and through what (`source`): the API views use `audit_source_for_request`, the portal
`AuditSource.PORTAL`, the console `AuditSource.CONSOLE`; tasks, commands and tests leave the
services' defaults (`AuditSource.SYSTEM`, no actor).

An entry keeps only the fields that changed, as `{field: [before, after]}` in JSON: amounts as
strings (`"1.0000"`), times in ISO 8601, a related object as its id. Fields that hold secrets
(keys, signing secrets, passwords, tokens) are never stored: a change shows as
`["********", "********"]`, so a rotation is visible and its values are not.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from core.models import AuditEntry, AuditSource

MASK = "********"
_SECRET_WORDS = ("secret", "password", "token")
_SECRET_NAMES = frozenset({"key", "previous_key", "api_key"})
OBJECT_REPR_MAX = 200


def is_secret_field(name: str) -> bool:
    """Whether a field's values must never reach the log (matched by its name)."""
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def audit_value(value: Any) -> Any:
    """A value as the log stores it: JSON-safe, amounts as strings, related rows as ids."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(key): audit_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [audit_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of `instance` as the log stores them (secrets as digests, which
    `audit_diff` turns into MASK).

    A foreign key is read by its id column, so taking a snapshot costs no query; a decimal is
    written with its column's places.
    """
    snapshot: dict[str, Any] = {}
    for name in fields:
        model_field = instance._meta.get_field(name)
        attname = getattr(model_field, "attname", name)
        value = getattr(instance, attname)
        if isinstance(model_field, models.DecimalField) and isinstance(value, Decimal):
            # As stored: a form may hold `Decimal("2")` for the column's `2.0000`.
            value = value.quantize(Decimal(1).scaleb(-model_field.decimal_places))
        snapshot[name] = _fingerprint(value) if is_secret_field(name) else audit_value(value)
    return snapshot


def _fingerprint(value: Any) -> str:
    # Enough to tell that a secret changed; `audit_diff` writes only MASK for it anyway.
    return hashlib.sha256(str(value).encode()).hexdigest()


def audit_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for every field whose value differs (missing = None).

    A secret field that changed is listed with masked values on both sides.
    """
    changes: dict[str, list[Any]] = {}
    for name in [*before, *(name for name in after if name not in before)]:
        old, new = audit_value(before.get(name)), audit_value(after.get(name))
        if is_secret_field(name):
            if old != new:
                changes[name] = [MASK, MASK]
            continue
        if old != new:
            changes[name] = [old, new]
    return changes


def _object_type(obj_type: type[models.Model] | models.Model | str) -> str:
    if isinstance(obj_type, str):
        return obj_type
    return obj_type._meta.label_lower


def audit_record(
    *,
    actor: Any,
    source: str,
    action: str,
    obj_type: type[models.Model] | models.Model | str,
    obj_id: Any,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    obj_repr: str = "",
    now: dt.datetime | None = None,
) -> AuditEntry | None:
    """Write one entry in the caller's transaction; None when nothing changed.

    `actor` is the user who acted (its id and email are copied) or None for the system;
    `source` one of `AuditSource`; `action` `create`, `update`, `delete` or a verb (`approve`,
    `rotate`, `pause` ...). `obj_type` is a model (class or row) or an `app_label.model` label.
    `before` and `after` are snapshots (`audit_snapshot`) or plain mappings: only the fields
    that differ are stored. An `update` that changed nothing writes nothing; any other action
    is recorded even with no field change (a rotation, a delete).
    """
    if source not in AuditSource.values:
        raise ValueError(f"unknown audit source {source!r}")
    changes = audit_diff(before or {}, after or {})
    if action == "update" and not changes:
        return None
    return AuditEntry.objects.create(
        created_at=now or timezone.now(),
        actor_id=getattr(actor, "pk", None),
        actor_email=str(getattr(actor, "email", "") or "")[:254],
        source=source,
        action=action[:32],
        object_type=_object_type(obj_type),
        object_id=str(obj_id),
        object_repr=obj_repr[:OBJECT_REPR_MAX],
        changes=changes,
    )


def audit_source_for_request(request: Any) -> str:
    """`api_key` for an API request authenticated by a stored API key, else `api`.

    Token (JWT) and session authentication leave `request.auth` a token or None; an API key
    authentication class puts the key's row there, and a row is what this looks for, so the
    rule holds whichever app defines the key model.
    """
    if isinstance(getattr(request, "auth", None), models.Model):
        return AuditSource.API_KEY
    return AuditSource.API

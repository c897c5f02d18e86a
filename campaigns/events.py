"""Conversion events (goals) of a campaign: create, edit, delete, and the default event.

Every campaign has exactly one default event. Its terms are the campaign's own payout fields
(`payout_type`, `payout_amount`, `revshare_percent`, `default_revenue`,
`allow_multiple_conversions`): editing either side through these services or the campaign
services writes both, so the campaign API keeps meaning what it always meant.

Who may call what is decided by the views and selectors; these functions assume the caller was
allowed to reach the objects it passes in.
"""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User
from campaigns.models import (
    DEFAULT_EVENT_CODE,
    EVENT_CODE_MAX_LENGTH,
    Campaign,
    Cap,
    ConversionEvent,
    EventInitialStatus,
    PayoutType,
)
from campaigns.terms import (
    CapSpec,
    FieldErrors,
    Invalid,
    caps_clean,
    caps_replace,
    clean_bool,
    clean_choice,
    clean_money,
    clean_percent,
    clean_text,
    fields_clean,
)
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource

_CODE = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{EVENT_CODE_MAX_LENGTH - 1}}}$")

# Campaign field -> event field, for the default event.
CAMPAIGN_TERMS = {
    "payout_type": "payout_type",
    "payout_amount": "payout_amount",
    "revshare_percent": "revshare_percent",
    "default_revenue": "default_revenue",
    "allow_multiple_conversions": "allow_multiple",
}


def _clean_code(raw: Any) -> str:
    value = raw.strip().lower() if isinstance(raw, str) else ""
    if not _CODE.match(value):
        raise Invalid(
            f"A code is 1 to {EVENT_CODE_MAX_LENGTH} lowercase letters, digits, '-' or '_',"
            " starting with a letter or digit (for example lead, sale, first_deposit)."
        )
    return value


_FIELD_CLEANERS = {
    "code": (_clean_code, "invalid_code"),
    "name": (clean_text(200, required=True), "invalid_name"),
    "payout_type": (clean_choice(PayoutType), "invalid_payout_type"),
    "payout_amount": (clean_money, "invalid_payout_amount"),
    "revshare_percent": (clean_percent, "invalid_revshare_percent"),
    "default_revenue": (clean_money, "invalid_default_revenue"),
    "allow_multiple": (clean_bool, "invalid_allow_multiple"),
    "initial_status": (clean_choice(EventInitialStatus), "invalid_initial_status"),
}
_CREATE_DEFAULTS: dict[str, Any] = {
    "payout_amount": Decimal(0),
    "revshare_percent": Decimal(0),
    "default_revenue": Decimal(0),
    "allow_multiple": False,
    "initial_status": EventInitialStatus.APPROVED,
}


def _event_data_clean(
    data: Mapping[str, Any], *, current: Mapping[str, Any]
) -> tuple[dict[str, Any], list[CapSpec] | None]:
    errors = FieldErrors(summary="The event has invalid fields.")
    cleaned = fields_clean(data, _FIELD_CLEANERS, errors)
    caps = caps_clean(data["caps"], errors, event_caps=True) if "caps" in data else None
    merged = {**current, **cleaned}
    for required in ("code", "name", "payout_type"):
        if required not in merged and required not in errors.fields:
            errors.add(required, "This field is required.", f"invalid_{required}")
    if (
        merged.get("payout_type") == PayoutType.REVSHARE
        and "revshare_percent" not in errors.fields
        and merged.get("revshare_percent", Decimal(0)) <= 0
    ):
        errors.add(
            "revshare_percent",
            "A revenue share needs a percentage above 0 and at most 100.",
            "invalid_revshare_percent",
        )
    errors.raise_if_any()
    return cleaned, caps


def event_validate(
    *, campaign: Campaign, data: Mapping[str, Any], event: ConversionEvent | None = None
) -> None:
    """Raise what creating (or updating `event`) with `data` would raise, writing nothing."""
    current = _CREATE_DEFAULTS if event is None else _event_current(event)
    _event_data_clean(data, current=current)
    code = data.get("code")
    if isinstance(code, str) and (event is None or code.strip().lower() != event.code):
        _code_free_check(campaign=campaign, code=code.strip().lower(), event=event)


def _event_current(event: ConversionEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _FIELD_CLEANERS}


def _event_caps_snapshot(event: ConversionEvent) -> list[dict[str, Any]]:
    """The event's caps as the audit log stores them, in a stable order."""
    return [
        audit_snapshot(cap, ["scope", "period", "metric", "limit", "action"])
        for cap in Cap.objects.filter(event=event).order_by("scope", "period", "metric")
    ]


def _event_audit(
    *,
    event: ConversionEvent,
    action: str,
    actor: User | None,
    source: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj_type=ConversionEvent,
        obj_id=event.pk,
        obj_repr=f"{event} of campaign #{event.campaign_id}",
        before=before,
        after=after,
    )


def _code_free_check(*, campaign: Campaign, code: str, event: ConversionEvent | None) -> None:
    taken = ConversionEvent.objects.filter(campaign=campaign, code=code)
    if event is not None:
        taken = taken.exclude(pk=event.pk)
    if taken.exists():
        raise ApplicationError(
            f"The campaign already has an event with the code {code!r}.",
            code="duplicate_event_code",
            status=409,
            fields={"code": ["Already used by another event of this campaign."]},
        )


def _campaign_terms_from_event(event: ConversionEvent) -> None:
    """Copy the default event's terms onto its campaign (the campaign row is the caller's)."""
    campaign = Campaign.objects.select_for_update().get(pk=event.campaign_id)
    changed = []
    for campaign_field, event_field in CAMPAIGN_TERMS.items():
        value = getattr(event, event_field)
        if getattr(campaign, campaign_field) != value:
            setattr(campaign, campaign_field, value)
            changed.append(campaign_field)
    if changed:
        campaign.save(update_fields=[*changed, "updated_at"])


@transaction.atomic
def campaign_default_event_sync(*, campaign: Campaign) -> ConversionEvent:
    """Create the campaign's default event, or copy the campaign's terms onto it.

    Called by the campaign services after every create and update (and by the console's
    campaign form); idempotent: a second call changes nothing.
    """
    terms = {
        event_field: getattr(campaign, campaign_field)
        for campaign_field, event_field in CAMPAIGN_TERMS.items()
    }
    event = (
        ConversionEvent.objects.select_for_update()
        .filter(campaign=campaign, is_default=True)
        .first()
    )
    if event is None:
        try:
            with transaction.atomic():
                return ConversionEvent.objects.create(
                    campaign=campaign,
                    code=DEFAULT_EVENT_CODE,
                    name="Conversion",
                    is_default=True,
                    **terms,
                )
        except IntegrityError:
            # A concurrent call created it, or the code `default` names another event.
            event = ConversionEvent.objects.select_for_update().get(
                campaign=campaign, is_default=True
            )
    changed = [name for name, value in terms.items() if getattr(event, name) != value]
    for name in changed:
        setattr(event, name, terms[name])
    if changed:
        event.save(update_fields=[*changed, "updated_at"])
    return event


@transaction.atomic
def event_create(
    *,
    campaign: Campaign,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> ConversionEvent:
    """A new, non-default event of `campaign` (with its caps). `code`, `name` and `payout_type`
    are required; a code already used in the campaign is 409 `duplicate_event_code`. The audit
    log gets the event's fields and caps, with `actor` and `source`."""
    cleaned, caps = _event_data_clean(data, current=_CREATE_DEFAULTS)
    _code_free_check(campaign=campaign, code=cleaned["code"], event=None)
    try:
        with transaction.atomic():
            event = ConversionEvent.objects.create(
                campaign=campaign, is_default=False, **{**_CREATE_DEFAULTS, **cleaned}
            )
    except IntegrityError as exc:
        raise ApplicationError(
            f"The campaign already has an event with the code {cleaned['code']!r}.",
            code="duplicate_event_code",
            status=409,
            fields={"code": ["Already used by another event of this campaign."]},
        ) from exc
    if caps:
        caps_replace(campaign=campaign, event=event, specs=caps)
    after = audit_snapshot(event, list(_FIELD_CLEANERS))
    if caps:
        after["caps"] = _event_caps_snapshot(event)
    _event_audit(event=event, action="create", actor=actor, source=source, before={}, after=after)
    return event


@transaction.atomic
def event_update(
    *,
    event: ConversionEvent,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> ConversionEvent:
    """Change the fields present in `data`; `caps`, when given, replaces the event's caps.

    Changing the terms never reprices conversions already recorded. The default event's terms
    are also the campaign's payout fields: both are written. What changed goes to the audit log.
    """
    locked = ConversionEvent.objects.select_for_update().get(pk=event.pk)
    cleaned, caps = _event_data_clean(data, current=_event_current(locked))
    if "code" in cleaned and cleaned["code"] != locked.code:
        _code_free_check(campaign=locked.campaign, code=cleaned["code"], event=locked)
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    before = audit_snapshot(locked, changed)
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        if locked.is_default:
            _campaign_terms_from_event(locked)
    after = audit_snapshot(locked, changed)
    if caps is not None:
        before["caps"] = _event_caps_snapshot(locked)
        caps_replace(campaign=locked.campaign, event=locked, specs=caps)
        after["caps"] = _event_caps_snapshot(locked)
    _event_audit(
        event=locked, action="update", actor=actor, source=source, before=before, after=after
    )
    return locked


@transaction.atomic
def event_delete(
    *, event: ConversionEvent, actor: User | None = None, source: str = AuditSource.SYSTEM
) -> None:
    """Delete an event without conversions (409 `event_in_use` otherwise; the default event
    cannot be deleted: 409 `default_event`). Its caps and pricing rules go with it."""
    locked = ConversionEvent.objects.select_for_update().get(pk=event.pk)
    if locked.is_default:
        raise ApplicationError(
            "The default event cannot be deleted: postbacks that name no event convert on it.",
            code="default_event",
            status=409,
        )
    if locked.conversions.exists():
        raise ApplicationError(
            "This event has conversions and cannot be deleted.",
            code="event_in_use",
            status=409,
        )
    before = audit_snapshot(locked, list(_FIELD_CLEANERS))
    _event_audit(event=locked, action="delete", actor=actor, source=source, before=before, after={})
    locked.delete()


def event_for_postback(*, campaign_id: int, code: str) -> ConversionEvent:
    """The event a postback names (`code`), or the campaign's default event when it names none.

    Unknown code: 400 `unknown_event`, listing the campaign's codes for the partner to fix.
    """
    events = ConversionEvent.objects.filter(campaign_id=campaign_id)
    event = (
        events.filter(code=code.strip().lower()).first()
        if code
        else events.filter(is_default=True).first()
    )
    if event is None:
        codes = sorted(events.values_list("code", flat=True))
        raise ApplicationError(
            f"Unknown event {code[:60]!r} for this campaign.",
            code="unknown_event",
            fields={"event": [f"Choose one of: {', '.join(codes)}."]},
        )
    return event

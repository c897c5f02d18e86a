"""Campaign services: create and edit campaigns (with their caps), change their status, handle
affiliates' applications and invitations, and hand out tracking links.

Who may call what is decided by the views (roles) and the selectors (ownership); these functions
assume the caller was allowed to reach the objects it passes in.
"""

import logging
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Advertiser, Affiliate, User
from campaigns.events import campaign_default_event_sync
from campaigns.fraud_policy import FraudPolicyError, fraud_policy_clean
from campaigns.macros import LANDING_MACROS, TemplateError, template_validate
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    PayoutType,
    TrackingLink,
    Visibility,
)
from campaigns.targeting import targeting_clean
from campaigns.tasks import send_access_decision_email, send_access_invitation_email
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
from core import tokens
from core.audit import audit_record, audit_snapshot
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError, NotFoundError
from core.models import AuditSource
from core.operator_events import operator_event_application_created
from core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

POSITIVE_INT_MAX = 2_147_483_647
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")

# --- Campaign fields ---------------------------------------------------------------------------


def _clean_url(*, required: bool) -> Callable[[Any], str]:
    text = clean_text(2000, required=required)

    def clean(raw: Any) -> str:
        value = text(raw)
        if value:
            try:
                template_validate(value, allowed=LANDING_MACROS)
            except TemplateError as exc:
                raise Invalid(str(exc)) from exc
        return value

    return clean


def _clean_currency(raw: Any) -> str:
    value = raw.strip().upper() if isinstance(raw, str) else ""
    if value not in CURRENCY_CODES:
        raise Invalid(f"Unknown ISO 4217 currency code: {raw!r}.")
    return value


def _parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise Invalid("Must be a whole number.")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise Invalid("Must be a whole number.")


def _clean_int(*, minimum: int, nullable: bool = False) -> Callable[[Any], int | None]:
    def clean(raw: Any) -> int | None:
        if nullable and (raw is None or raw == ""):
            return None
        value = _parse_int(raw)
        if not minimum <= value <= POSITIVE_INT_MAX:
            raise Invalid(f"Must be between {minimum} and {POSITIVE_INT_MAX}.")
        return value

    return clean


def _clean_timezone(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("Must be an IANA time zone name such as Europe/Berlin.")
    name = raw.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise Invalid(f"Unknown time zone: {name!r}.") from exc
    return name


def _clean_countries(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise Invalid("Must be a list of 2-letter country codes.")
    codes: list[str] = []
    for item in raw:
        code = item.strip().upper() if isinstance(item, str) else ""
        if not _COUNTRY_CODE.match(code):
            raise Invalid(f"Not a 2-letter country code: {item!r}.")
        if code not in codes:
            codes.append(code)
    return codes


def _clean_fraud_policy(raw: Any) -> dict[str, Any]:
    try:
        return fraud_policy_clean(raw)
    except FraudPolicyError as exc:
        raise Invalid(str(exc)) from exc


_FIELD_CLEANERS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "name": (clean_text(200, required=True), "invalid_name"),
    "description": (clean_text(20_000), "invalid_description"),
    "landing_url": (_clean_url(required=True), "invalid_landing_url"),
    "fallback_url": (_clean_url(required=False), "invalid_fallback_url"),
    "currency": (_clean_currency, "invalid_currency"),
    "payout_type": (clean_choice(PayoutType), "invalid_payout_type"),
    "payout_amount": (clean_money, "invalid_payout_amount"),
    "revshare_percent": (clean_percent, "invalid_revshare_percent"),
    "default_revenue": (clean_money, "invalid_default_revenue"),
    "visibility": (clean_choice(Visibility), "invalid_visibility"),
    "external_offer_id": (clean_text(100), "invalid_external_offer_id"),
    "attribution_window_hours": (_clean_int(minimum=1), "invalid_attribution_window_hours"),
    "hold_days": (_clean_int(minimum=0), "invalid_hold_days"),
    "auto_approve_after_hours": (
        _clean_int(minimum=0, nullable=True),
        "invalid_auto_approve_after_hours",
    ),
    "allow_multiple_conversions": (clean_bool, "invalid_allow_multiple_conversions"),
    "timezone": (_clean_timezone, "invalid_timezone"),
    "allowed_countries": (_clean_countries, "invalid_allowed_countries"),
    "targeting": (targeting_clean, "invalid_targeting"),
    "fraud_policy": (_clean_fraud_policy, "invalid_fraud_policy"),
    "min_seconds_to_convert": (_clean_int(minimum=0), "invalid_min_seconds_to_convert"),
}

_CREATE_DEFAULTS: dict[str, Any] = {
    "description": "",
    "fallback_url": "",
    "currency": "USD",
    "payout_amount": Decimal(0),
    "revshare_percent": Decimal(0),
    "default_revenue": Decimal(0),
    "visibility": Visibility.PUBLIC,
    "external_offer_id": "",
    "attribution_window_hours": 30 * 24,
    "hold_days": 0,
    "auto_approve_after_hours": None,
    "allow_multiple_conversions": False,
    "timezone": "UTC",
    "allowed_countries": [],
    "targeting": {},
    "fraud_policy": {},
    "min_seconds_to_convert": 0,
}


def _check_payout_model(values: Mapping[str, Any], errors: FieldErrors) -> None:
    if "revshare_percent" in errors.fields or "payout_type" in errors.fields:
        return
    if values.get("payout_type") == PayoutType.REVSHARE:
        percent = values.get("revshare_percent")
        if isinstance(percent, Decimal) and percent <= 0:
            errors.add(
                "revshare_percent",
                "A revenue share needs a percentage above 0 and at most 100.",
                "invalid_revshare_percent",
            )


def _clean_campaign_data(
    data: Mapping[str, Any], *, current: Mapping[str, Any]
) -> tuple[dict[str, Any], list[CapSpec] | None]:
    """Validate every field in `data`, then the rules across fields against `current` + data.

    Unknown keys are ignored (the API's input serializer decides what reaches us; read-only
    fields such as `id` may ride along). Raises one ApplicationError listing every bad field.
    """
    errors = FieldErrors()
    cleaned = fields_clean(data, _FIELD_CLEANERS, errors)
    caps = caps_clean(data["caps"], errors) if "caps" in data else None
    merged = {**current, **cleaned}
    for required in ("name", "landing_url", "payout_type"):
        if required not in merged and required not in errors.fields:
            errors.add(required, "This field is required.", f"invalid_{required}")
    _check_payout_model(merged, errors)
    errors.raise_if_any()
    return cleaned, caps


_STATUS_TRANSITIONS = {
    CampaignStatus.ACTIVE: {CampaignStatus.PAUSED, CampaignStatus.ARCHIVED},
    CampaignStatus.PAUSED: {CampaignStatus.ACTIVE, CampaignStatus.ARCHIVED},
    CampaignStatus.ARCHIVED: set(),
}


_STATUS_VERBS: dict[str, str] = {
    CampaignStatus.PAUSED: "pause",
    CampaignStatus.ACTIVE: "resume",
    CampaignStatus.ARCHIVED: "archive",
}


def _check_status_transition(*, current: str, new: str) -> None:
    if new not in CampaignStatus.values:
        raise ApplicationError(
            f"Unknown campaign status {new!r}.",
            code="invalid_status",
            fields={"status": [f"Choose one of: {', '.join(CampaignStatus.values)}."]},
        )
    if new != current and new not in _STATUS_TRANSITIONS[CampaignStatus(current)]:
        raise ApplicationError(
            f"A campaign cannot go from {current} to {new}; archived is final.",
            code="invalid_transition",
            status=409,
        )


def campaign_validate(*, data: Mapping[str, Any], campaign: Campaign | None = None) -> None:
    """Raise the ApplicationError that creating (or updating `campaign`) with `data` would
    raise, writing nothing. Lets forms show the same errors next to their fields."""
    current = (
        _CREATE_DEFAULTS
        if campaign is None
        else {name: getattr(campaign, name) for name in _FIELD_CLEANERS}
    )
    _clean_campaign_data(data, current=current)


def campaign_caps_snapshot(campaign: Campaign) -> list[dict[str, Any]]:
    """The campaign's caps as the audit log stores them, in a stable order."""
    return [
        audit_snapshot(cap, ["scope", "period", "metric", "limit", "action"])
        for cap in Cap.objects.filter(campaign=campaign, event__isnull=True).order_by(
            "scope", "period", "metric"
        )
    ]


@transaction.atomic
def campaign_create(
    *,
    advertiser: Advertiser,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> Campaign:
    """Create a campaign (and its caps) for `advertiser` from a validated-here payload.

    `name`, `landing_url` and `payout_type` are required; everything else has the model's
    default. `status` may be `active` (default) or `paused`. All field errors are reported at
    once. Atomic: the campaign and its caps are written together or not at all.
    """
    cleaned, caps = _clean_campaign_data(data, current=_CREATE_DEFAULTS)
    status = data.get("status", CampaignStatus.ACTIVE)
    if status not in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
        raise ApplicationError(
            "A new campaign is active or paused.",
            code="invalid_status",
            fields={"status": ["Choose active or paused."]},
        )
    campaign = Campaign.objects.create(
        advertiser=advertiser, status=status, **{**_CREATE_DEFAULTS, **cleaned}
    )
    if caps:
        caps_replace(campaign=campaign, specs=caps)
    campaign_default_event_sync(campaign=campaign)
    audit_record(
        actor=actor,
        source=source,
        action="create",
        obj_type=Campaign,
        obj_id=campaign.pk,
        obj_repr=str(campaign),
        after={
            **audit_snapshot(campaign, ["advertiser", "status", *_FIELD_CLEANERS]),
            **({"caps": campaign_caps_snapshot(campaign)} if caps else {}),
        },
    )
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> Campaign:
    """Change the fields present in `data` (a partial update); `caps`, when given, replaces the
    campaign's caps as a whole (an empty list removes them).

    Rules across fields (a revenue share needs a percentage) are checked against the stored
    campaign with the changes applied. A `status` in `data` follows `campaign_set_status` rules.
    The row is locked for the update, so two concurrent edits apply one after the other.
    """
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    current = {name: getattr(locked, name) for name in _FIELD_CLEANERS}
    cleaned, caps = _clean_campaign_data(data, current=current)
    if "status" in data:
        _check_status_transition(current=locked.status, new=data["status"])
        cleaned["status"] = data["status"]
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    before = audit_snapshot(locked, changed)
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    after = audit_snapshot(locked, changed)
    if caps is not None:
        before["caps"] = campaign_caps_snapshot(locked)
        caps_replace(campaign=locked, specs=caps)
        after["caps"] = campaign_caps_snapshot(locked)
    campaign_default_event_sync(campaign=locked)
    audit_record(
        actor=actor,
        source=source,
        action="update",
        obj_type=Campaign,
        obj_id=locked.pk,
        obj_repr=str(locked),
        before=before,
        after=after,
    )
    return locked


@transaction.atomic
def campaign_set_status(
    *, campaign: Campaign, status: str, actor: User | None, source: str = AuditSource.SYSTEM
) -> Campaign:
    """Pause, resume or archive. Setting the current status again is a no-op; archived is final
    (409 `invalid_transition`). Paused and archived campaigns still record clicks, as blocked."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _check_status_transition(current=locked.status, new=status)
    if locked.status != status:
        previous = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        logger.info(
            "campaign %s status %s -> %s by user %s",
            locked.pk,
            previous,
            status,
            actor.pk if actor else None,
        )
        audit_record(
            actor=actor,
            source=source,
            action=_STATUS_VERBS.get(status, "update"),
            obj_type=Campaign,
            obj_id=locked.pk,
            obj_repr=str(locked),
            before={"status": previous},
            after={"status": status},
        )
    return locked


# --- Applications ------------------------------------------------------------------------------


def _access_create_or_get(
    *, campaign: Campaign, affiliate: Affiliate, status: str, message: str, actor: User | None
) -> tuple[CampaignAccess, bool]:
    now = timezone.now() if status != AccessStatus.PENDING else None
    try:
        with transaction.atomic():
            access = CampaignAccess.objects.create(
                campaign=campaign,
                affiliate=affiliate,
                status=status,
                message=message,
                decided_by=actor if now else None,
                decided_at=now,
            )
    except IntegrityError:
        return CampaignAccess.objects.get(campaign=campaign, affiliate=affiliate), False
    return access, True


def _require_approved_affiliate(affiliate: Affiliate) -> None:
    if not affiliate.is_approved:
        raise ApplicationError(
            "Your affiliate account is not approved yet.",
            code="affiliate_not_approved",
            status=403,
        )


@transaction.atomic
def access_apply(*, campaign: Campaign, affiliate: Affiliate, message: str = "") -> CampaignAccess:
    """An affiliate applies to a campaign.

    Public campaigns approve at once; `approval` campaigns wait for the advertiser or an admin;
    private and archived campaigns answer 404 as if missing (unless the affiliate was already
    invited). Idempotent: applying again returns the existing application unchanged, whatever
    its status, and a concurrent double apply creates one row (unique constraint).
    """
    _require_approved_affiliate(affiliate)
    existing = CampaignAccess.objects.filter(campaign=campaign, affiliate=affiliate).first()
    if existing is not None:
        return existing
    if campaign.status == CampaignStatus.ARCHIVED or campaign.visibility == Visibility.PRIVATE:
        raise NotFoundError("Campaign not found.")
    status = (
        AccessStatus.APPROVED if campaign.visibility == Visibility.PUBLIC else AccessStatus.PENDING
    )
    access, created = _access_create_or_get(
        campaign=campaign,
        affiliate=affiliate,
        status=status,
        message=message.strip()[:5000],
        actor=None,
    )
    if created:
        operator_event_application_created(
            application_id=access.pk,
            campaign_id=campaign.pk,
            affiliate_id=affiliate.pk,
            status=access.status,
        )
    return access


_ACCESS_VERBS: dict[str, str] = {
    AccessStatus.APPROVED: "approve",
    AccessStatus.REJECTED: "reject",
    AccessStatus.REVOKED: "revoke",
}
_DECISIONS = {AccessStatus.APPROVED, AccessStatus.REJECTED, AccessStatus.REVOKED}
_ACCESS_TRANSITIONS = {
    AccessStatus.PENDING: {AccessStatus.APPROVED, AccessStatus.REJECTED},
    AccessStatus.APPROVED: {AccessStatus.REVOKED, AccessStatus.REJECTED},
    AccessStatus.REJECTED: {AccessStatus.APPROVED},
    AccessStatus.REVOKED: {AccessStatus.APPROVED},
}


@transaction.atomic
def access_decide(
    *,
    access: CampaignAccess,
    status: str,
    actor: User | None,
    reason: str = "",
    source: str = AuditSource.SYSTEM,
) -> CampaignAccess:
    """Approve, reject or revoke an application, and email the affiliate after commit.

    pending -> approved | rejected; approved -> revoked | rejected; rejected or revoked ->
    approved. Deciding what is already decided is a no-op that sends nothing (so a double click
    in the admin emails once); anything else is 409 `invalid_transition`.
    """
    if status not in _DECISIONS:
        raise ApplicationError(
            f"Unknown decision {status!r}.",
            code="invalid_status",
            fields={"status": ["Choose approved, rejected or revoked."]},
        )
    locked = CampaignAccess.objects.select_for_update().get(pk=access.pk)
    if locked.status == status:
        return locked
    if status not in _ACCESS_TRANSITIONS[AccessStatus(locked.status)]:
        raise ApplicationError(
            f"An application cannot go from {locked.status} to {status}.",
            code="invalid_transition",
            status=409,
        )
    before = audit_snapshot(locked, ["status", "decision_reason"])
    locked.status = status
    locked.decision_reason = reason.strip()[:500]
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(
        update_fields=["status", "decision_reason", "decided_by", "decided_at", "updated_at"]
    )
    audit_record(
        actor=actor,
        source=source,
        action=_ACCESS_VERBS[status],
        obj_type=CampaignAccess,
        obj_id=locked.pk,
        obj_repr=str(locked),
        before=before,
        after=audit_snapshot(locked, ["status", "decision_reason"]),
    )
    enqueue_on_commit(send_access_decision_email, access_id=locked.pk)
    return locked


def _require_invitable(affiliate: Affiliate) -> None:
    if not affiliate.is_approved:
        raise ApplicationError(
            "Only an approved affiliate can be invited.",
            code="affiliate_not_approved",
            fields={"affiliate_id": ["This affiliate's account is not approved."]},
        )


@transaction.atomic
def access_invite(
    *, campaign: Campaign, affiliate: Affiliate, actor: User | None
) -> CampaignAccess:
    """Invite an affiliate into a campaign (the way into private ones), and email it after
    commit.

    An invitation is approved access at once, with no acceptance step: the affiliate sees the
    campaign in its list and gets its tracking link. A new access row is created approved; an
    existing pending, rejected or revoked one becomes approved; one already approved is
    returned unchanged and nothing is sent, so inviting twice emails once. Two concurrent
    invitations make one row (unique constraint), then lock it.

    The affiliate must be approved (400 `affiliate_not_approved`, on `affiliate_id`); an
    archived campaign takes no one (409 `invalid_transition`).
    """
    if campaign.status == CampaignStatus.ARCHIVED:
        raise ApplicationError(
            "An archived campaign cannot take new affiliates.",
            code="invalid_transition",
            status=409,
        )
    _require_invitable(affiliate)
    now = timezone.now()
    invitation = {
        "status": AccessStatus.APPROVED,
        "decision_reason": "",
        "decided_by": actor,
        "decided_at": now,
        "invited_by": actor,
        "invited_at": now,
    }
    try:
        with transaction.atomic():
            access = CampaignAccess.objects.create(
                campaign=campaign, affiliate=affiliate, **invitation
            )
    except IntegrityError:
        access = CampaignAccess.objects.select_for_update().get(
            campaign=campaign, affiliate=affiliate
        )
        if access.status == AccessStatus.APPROVED:
            return access
        for name, value in invitation.items():
            setattr(access, name, value)
        access.save(update_fields=[*invitation, "updated_at"])
    enqueue_on_commit(send_access_invitation_email, access_id=access.pk)
    return access


# --- Tracking links ----------------------------------------------------------------------------


@transaction.atomic
def link_get_or_create(*, campaign: Campaign, affiliate: Affiliate) -> TrackingLink:
    """The affiliate's one tracking link for the campaign, created on first request.

    The affiliate must be approved (403 `affiliate_not_approved`) and hold approved access;
    a public campaign grants it on the fly. Anything else (no access, pending, rejected, revoked,
    archived campaign) is 404, as if the campaign did not exist. Idempotent under concurrency:
    the (campaign, affiliate) unique constraint decides which of two racing requests creates it.
    """
    _require_approved_affiliate(affiliate)
    if campaign.status == CampaignStatus.ARCHIVED:
        raise NotFoundError("Campaign not found.")
    access = CampaignAccess.objects.filter(campaign=campaign, affiliate=affiliate).first()
    if access is None and campaign.visibility == Visibility.PUBLIC:
        access = access_apply(campaign=campaign, affiliate=affiliate)
    if access is None or access.status != AccessStatus.APPROVED:
        raise NotFoundError("Campaign not found.")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return TrackingLink.objects.create(
                    campaign=campaign, affiliate=affiliate, token=tokens.new_link_token()
                )
        except IntegrityError:
            link = TrackingLink.objects.filter(campaign=campaign, affiliate=affiliate).first()
            if link is not None:
                return link
            # Only a token collision (96 random bits) gets here: draw another token.
    raise ApplicationError("Could not allocate a link token.", code="link_error", status=500)


def link_url(*, link: TrackingLink) -> str:
    return f"{settings.PUBLIC_BASE_URL}/c/{link.token}"

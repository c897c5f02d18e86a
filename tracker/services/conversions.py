"""The conversion status machine and every status change, from any source.

    (new) -> pending | approved | rejected
    pending  -> approved | rejected
    approved -> reversed | rejected
    rejected -> approved          (with a reason)
    reversed: final

The same status again is a duplicate: nothing changes. Anything else is refused with 409
`invalid_transition`. Every change — the first status of a new conversion included — goes through
`_conversion_event_apply`, which appends the history row and moves end-user points in the caller's
transaction; the forwarding outbox and ledger postings hang off the same function, so a change and
its consequences commit or roll back together.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from campaigns.caps import caps_consume
from campaigns.events import event_for_postback
from campaigns.fraud_policy import fraud_policy_threshold
from campaigns.models import Campaign, ConversionEvent, EventInitialStatus, PartnerKey
from campaigns.pricing_rules import pricing_rule_candidates
from core.audit import audit_record
from core.exceptions import ApplicationError, NotFoundError
from core.models import AuditSource
from core.operator_events import operator_event_fraud_threshold
from core.sql import execute_fetchone, model_insert
from payouts.exchange_rates import exchange_rate_for, money_convert
from payouts.ledger import ledger_conversion_status_changed
from tracker.fraud import (
    HOLD_REASON_PREFIX,
    REJECT_REASON_PREFIX,
    conversion_fraud_decide,
    is_fraud_hold,
)
from tracker.models import (
    ChangeSource,
    Click,
    Conversion,
    ConversionHistory,
    ConversionStatus,
    EndUserPoints,
)
from tracker.postback_params import PostbackFields
from tracker.services.forwards import forwards_queue_for_change
from tracker.services.pricing import conversion_price

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    ConversionStatus.PENDING: frozenset({ConversionStatus.APPROVED, ConversionStatus.REJECTED}),
    ConversionStatus.APPROVED: frozenset({ConversionStatus.REVERSED, ConversionStatus.REJECTED}),
    ConversionStatus.REJECTED: frozenset({ConversionStatus.APPROVED}),
    ConversionStatus.REVERSED: frozenset(),
}
INITIAL_STATUSES = frozenset(
    {ConversionStatus.PENDING, ConversionStatus.APPROVED, ConversionStatus.REJECTED}
)

REASON_CAP_REACHED = "cap_reached"
REASON_OUTSIDE_ATTRIBUTION_WINDOW = "outside_attribution_window"
REASON_CLICK_BLOCKED = "click_blocked"
# Rejections we made ourselves: a partner repeating its postback cannot undo them, only an
# admin's or the advertiser's override can.
SYSTEM_REJECT_REASONS = frozenset(
    {REASON_CAP_REACHED, REASON_OUTSIDE_ATTRIBUTION_WINDOW, REASON_CLICK_BLOCKED}
)


@dataclass(frozen=True)
class ForeignAmount:
    """A postback's payout in another currency than its campaign's, and what it converted to:
    1 `currency` = `rate` campaign currency, `converted` = amount x rate (half-up, 4 places)."""

    amount: Decimal
    currency: str
    rate: Decimal
    converted: Decimal


def conversion_transition_check(*, from_status: str, to_status: str) -> bool:
    """True when `from_status -> to_status` is a change, False when it is a duplicate.

    Raises ApplicationError 409 `invalid_transition` for a change the machine does not allow.
    """
    if from_status == to_status:
        return False
    if to_status not in ALLOWED_TRANSITIONS.get(from_status, frozenset()):
        raise ApplicationError(
            f"A {from_status} conversion cannot become {to_status}.",
            code="invalid_transition",
            status=409,
        )
    return True


def points_awarded_for(*, conversion: Conversion, status: str) -> Decimal:
    """What `conversion` holds as end-user points in `status`: an approved conversion with an
    end user holds its payout, any other holds nothing."""
    if status == ConversionStatus.APPROVED and conversion.user_id:
        return conversion.payout
    return Decimal(0)


def _points_move(*, conversion: Conversion, amount: Decimal, now: dt.datetime) -> None:
    # One upsert adding `amount`: concurrent conversions of one end user add up (the conflicting
    # row is locked and re-read before the addition).
    table = EndUserPoints._meta.db_table
    execute_fetchone(
        f"INSERT INTO {table} (affiliate_id, user_id, points, updated_at) "  # noqa: S608 - model
        "VALUES (%s, %s, %s, %s) ON CONFLICT (affiliate_id, user_id) "
        f"DO UPDATE SET points = {table}.points + EXCLUDED.points, "
        "updated_at = EXCLUDED.updated_at RETURNING id",
        [
            conversion.affiliate_id,
            conversion.user_id,
            amount,
            connection.ops.adapt_datetimefield_value(now),
        ],
    )


def _conversion_event_apply(
    *,
    conversion: Conversion,
    from_status: str,
    points_before: Decimal,
    source: str,
    actor: User | None,
    postback_log_id: uuid.UUID | None,
    reason: str,
    now: dt.datetime,
    may_forward: bool,
    partner_status: str = "",
) -> ConversionHistory:
    """Everything that follows a status change, in the caller's transaction.

    `conversion` is saved with its new status and its new `points_awarded` (and locked, or new);
    `points_before` is what it held before. Appends the history row, moves the difference of
    end-user points to (affiliate, user_id) (entering approved credits the payout when the
    conversion has a user_id; leaving approved takes back exactly what was credited), posts the
    money to the ledger (entering or leaving approved; idempotent per history row), and writes
    the forwarding outbox rows (skipped when the caller knows, from the same transaction, that
    the affiliate has no active endpoint: `may_forward=False`). All of it commits or rolls back
    with the status change.
    """
    to_status = conversion.status
    history = ConversionHistory(
        conversion=conversion,
        from_status=from_status,
        to_status=to_status,
        revenue=conversion.revenue,
        payout=conversion.payout,
        source=source,
        actor=actor,
        postback_log_id=postback_log_id,
        reason=reason[:255],
        partner_status=partner_status[:64],
        created_at=now,
    )
    model_insert(history)
    points_delta = conversion.points_awarded - points_before
    if points_delta:
        _points_move(conversion=conversion, amount=points_delta, now=now)
    if ConversionStatus.APPROVED in (from_status, to_status):
        campaign = conversion.campaign
        ledger_conversion_status_changed(
            conversion_id=conversion.pk,
            affiliate_id=conversion.affiliate_id,
            advertiser_id=campaign.advertiser_id,
            currency=conversion.currency,
            revenue=conversion.revenue,
            payout=conversion.payout,
            from_status=from_status,
            to_status=to_status,
            hold_days=campaign.hold_days,
            at=now,
            event_key=f"history:{history.pk}",
        )
    if may_forward:
        forwards_queue_for_change(conversion=conversion, history=history, now=now)
    return history


def conversion_created_apply(
    *,
    conversion: Conversion,
    source: str,
    actor: User | None = None,
    postback_log_id: uuid.UUID | None = None,
    now: dt.datetime,
    may_forward: bool = True,
    partner_status: str = "",
) -> ConversionHistory:
    """Record the first status of a conversion just inserted (same transaction as the insert).

    The conversion was inserted with `points_awarded = points_awarded_for(...)` of its status.
    """
    return _conversion_event_apply(
        conversion=conversion,
        from_status="",
        points_before=Decimal(0),
        source=source,
        actor=actor,
        postback_log_id=postback_log_id,
        reason=conversion.reason,
        now=now,
        may_forward=may_forward,
        partner_status=partner_status,
    )


def conversion_transition_apply(
    *,
    conversion: Conversion,
    to_status: str,
    source: str,
    actor: User | None,
    reason: str,
    now: dt.datetime,
    revenue: Decimal | None = None,
    foreign: ForeignAmount | None = None,
    postback_log_id: uuid.UUID | None = None,
    may_forward: bool = True,
    partner_status: str = "",
) -> Conversion:
    """Move a locked conversion to `to_status`; the caller has checked the transition.

    A move into approved that carries a `revenue` re-prices the conversion with the terms that
    priced it (its pricing rule, else its event's): the rule is never chosen again. That revenue
    is in the campaign's currency; `foreign` says what the partner sent when it was converted
    (kept on the conversion, or cleared when the new revenue was not converted). Caps are the
    caller's business (partners' approvals consume them, overrides do not). One UPDATE of the
    conversion (status, money and points together).
    """
    from_status = conversion.status
    points_before = conversion.points_awarded
    conversion.status = to_status
    conversion.reason = reason[:255]
    conversion.updated_at = now
    fields = ["status", "reason", "updated_at"]
    if to_status == ConversionStatus.APPROVED:
        conversion.approved_at = now
        fields.append("approved_at")
        if revenue is not None:
            price = conversion_price(
                event=conversion.event, rule=conversion.pricing_rule, revenue=revenue
            )
            conversion.revenue, conversion.payout = price.revenue, price.payout
            conversion.original_amount = None if foreign is None else foreign.amount
            conversion.original_currency = "" if foreign is None else foreign.currency
            conversion.exchange_rate = None if foreign is None else foreign.rate
            fields += ["revenue", "payout", "original_amount", "original_currency", "exchange_rate"]
    conversion.points_awarded = points_awarded_for(conversion=conversion, status=to_status)
    if conversion.points_awarded != points_before:
        fields.append("points_awarded")
    conversion.save(update_fields=fields)
    _conversion_event_apply(
        conversion=conversion,
        from_status=from_status,
        points_before=points_before,
        source=source,
        actor=actor,
        postback_log_id=postback_log_id,
        reason=reason,
        now=now,
        may_forward=may_forward,
        partner_status=partner_status,
    )
    return conversion


@transaction.atomic
def conversion_status_change(
    *,
    conversion_id: int,
    status: str,
    actor: User | None,
    reason: str,
    source: str,
    audit_source: str = AuditSource.SYSTEM,
    revenue: Decimal | None = None,
) -> Conversion:
    """An admin's or advertiser's status change (the caller has checked who may do it).

    Locks the conversion row. Same status: returned unchanged, nothing recorded. Re-approving a
    rejected conversion needs a reason; overrides bypass caps (also our own `cap_reached`).
    A move into approved with a `revenue` re-prices the conversion with the terms that priced
    it, as a partner's approval with an amount does (a reconciliation's amount); other moves
    ignore it. The change is written to the audit log with `audit_source` (console, portal,
    api...).
    """
    if status not in ConversionStatus.values:
        raise ApplicationError(
            f"Unknown status {status!r}.",
            code="invalid_status",
            fields={"status": [f"Choose one of: {', '.join(ConversionStatus.values)}."]},
        )
    if source not in ChangeSource.values:
        raise ApplicationError(f"Unknown change source {source!r}.", code="invalid_source")
    conversion = (
        Conversion.objects.select_for_update(of=("self",))
        .select_related("campaign", "event")
        .filter(pk=conversion_id)
        .first()
    )
    if conversion is None:
        raise NotFoundError("Conversion not found.")
    if not conversion_transition_check(from_status=conversion.status, to_status=status):
        return conversion
    reason = (reason or "").strip()
    if (
        conversion.status == ConversionStatus.REJECTED
        and status == ConversionStatus.APPROVED
        and not reason
    ):
        raise ApplicationError(
            "Re-approving a rejected conversion needs a reason.",
            code="reason_required",
            fields={"reason": ["Required to re-approve a rejected conversion."]},
        )
    previous = conversion.status
    repriced = {"revenue"} if revenue is not None and status == ConversionStatus.APPROVED else set()
    changed = conversion_transition_apply(
        conversion=conversion,
        to_status=status,
        source=source,
        actor=actor,
        reason=reason,
        now=timezone.now(),
        revenue=revenue if status == ConversionStatus.APPROVED else None,
    )
    audit_record(
        actor=actor,
        source=audit_source,
        action="status_change",
        obj_type=Conversion,
        obj_id=conversion.pk,
        obj_repr=f"conversion #{conversion.pk}",
        before={"status": previous},
        after={
            "status": status,
            **({"reason": reason} if reason else {}),
            **({"revenue": str(changed.revenue)} if "revenue" in repriced else {}),
        },
    )
    return changed


# --- recording a partner's postback ------------------------------------------------------------


def postback_amount_convert(
    *, fields: PostbackFields, to_currency: str, now: dt.datetime
) -> ForeignAmount | None:
    """The postback's payout converted into the campaign's currency at the rate of the day of
    `now` (UTC; `payouts.exchange_rates.exchange_rate_for`), or None when there is nothing to
    convert: no `currency`, the campaign's own, no `payout` (the campaign's default revenue is
    already in its currency), or a reversal (which never re-prices: the ledger takes back what
    it booked). No rate for that day: 400 `no_exchange_rate`.
    """
    if (
        not fields.currency
        or fields.currency == to_currency
        or fields.payout is None
        or fields.status == ConversionStatus.REVERSED
    ):
        return None
    day = now.astimezone(dt.UTC).date()
    rate = exchange_rate_for(on=day, from_currency=fields.currency, to_currency=to_currency)
    if rate is None:
        raise ApplicationError(
            f"No exchange rate from {fields.currency} to {to_currency} for {day.isoformat()}: "
            f"this campaign is paid in {to_currency}.",
            code="no_exchange_rate",
            fields={"currency": [f"No {fields.currency}/{to_currency} rate for {day}."]},
        )
    return ForeignAmount(
        amount=fields.payout,
        currency=fields.currency,
        rate=rate,
        converted=money_convert(amount=fields.payout, rate=rate),
    )


@dataclass(frozen=True)
class ClickAttribution:
    """The click a postback converts, with what the rest of the request may skip.

    The hints come from the click lookup itself (same transaction, a few statements earlier);
    True means "not known, look": the fallback lookup leaves them so.
    """

    click: Click
    has_caps: bool = True  # False: the campaign has no cap, nothing to consume
    may_forward: bool = True  # False: the affiliate has no active postback endpoint
    has_rules: bool = True  # False: the campaign has no pricing rule, none to choose
    # The event the postback names (or the default one), when the lookup read it already.
    event: ConversionEvent | None = None


@dataclass(frozen=True)
class RecordOutcome:
    """What recording a postback did: `created`, `updated`, `duplicate` or `rejected` (with the
    reason), and the conversion."""

    result: str
    conversion: Conversion
    reason: str = ""


def _conversion_existing_for_update(
    *,
    click: Click,
    campaign: Campaign,
    event: ConversionEvent,
    transaction_id: str,
    dedupe_slot: str,
) -> Conversion | None:
    """The conversion of `event` this postback names, locked; None when there is none yet.

    A transaction id names a conversion of the campaign's event, but a postback may only touch the
    conversions of the click it names: one whose transaction id belongs to another click's
    conversion is refused (409 `transaction_id_conflict`), and says nothing about that conversion.
    """
    conversions = Conversion.objects.select_for_update(of=("self",)).select_related(
        "campaign", "event", "pricing_rule"
    )
    if transaction_id:
        existing = conversions.filter(
            campaign=campaign, event=event, transaction_id=transaction_id
        ).first()
        if existing is not None:
            if existing.click_id != click.pk:
                raise ApplicationError(
                    "This transaction_id belongs to a conversion of another click.",
                    code="transaction_id_conflict",
                    status=409,
                    fields={"transaction_id": ["Already used by another click's conversion."]},
                )
            return existing
    return conversions.filter(click=click, event=event, dedupe_slot=dedupe_slot).first()


def _partner_reason(fields: PostbackFields) -> str:
    if fields.reason:
        return fields.reason
    if fields.status in (ConversionStatus.REJECTED, ConversionStatus.REVERSED):
        return f"{fields.status}_by_partner"
    return ""


def _conversion_update(
    *,
    existing: Conversion,
    fields: PostbackFields,
    foreign: ForeignAmount | None = None,
    source: str,
    log_id: uuid.UUID,
    now: dt.datetime,
    has_caps: bool = True,
    may_forward: bool = True,
) -> RecordOutcome:
    if (
        existing.transaction_id
        and fields.transaction_id
        and existing.transaction_id != fields.transaction_id
    ):
        raise ApplicationError(
            "This click already converted on this event under another transaction_id, and the "
            "event allows one conversion per click.",
            code="click_already_converted",
            status=409,
        )
    requested = fields.status
    if (
        existing.status == ConversionStatus.REJECTED
        and existing.reason in SYSTEM_REJECT_REASONS
        and requested in (ConversionStatus.PENDING, ConversionStatus.APPROVED)
    ):
        # The partner repeating a postback we refused gets the same answer again.
        return RecordOutcome("rejected", existing, existing.reason)
    if existing.status == ConversionStatus.REJECTED and existing.reason.startswith(
        REJECT_REASON_PREFIX
    ):
        # Rejected by the fraud policy: as final for the partner as our other refusals.
        return RecordOutcome("rejected", existing, existing.reason)
    if is_fraud_hold(existing) and requested == ConversionStatus.APPROVED:
        # Held by the fraud policy: an admin or the advertiser decides, not the partner.
        fields.warnings.append("held for review by the campaign's fraud policy; stays pending")
        return RecordOutcome("duplicate", existing)
    if (
        not fields.status_given
        and requested == EventInitialStatus.PENDING
        and existing.status != ConversionStatus.PENDING
    ):
        # A repeat without a status of a conversion decided since: nothing to change.
        return RecordOutcome("duplicate", existing)
    if not conversion_transition_check(from_status=existing.status, to_status=requested):
        return RecordOutcome("duplicate", existing)
    if existing.status == ConversionStatus.REJECTED:
        if not fields.reason:
            raise ApplicationError(
                "Re-approving a rejected conversion needs a reason.",
                code="reason_required",
                fields={"reason": ["Required to re-approve a rejected conversion."]},
            )
        payout = conversion_price(
            event=existing.event,
            rule=existing.pricing_rule,
            revenue=existing.revenue if fields.payout is None else fields.payout,
        ).payout
        if has_caps and not caps_consume(
            campaign=existing.campaign,
            event_id=existing.event_id,
            affiliate_id=existing.affiliate_id,
            payout=payout,
            at=now,
        ):
            return RecordOutcome("rejected", existing, REASON_CAP_REACHED)
    conversion_transition_apply(
        conversion=existing,
        to_status=requested,
        source=source,
        actor=None,
        reason=_partner_reason(fields),
        now=now,
        revenue=fields.payout if requested == ConversionStatus.APPROVED else None,
        foreign=foreign,
        postback_log_id=log_id,
        may_forward=may_forward,
        partner_status=fields.partner_status,
    )
    return RecordOutcome("updated", existing)


def conversion_record(
    *,
    attribution: ClickAttribution,
    fields: PostbackFields,
    partner_key: PartnerKey | None,
    source: str,
    log_id: uuid.UUID,
    now: dt.datetime,
) -> RecordOutcome:
    """Create the conversion of this postback, or move the existing one. Inside a transaction.

    The insert decides (INSERT ... ON CONFLICT DO NOTHING, no savepoint): when it writes nothing,
    the conversion exists (PostgreSQL waited for a concurrent insert of the same identity to
    commit), and it is locked and moved through the status machine instead.
    """
    click = attribution.click
    hints = {"has_caps": attribution.has_caps, "may_forward": attribution.may_forward}
    campaign = click.campaign
    foreign = postback_amount_convert(fields=fields, to_currency=campaign.currency, now=now)
    if foreign is not None:
        fields.payout = foreign.converted
    event = attribution.event or event_for_postback(campaign_id=campaign.pk, code=fields.event)
    if not fields.status_given:
        fields.status = event.initial_status
    if event.allow_multiple and not fields.transaction_id:
        raise ApplicationError(
            f"The event {event.code!r} allows several conversions per click: each needs a "
            "transaction_id.",
            code="missing_transaction_id",
            fields={"transaction_id": ["This parameter is required for this campaign."]},
        )
    if fields.affiliate_id and fields.affiliate_id != str(click.affiliate_id):
        fields.warnings.append(
            f"affiliate_id {fields.affiliate_id[:40]!r} does not match the click's affiliate"
        )
    dedupe_slot = fields.transaction_id if event.allow_multiple else ""
    if fields.status == ConversionStatus.REVERSED:
        existing = _conversion_existing_for_update(
            click=click,
            campaign=campaign,
            event=event,
            transaction_id=fields.transaction_id,
            dedupe_slot=dedupe_slot,
        )
        if existing is None:
            raise ApplicationError(
                "There is no conversion to reverse for this click.",
                code="invalid_transition",
                status=409,
            )
        return _conversion_update(
            existing=existing,
            fields=fields,
            foreign=foreign,
            source=source,
            log_id=log_id,
            now=now,
            **hints,
        )

    status, reason = fields.status, _partner_reason(fields)
    if click.blocked_reason:
        status, reason = ConversionStatus.REJECTED, REASON_CLICK_BLOCKED
    elif now - click.created_at > dt.timedelta(hours=campaign.attribution_window_hours):
        status, reason = ConversionStatus.REJECTED, REASON_OUTSIDE_ATTRIBUTION_WINDOW
    fraud_signals: list[str] = []
    if campaign.fraud_policy and status != ConversionStatus.REJECTED:
        verdict = conversion_fraud_decide(
            campaign=campaign,
            click=click,
            postback_ip=fields.ip,
            conversion_ip=fields.ip or (click.ip or ""),
            now=now,
        )
        fraud_signals = verdict.signals
        if verdict.status:
            status, reason = verdict.status, verdict.reason
    country = fields.country or click.country
    rules = (
        pricing_rule_candidates(
            campaign_id=campaign.pk,
            event_id=event.pk,
            affiliate_id=click.affiliate_id,
            country=country,
            sub1=click.sub1,
            at=now,
        )
        if attribution.has_rules
        else []
    )
    rule = rules[0] if rules else None
    price = conversion_price(event=event, rule=rule, revenue=fields.payout)
    revenue, payout = price.revenue, price.payout
    conversion = Conversion(
        click=click,
        campaign=campaign,
        affiliate_id=click.affiliate_id,
        partner_key=partner_key,
        event=event,
        pricing_rule=rule,
        dedupe_slot=dedupe_slot,
        transaction_id=fields.transaction_id,
        external_conversion_id=fields.conversion_id,
        offer_id=fields.partner_offer_id,
        status=status,
        reason=reason[:255],
        currency=campaign.currency,
        revenue=revenue,
        payout=payout,
        original_amount=None if foreign is None else foreign.amount,
        original_currency="" if foreign is None else foreign.currency,
        exchange_rate=None if foreign is None else foreign.rate,
        user_id=click.user_id or fields.user_id,
        country=country,
        device_id=fields.device_id,
        ip=fields.ip or (click.ip or ""),
        user_agent=fields.user_agent or click.user_agent,
        sub_ids=fields.sub_ids,
        custom_data=fields.custom_data,
        fraud_signals=fraud_signals,
        created_at=now,
        updated_at=now,
        approved_at=now if status == ConversionStatus.APPROVED else None,
    )
    conversion.points_awarded = points_awarded_for(conversion=conversion, status=status)
    if not model_insert(conversion, on_conflict_do_nothing=True):
        existing = _conversion_existing_for_update(
            click=click,
            campaign=campaign,
            event=event,
            transaction_id=fields.transaction_id,
            dedupe_slot=dedupe_slot,
        )
        if existing is None:
            raise ApplicationError(
                "A concurrent change conflicted with this postback; send it again.",
                code="conflict",
                status=409,
            )
        return _conversion_update(
            existing=existing,
            fields=fields,
            foreign=foreign,
            source=source,
            log_id=log_id,
            now=now,
            **hints,
        )
    if (
        attribution.has_caps
        and status in (ConversionStatus.PENDING, ConversionStatus.APPROVED)
        and not caps_consume(
            campaign=campaign,
            event_id=event.pk,
            affiliate_id=click.affiliate_id,
            payout=payout,
            at=now,
        )
    ):
        conversion.status = ConversionStatus.REJECTED
        conversion.reason = REASON_CAP_REACHED
        conversion.approved_at = None
        conversion.points_awarded = Decimal(0)
        conversion.save(update_fields=["status", "reason", "approved_at", "points_awarded"])
    conversion_created_apply(
        conversion=conversion,
        source=source,
        postback_log_id=log_id,
        now=now,
        may_forward=attribution.may_forward,
        partner_status=fields.partner_status,
    )
    if conversion.status == ConversionStatus.REJECTED:
        if conversion.reason.startswith(REJECT_REASON_PREFIX):
            _fraud_rejections_alert(conversion=conversion, now=now)
        return RecordOutcome("rejected", conversion, conversion.reason)
    return RecordOutcome("created", conversion)


FRAUD_ALERT_RULE = "conversion_fraud_rejections"


def _fraud_rejections_alert(*, conversion: Conversion, now: dt.datetime) -> None:
    """The operator's `fraud.threshold` event, once per campaign, affiliate and clock hour, when
    the affiliate's conversions rejected for fraud on the campaign reach the policy's
    `alert_fraud_rejections_per_hour`. Counted only when one is rejected (rare), in the same
    transaction: the event exists exactly when the rejection committed."""
    campaign = conversion.campaign
    threshold = fraud_policy_threshold(campaign.fraud_policy, "alert_fraud_rejections_per_hour")
    hour = now.replace(minute=0, second=0, microsecond=0)
    count = Conversion.objects.filter(
        campaign_id=campaign.pk,
        affiliate_id=conversion.affiliate_id,
        created_at__gte=hour,
        created_at__lt=hour + dt.timedelta(hours=1),
        status=ConversionStatus.REJECTED,
        reason__startswith=REJECT_REASON_PREFIX,
    ).count()
    if count >= threshold:
        operator_event_fraud_threshold(
            rule=FRAUD_ALERT_RULE,
            affiliate_id=conversion.affiliate_id,
            campaign_id=campaign.pk,
            count=count,
            threshold=threshold,
            window_start=hour,
            window_end=hour + dt.timedelta(hours=1),
            now=now,
        )


# --- auto-approval (scheduled) -----------------------------------------------------------------

AUTO_APPROVE_BATCH = 1000
AUTO_APPROVE_REASON = "auto_approved"


@transaction.atomic
def conversion_auto_approve(*, conversion_id: int, now: dt.datetime | None = None) -> bool:
    """Approve one pending conversion whose campaign's `auto_approve_after_hours` has passed.

    Locks the row and checks it is still pending and due before calling
    `conversion_status_change` (source `system`), so a conversion rejected meanwhile is never
    re-approved. True when it was approved by this call.
    """
    now = now or timezone.now()
    conversion = (
        Conversion.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(pk=conversion_id)
        .first()
    )
    if conversion is None or conversion.status != ConversionStatus.PENDING:
        return False
    if is_fraud_hold(conversion):
        return False
    hours = conversion.campaign.auto_approve_after_hours
    if hours is None or conversion.created_at > now - dt.timedelta(hours=hours):
        return False
    conversion_status_change(
        conversion_id=conversion_id,
        status=ConversionStatus.APPROVED,
        actor=None,
        reason=AUTO_APPROVE_REASON,
        source=ChangeSource.SYSTEM,
    )
    return True


def conversions_auto_approve_due(*, now: dt.datetime | None = None) -> int:
    """Auto-approve every due pending conversion (one transaction each); how many were approved."""
    now = now or timezone.now()
    approved = 0
    campaigns = Campaign.objects.filter(auto_approve_after_hours__isnull=False).values_list(
        "pk", "auto_approve_after_hours"
    )
    for campaign_id, hours in campaigns:
        if hours is None:  # excluded by the filter; the row type cannot say so
            continue
        due = Conversion.objects.filter(
            campaign_id=campaign_id,
            status=ConversionStatus.PENDING,
            created_at__lte=now - dt.timedelta(hours=hours),
        ).exclude(reason__startswith=HOLD_REASON_PREFIX)
        due = due.order_by("created_at")
        for conversion_id in list(due.values_list("pk", flat=True)[:AUTO_APPROVE_BATCH]):
            if conversion_auto_approve(conversion_id=conversion_id, now=now):
                approved += 1
    return approved

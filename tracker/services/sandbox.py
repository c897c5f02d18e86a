"""The postback sandbox: what a partner's postback would do, without doing it.

The full postback service runs (parsing, the key's profile, click lookup, event, pricing rule,
caps, the status machine, the ledger, the forwarding outbox, the log row) inside a transaction
that is always rolled back. Nothing it writes survives, and no task reaches the broker: the
outbox publishes only after a commit that never happens. The answer reads the rows the run
wrote before they are rolled back. Only the key's allowlist and signature are not checked: the
sandbox is called by the key's owner through the API, not by the partner's server.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from campaigns.caps import cap_period_start
from campaigns.models import Cap, CapCounter, PartnerKey
from core.exceptions import ApplicationError
from forwarding.models import Delivery
from payouts.models import LedgerEntry, OwnerType
from tracker.fraud import conversion_fraud_trace
from tracker.models import Conversion
from tracker.postback_params import ENDPOINT_SANDBOX, PostbackInbound
from tracker.services.postbacks import postback_receive

SANDBOX_MAX_PARAMS = 100


@dataclass
class SandboxReport:
    """What the postback would have done: `result` (or `error`), the conversion, its event and
    pricing rule, the money, every cap's counter before and after, the ledger entries, the
    forwards that would be queued and the fraud checks with their inputs."""

    result: str = ""
    reason: str = ""
    error: ApplicationError | None = None
    conversion: dict[str, Any] | None = None
    caps: list[dict[str, Any]] = field(default_factory=list)
    ledger_entries: list[dict[str, Any]] = field(default_factory=list)
    forwards: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fraud: list[dict[str, Any]] = field(default_factory=list)


def _money(amount: Decimal) -> str:
    return f"{amount:.4f}"


def _cap_usage(*, partner_key: PartnerKey, now: dt.datetime) -> dict[int, dict[str, Any]]:
    """Every cap of the key's advertiser's campaigns with what its current period has used
    (per-affiliate caps: one entry per affiliate counter; none yet: 0)."""
    usage: dict[int, dict[str, Any]] = {}
    caps = Cap.objects.filter(campaign__advertiser_id=partner_key.advertiser_id).select_related(
        "campaign", "event"
    )
    for cap in caps:
        period_start = cap_period_start(
            period=cap.period, at=now, timezone_name=cap.campaign.timezone
        )
        counters = {
            counter.affiliate_key: counter.used
            for counter in CapCounter.objects.filter(cap=cap, period_start=period_start)
        }
        usage[cap.pk] = {
            "cap_id": cap.pk,
            "campaign_id": cap.campaign_id,
            "event": cap.event.code if cap.event else None,
            "scope": cap.scope,
            "period": cap.period,
            "metric": cap.metric,
            "limit": _money(cap.limit),
            "period_start": period_start.isoformat(),
            "used": {str(key): _money(used) for key, used in sorted(counters.items())},
        }
    return usage


def _conversion_view(conversion: Conversion) -> dict[str, Any]:
    return {
        "id": conversion.pk,
        "click_id": conversion.click.click_id,
        "campaign_id": conversion.campaign_id,
        "affiliate_id": conversion.affiliate_id,
        "event": conversion.event.code,
        "event_name": conversion.event.name,
        "pricing_rule_id": conversion.pricing_rule_id,
        "transaction_id": conversion.transaction_id,
        "status": conversion.status,
        "reason": conversion.reason,
        "fraud_signals": conversion.fraud_signals,
        "currency": conversion.currency,
        "revenue": _money(conversion.revenue),
        "payout": _money(conversion.payout),
        "points_awarded": _money(conversion.points_awarded),
        # Set when the postback's payout was in another currency than the campaign's.
        "original_amount": (
            None if conversion.original_amount is None else _money(conversion.original_amount)
        ),
        "original_currency": conversion.original_currency,
        "exchange_rate": (
            None if conversion.exchange_rate is None else str(conversion.exchange_rate)
        ),
    }


class _RolledBack(Exception):
    """Raised to leave the sandbox's transaction by rolling it back."""


def postback_sandbox(
    *, partner_key: PartnerKey, params: dict[str, str], now: dt.datetime | None = None
) -> SandboxReport:
    """Run the postback `params` (our parameter names or the key's profile's) for `partner_key`
    in a transaction that is rolled back, and answer what it would have done.

    Too many parameters: 400 `too_many_params`. Everything the real postback refuses is answered
    as the report's `error` (with its code), as the real postback would answer it.
    """
    if len(params) > SANDBOX_MAX_PARAMS:
        raise ApplicationError(f"At most {SANDBOX_MAX_PARAMS} parameters.", code="too_many_params")
    now = now or timezone.now()
    report = SandboxReport()
    inbound = PostbackInbound(
        endpoint=ENDPOINT_SANDBOX,
        method="POST",
        query_string=urlencode(params).encode(),
        body=b"",
        content_type="",
        source_ip=None,
        path_key=partner_key.key,
        authorized_key=partner_key,
    )
    with transaction.atomic():
        ledger_before = LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True)
        last_entry = ledger_before.first() or 0
        last_delivery = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first()
        caps_before = _cap_usage(partner_key=partner_key, now=now)
        result = postback_receive(inbound=inbound, now=now)
        report.result, report.reason, report.error = result.result, result.reason, result.error
        if result.conversion is not None:
            conversion = Conversion.objects.select_related("click", "event", "campaign").get(
                pk=result.conversion.pk
            )
            report.conversion = _conversion_view(conversion)
            report.fraud = conversion_fraud_trace(conversion)
        caps_after = _cap_usage(partner_key=partner_key, now=now)
        report.caps = [
            {**after, "used_before": caps_before.get(cap_id, {}).get("used", {})}
            for cap_id, after in caps_after.items()
            if after["used"] != caps_before.get(cap_id, {}).get("used", {})
            or (report.conversion and after["campaign_id"] == report.conversion["campaign_id"])
        ]
        entries = LedgerEntry.objects.filter(pk__gt=last_entry).select_related(
            "account", "transaction"
        )
        report.ledger_entries = [
            {
                "transaction_kind": entry.transaction.kind,
                "owner_type": entry.account.owner_type,
                "owner_id": entry.account.owner_id,
                "account": entry.account.kind,
                "currency": entry.account.currency,
                "amount": _money(entry.amount),
            }
            for entry in entries.order_by("pk")
        ]
        # The affiliates' endpoints only: operator webhooks are the network's, not the key's.
        deliveries = Delivery.objects.filter(
            Q(pk__gt=last_delivery) if last_delivery else Q(), endpoint__isnull=False
        ).select_related("endpoint")
        report.forwards = [
            {
                "endpoint_id": delivery.endpoint_id,
                "endpoint_name": delivery.endpoint.name if delivery.endpoint else "",
                "status_event": delivery.event,
                "method": delivery.endpoint.method if delivery.endpoint else "",
            }
            for delivery in deliveries.order_by("pk")
        ]
        # Everything above is undone when the block exits, the outbox's on-commit publishing
        # included.
        transaction.set_rollback(True)
    return report


def sandbox_report_view(*, report: SandboxReport, viewer: User) -> dict[str, Any]:
    """The report as `viewer` may read it: an advertiser reads its own ledger lines and never
    the affiliate's payout (as everywhere else); an admin reads everything."""
    error = report.error
    conversion = dict(report.conversion) if report.conversion else None
    entries = report.ledger_entries
    if not viewer.is_network_admin:
        if conversion is not None:
            conversion.pop("payout", None)
            conversion.pop("points_awarded", None)
        entries = [
            entry
            for entry in entries
            if entry["owner_type"] == OwnerType.ADVERTISER and entry["owner_id"] == viewer.pk
        ]
    return {
        "result": report.result,
        "reason": report.reason,
        "http_status": error.status if error else 200,
        "error": (
            {"code": error.code, "message": error.message, "fields": error.fields or {}}
            if error
            else None
        ),
        "conversion": conversion,
        "caps": report.caps
        if viewer.is_network_admin
        else [cap for cap in report.caps if cap["metric"] != "payout"],
        "ledger_entries": entries,
        "forwards": report.forwards,
        "fraud": report.fraud,
    }

"""Why a click went where it went and why a conversion was paid what it was: decision traces.

Read-only, scoped like the objects (the tracker selectors decide who sees the click or the
conversion; a forbidden one is a 404), and redacted like them: affiliates never read revenue or
the partner's raw parameters, advertisers never the affiliate's payout of a conversion.

The pricing trace re-ranks the campaign's rules as they are now at the conversion's creation
time; the conversion keeps the rule that actually priced it (`pricing_rule_id`), and the trace
says so when today's ranking would choose another one (a rule edited or added since).
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from accounts.models import User
from campaigns.caps import cap_period_start
from campaigns.models import Cap, CapCounter, CapScope, ConversionEvent, PricingRule
from campaigns.pricing_rules import pricing_rule_describe, pricing_rules_ranked
from core.exceptions import NotFoundError
from tracker.fraud import click_fraud_trace, conversion_fraud_trace
from tracker.models import Click, Conversion, PostbackLog
from tracker.selectors import MARGIN, PAYOUT, REVENUE, click_list, conversion_get, money_visible
from tracker.targeting import targeting_block_reason

# The original amount is the partner's payout (revenue) before conversion; with its rate it
# would give the revenue away, so affiliates get neither.
_REVENUE_KEYS = frozenset(
    {
        "revenue",
        "revenue_amount",
        "default_revenue",
        "partner_params",
        "original_amount",
        "original_currency",
        "exchange_rate",
    }
)
_PAYOUT_KEYS = frozenset({"payout", "points_awarded"})


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.4f}"


def _rate(rate: Decimal | None) -> str | None:
    return None if rate is None else str(rate)


def _terms(source: ConversionEvent | PricingRule) -> dict[str, Any]:
    terms: dict[str, Any] = {"payout_type": source.payout_type}
    if source.payout_type == "fixed":
        terms["payout_amount"] = _money(source.payout_amount)
    else:
        terms["revshare_percent"] = _money(source.revshare_percent)
    return terms


def _rule_view(rule: PricingRule, *, won: bool) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "applies_to": pricing_rule_describe(rule),
        "specificity": rule.specificity,
        "starts_at": rule.starts_at,
        "ends_at": rule.ends_at,
        "revenue_amount": _money(rule.revenue_amount),
        "won": won,
        **_terms(rule),
    }


def _caps_view(*, conversion: Conversion) -> list[dict[str, Any]]:
    caps = Cap.objects.filter(campaign_id=conversion.campaign_id).select_related("event")
    views = []
    for cap in caps.order_by("id"):
        if cap.event_id not in (None, conversion.event_id):
            continue
        period_start = cap_period_start(
            period=cap.period, at=conversion.created_at, timezone_name=conversion.campaign.timezone
        )
        affiliate_key = conversion.affiliate_id if cap.scope == CapScope.AFFILIATE else 0
        used = (
            CapCounter.objects.filter(
                cap=cap, affiliate_key=affiliate_key, period_start=period_start
            )
            .values_list("used", flat=True)
            .first()
        )
        views.append(
            {
                "cap_id": cap.pk,
                "event": cap.event.code if cap.event else None,
                "scope": cap.scope,
                "period": cap.period,
                "metric": cap.metric,
                "period_start": period_start.isoformat(),
                "limit": _money(cap.limit),
                "used": _money(used if used is not None else Decimal(0)),
                "is_reached": used is not None and used >= cap.limit,
            }
        )
    return views


def _window_view(*, conversion: Conversion, click: Click) -> dict[str, Any]:
    hours = conversion.campaign.attribution_window_hours
    age = conversion.created_at - click.created_at
    return {
        "click_at": click.created_at,
        "conversion_at": conversion.created_at,
        "seconds_after_click": int(age.total_seconds()),
        "window_hours": hours,
        "within_window": age <= dt.timedelta(hours=hours),
    }


def _history_view(conversion: Conversion) -> list[dict[str, Any]]:
    history = list(conversion.history.select_related("actor").order_by("id"))
    log_ids = [row.postback_log_id for row in history if row.postback_log_id]
    logs = {log.pk: log for log in PostbackLog.objects.filter(pk__in=log_ids)}
    views = []
    for row in history:
        log = logs.get(row.postback_log_id) if row.postback_log_id else None
        views.append(
            {
                "at": row.created_at,
                "from_status": row.from_status,
                "to_status": row.to_status,
                "source": row.source,
                "actor": row.actor.email if row.actor else None,
                "reason": row.reason,
                "revenue": _money(row.revenue),
                "payout": _money(row.payout),
                "request": None
                if log is None
                else {
                    "log_id": str(log.pk),
                    "received_at": log.received_at,
                    "endpoint": log.endpoint,
                    "method": log.method,
                    "source_ip": log.source_ip,
                    "partner_params": log.params,
                    "warnings": log.warnings,
                },
            }
        )
    return views


def explanation_redact(value: Any, *, hidden: frozenset[str]) -> Any:
    """`value` without the keys `hidden` names, at any depth."""
    if isinstance(value, dict):
        return {
            key: explanation_redact(item, hidden=hidden)
            for key, item in value.items()
            if key not in hidden
        }
    if isinstance(value, list):
        return [explanation_redact(item, hidden=hidden) for item in value]
    return value


def _hidden_for(viewer: User) -> frozenset[str]:
    visible = money_visible(viewer=viewer)
    hidden: frozenset[str] = frozenset()
    if REVENUE not in visible:
        hidden |= _REVENUE_KEYS
    if PAYOUT not in visible:
        hidden |= _PAYOUT_KEYS
    if MARGIN not in visible:
        hidden |= {"margin"}
    return hidden


def conversion_explain(*, viewer: User, conversion_id: int) -> dict[str, Any]:
    """The decision trace of one conversion the viewer may see (404 otherwise), redacted for
    the viewer."""
    conversion = conversion_get(viewer=viewer, conversion_id=conversion_id)
    return explanation_redact(
        conversion_trace(conversion_id=conversion.pk), hidden=_hidden_for(viewer)
    )


def conversion_trace(*, conversion_id: int) -> dict[str, Any]:
    """The whole decision trace of a conversion, unscoped and unredacted: for the operator's
    console, or after `conversion_explain` decided the viewer may see it."""
    conversion = Conversion.objects.select_related(
        "click", "campaign", "event", "pricing_rule__event"
    ).get(pk=conversion_id)
    click, event = conversion.click, conversion.event
    rules = PricingRule.objects.filter(campaign_id=conversion.campaign_id).select_related("event")
    ranked = pricing_rules_ranked(
        rules,
        event_id=event.pk,
        affiliate_id=conversion.affiliate_id,
        country=conversion.country,
        sub1=click.sub1,
        at=conversion.created_at,
    )
    priced_by = conversion.pricing_rule
    trace = {
        "conversion": {
            "id": conversion.pk,
            "status": conversion.status,
            "reason": conversion.reason,
            "transaction_id": conversion.transaction_id,
            "currency": conversion.currency,
            "revenue": _money(conversion.revenue),
            "payout": _money(conversion.payout),
            "margin": _money(conversion.revenue - conversion.payout),
            "points_awarded": _money(conversion.points_awarded),
            "original_amount": _money(conversion.original_amount),
            "original_currency": conversion.original_currency,
            "exchange_rate": _rate(conversion.exchange_rate),
            "created_at": conversion.created_at,
            "fraud_signals": conversion.fraud_signals,
        },
        "click": {
            "click_id": click.click_id,
            "created_at": click.created_at,
            "country": click.country,
            "sub1": click.sub1,
            "blocked_reason": click.blocked_reason,
        },
        "window": _window_view(conversion=conversion, click=click),
        "event": {
            "code": event.code,
            "name": event.name,
            "is_default": event.is_default,
            "initial_status": event.initial_status,
            "allow_multiple": event.allow_multiple,
            "default_revenue": _money(event.default_revenue),
            **_terms(event),
        },
        "pricing": {
            "matched_on": {
                "event": event.code,
                "affiliate_id": conversion.affiliate_id,
                "country": conversion.country,
                "sub1": click.sub1,
                "at": conversion.created_at,
            },
            "priced_by": "event" if priced_by is None else "pricing_rule",
            "pricing_rule_id": conversion.pricing_rule_id,
            "candidates": [
                _rule_view(rule, won=rule.pk == conversion.pricing_rule_id) for rule in ranked
            ],
            "ranking_changed_since": (ranked[0].pk if ranked else None)
            != conversion.pricing_rule_id,
        },
        "caps": _caps_view(conversion=conversion),
        "fraud": conversion_fraud_trace(conversion),
        "history": _history_view(conversion),
    }
    return trace


def click_explain(*, viewer: User, click_id: str) -> dict[str, Any]:
    """The trace of one click the viewer may see, by its click id (404 otherwise): where it
    went and why, and the conversions it brought."""
    click = (
        click_list(viewer=viewer)
        .filter(click_id=click_id)
        .select_related("campaign", "link")
        .first()
    )
    if click is None:
        raise NotFoundError("Click not found.")
    campaign = click.campaign
    conversions = [
        {
            "id": conversion.pk,
            "event": conversion.event.code,
            "status": conversion.status,
            "reason": conversion.reason,
            "pricing_rule_id": conversion.pricing_rule_id,
            "revenue": _money(conversion.revenue),
            "payout": _money(conversion.payout),
            "created_at": conversion.created_at,
        }
        for conversion in click.conversions.select_related("event").order_by("id")
    ]
    trace = {
        "click": {
            "click_id": click.click_id,
            "created_at": click.created_at,
            "campaign_id": click.campaign_id,
            "affiliate_id": click.affiliate_id,
            "link": click.link.token,
            "ip": click.ip,
            "user_agent": click.user_agent,
            "country": click.country,
            "device_type": click.device_type,
            "os": click.os,
            "browser": click.browser,
            "landing_page_id": click.landing_page_id,
            "sub1": click.sub1,
            "is_unique": click.is_unique,
        },
        "decision": {
            "went_to": "fallback" if click.blocked_reason else "landing_page",
            "blocked_reason": click.blocked_reason,
            "checks": {
                "campaign_status": campaign.status,
                "allowed_countries": campaign.allowed_countries,
                "country": click.country,
                "country_allowed": not campaign.allowed_countries
                or click.country in campaign.allowed_countries,
                # The campaign's rules as they are now (they may have changed since the click),
                # and the first one the click fails under them (None: it passes).
                "targeting": campaign.targeting,
                "targeting_failed": targeting_block_reason(
                    campaign.targeting or {},
                    country=click.country,
                    device_type=click.device_type,
                    os=click.os,
                    browser=click.browser,
                    ip=click.ip,
                    now=click.created_at,
                    timezone=campaign.timezone,
                ),
            },
            "fraud_signals": click.fraud_signals,
            "fraud": click_fraud_trace(click),
        },
        "conversions": conversions,
    }
    return explanation_redact(trace, hidden=_hidden_for(viewer))

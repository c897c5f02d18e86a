"""Raw traffic rows for the reporting tests, written the way the click and postback services
write them: a click row; a conversion with its first history row; a status change as an UPDATE
plus a history row (the rollups read nothing else). And the rollup rows read back as tuples, to
compare whole tables."""

import datetime as dt
from decimal import Decimal
from typing import Any

from campaigns.models import Campaign, ConversionEvent, LandingPage, SmartLink, TrackingLink
from core import tokens
from reporting.models import HourlyDimStat, HourlyStat
from reporting.services.rollups import METRIC_COLUMNS
from tracker.models import ChangeSource, Click, Conversion, ConversionHistory


def click_add(
    *,
    link: TrackingLink,
    at: dt.datetime,
    country: str = "US",
    subs: tuple[str, str, str, str, str] = ("", "", "", "", ""),
    is_unique: bool = True,
    blocked_reason: str = "",
    **traffic: Any,
) -> Click:
    """A click; `traffic`: its device_type, os, browser, landing_page, smart_link,
    fraud_signals as the click path records them."""
    return Click.objects.create(
        click_id=tokens.new_click_id(),
        link=link,
        affiliate_id=link.affiliate_id,
        campaign_id=link.campaign_id,
        created_at=at,
        ip="203.0.113.10",
        user_agent="Mozilla/5.0 (test)",
        country=country,
        sub1=subs[0],
        sub2=subs[1],
        sub3=subs[2],
        sub4=subs[3],
        sub5=subs[4],
        is_unique=is_unique,
        blocked_reason=blocked_reason,
        **traffic,
    )


def landing_page_add(*, campaign: Campaign, name: str) -> LandingPage:
    return LandingPage.objects.create(
        campaign=campaign, name=name, url=f"https://shop.example/{name.lower()}?c={{click_id}}"
    )


def smart_link_add(*, affiliate_id: int, name: str) -> SmartLink:
    return SmartLink.objects.create(
        affiliate_id=affiliate_id, name=name, token=tokens.new_click_id()
    )


def conversion_add(
    *,
    click: Click,
    status: str,
    at: dt.datetime,
    revenue: Decimal = Decimal("5.0000"),
    payout: Decimal = Decimal("4.0000"),
    transaction_id: str = "",
    event: ConversionEvent | None = None,
) -> Conversion:
    if event is None:
        event = ConversionEvent.objects.get(campaign_id=click.campaign_id, is_default=True)
    conversion = Conversion.objects.create(
        click=click,
        campaign_id=click.campaign_id,
        affiliate_id=click.affiliate_id,
        event=event,
        dedupe_slot=transaction_id,
        transaction_id=transaction_id,
        status=status,
        currency=click.campaign.currency,
        revenue=revenue,
        payout=payout,
        created_at=at,
        updated_at=at,
    )
    ConversionHistory.objects.create(
        conversion=conversion,
        from_status="",
        to_status=status,
        revenue=revenue,
        payout=payout,
        source=ChangeSource.POSTBACK,
        created_at=at,
    )
    return conversion


def conversion_move(*, conversion: Conversion, to_status: str, at: dt.datetime) -> None:
    from_status = conversion.status
    conversion.status = to_status
    conversion.updated_at = at
    conversion.save(update_fields=["status", "updated_at"])
    ConversionHistory.objects.create(
        conversion=conversion,
        from_status=from_status,
        to_status=to_status,
        revenue=conversion.revenue,
        payout=conversion.payout,
        source=ChangeSource.ADMIN,
        created_at=at,
    )


def _metric_values(row) -> list:
    return [getattr(row, column) for column in METRIC_COLUMNS]


def hourly_rows() -> list[tuple]:
    return sorted(
        (row.hour, row.campaign_id, row.affiliate_id, row.currency, *_metric_values(row))
        for row in HourlyStat.objects.all()
    )


def dim_rows(dimension: str | None = None) -> list[tuple]:
    rows = HourlyDimStat.objects.all()
    if dimension:
        rows = rows.filter(dimension=dimension)
    return sorted(
        (
            row.hour,
            row.campaign_id,
            row.affiliate_id,
            row.currency,
            row.dimension,
            row.value,
            *_metric_values(row),
        )
        for row in rows
    )


def metrics(**values) -> tuple:
    """The metric columns in order; money as 4-place Decimals."""
    out = []
    for column in METRIC_COLUMNS:
        value = values.get(column, 0)
        out.append(
            Decimal(value).quantize(Decimal("0.0001")) if column in ("revenue", "payout") else value
        )
    return tuple(out)

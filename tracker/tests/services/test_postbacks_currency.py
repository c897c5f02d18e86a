"""A postback in another currency than its campaign's: converted at that day's exchange rate,
with the original amount, currency and rate kept; without a rate, refused with nothing written;
a reversal takes back exactly what the approval booked, whatever the rates have become since."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminUserFactory
from payouts.exchange_rates import exchange_rate_set, money_convert
from payouts.models import ExchangeRate, LedgerAccount, LedgerEntry, LedgerTransaction
from tracker.explain import conversion_explain
from tracker.models import Conversion, ConversionHistory, EndUserPoints, PostbackLog
from tracker.services.conversions import conversion_status_change
from tracker.services.sandbox import postback_sandbox, sandbox_report_view
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
TODAY = NOW.date()


def _rate(pair: str, rate: str, on: dt.date = TODAY) -> None:
    from_currency, to_currency = pair.split("/")
    exchange_rate_set(
        on=on, from_currency=from_currency, to_currency=to_currency, rate=Decimal(rate)
    )


def _balances() -> dict[tuple[str, int, str, str], Decimal]:
    """Every ledger account's sum of entries."""
    totals: dict[tuple[str, int, str, str], Decimal] = {}
    for account in LedgerAccount.objects.all():
        key = (account.owner_type, account.owner_id, account.kind, account.currency)
        totals[key] = sum(
            LedgerEntry.objects.filter(account=account).values_list("amount", flat=True),
            Decimal(0),
        )
    return totals


def _counts() -> dict[str, int]:
    return {
        "conversions": Conversion.objects.count(),
        "history": ConversionHistory.objects.count(),
        "ledger_transactions": LedgerTransaction.objects.count(),
        "ledger_entries": LedgerEntry.objects.count(),
        "points": EndUserPoints.objects.count(),
    }


@time_machine.travel(NOW, tick=False)
def test_a_foreign_payout_is_converted_at_that_days_rate_and_keeps_the_original(client):
    # given a USD campaign paying 80 % and today's EUR/USD rate (yesterday's differs)
    world = postback_world()
    world.campaign(hold_days=0)
    click = world.click(user_id="end-user-1")
    _rate("EUR/USD", "1.0843")
    _rate("EUR/USD", "2", on=TODAY - dt.timedelta(days=1))

    # when the partner reports 12.35 EUR
    response = client.get(
        world.postback_path,
        {"click_id": click.click_id, "payout": "12.35", "currency": "eur"},
    )

    # then 12.35 x 1.0843 = 13.391105 -> 13.3911 USD revenue, 80 % of it the payout
    assert response.status_code == 200, response.json()
    assert response.json()["result"] == "created"
    conversion = Conversion.objects.get()
    assert (
        conversion.currency,
        conversion.revenue,
        conversion.payout,
        conversion.original_amount,
        conversion.original_currency,
        conversion.exchange_rate,
        conversion.points_awarded,
    ) == (
        "USD",
        Decimal("13.3911"),
        Decimal("10.7129"),
        Decimal("12.3500"),
        "EUR",
        Decimal("1.0843000000"),
        Decimal("10.7129"),
    )
    # and the ledger booked the campaign-currency amounts only
    assert set(LedgerEntry.objects.values_list("account__kind", "account__currency", "amount")) == {
        ("receivable", "USD", Decimal("13.3911")),
        ("revenue", "USD", Decimal("-13.3911")),
        ("payout_expense", "USD", Decimal("10.7129")),
        ("available", "USD", Decimal("-10.7129")),
    }


@time_machine.travel(NOW, tick=False)
def test_the_inverse_rate_is_used_when_only_the_opposite_pair_is_known(client):
    world = postback_world()
    world.campaign(currency="EUR")
    click = world.click()
    _rate("EUR/USD", "1.25")  # so 1 USD = 0.8 EUR

    response = client.get(
        world.postback_path, {"click_id": click.click_id, "payout": "10", "currency": "USD"}
    )

    assert response.status_code == 200, response.json()
    conversion = Conversion.objects.get()
    assert (conversion.revenue, conversion.exchange_rate, conversion.original_currency) == (
        Decimal("8.0000"),
        Decimal("0.8000000000"),
        "USD",
    )


@time_machine.travel(NOW, tick=False)
def test_without_that_days_rate_the_postback_is_refused_and_nothing_is_written(client):
    # given only yesterday's rate, and a campaign whose end users earn points
    world = postback_world()
    world.campaign()
    click = world.click(user_id="end-user-1")
    _rate("EUR/USD", "1.08", on=TODAY - dt.timedelta(days=1))
    before = _counts()

    response = client.get(
        world.postback_path, {"click_id": click.click_id, "payout": "5", "currency": "EUR"}
    )

    body = response.json()
    assert response.status_code == 400
    assert (body["status"], body["code"]) == ("error", "no_exchange_rate")
    assert body["message"] == (
        "No exchange rate from EUR to USD for 2026-12-01: this campaign is paid in USD."
    )
    assert (
        _counts()
        == before
        == {
            "conversions": 0,
            "history": 0,
            "ledger_transactions": 0,
            "ledger_entries": 0,
            "points": 0,
        }
    )
    log = PostbackLog.objects.get()
    assert (log.outcome, log.http_status, log.code) == ("error", 400, "no_exchange_rate")


@time_machine.travel(NOW, tick=False)
def test_the_campaigns_own_currency_or_no_payout_needs_no_rate(client):
    world = postback_world()
    world.campaign(default_revenue=Decimal("3"))
    first, second = world.click(), world.click()

    own = client.get(
        world.postback_path, {"click_id": first.click_id, "payout": "5", "currency": "USD"}
    )
    default = client.get(world.postback_path, {"click_id": second.click_id, "currency": "EUR"})

    assert (own.status_code, default.status_code) == (200, 200)
    assert list(
        Conversion.objects.order_by("id").values_list(
            "revenue", "original_amount", "original_currency", "exchange_rate"
        )
    ) == [(Decimal("5.0000"), None, "", None), (Decimal("3.0000"), None, "", None)]


@time_machine.travel(NOW, tick=False)
def test_a_pending_conversion_approved_later_in_a_foreign_currency_is_repriced(client):
    # given a pending conversion priced in USD, then today's GBP rate
    world = postback_world()
    world.campaign()
    click = world.click()
    client.get(
        world.postback_path, {"click_id": click.click_id, "status": "pending", "payout": "4"}
    )
    _rate("GBP/USD", "1.27")

    # when the partner approves it with 10 GBP
    response = client.get(
        world.postback_path,
        {"click_id": click.click_id, "status": "approved", "payout": "10", "currency": "GBP"},
    )

    # then it is re-priced in USD at today's rate, and keeps what the partner sent
    assert response.json()["result"] == "updated"
    conversion = Conversion.objects.get()
    assert (
        conversion.status,
        conversion.revenue,
        conversion.payout,
        conversion.original_amount,
        conversion.original_currency,
        conversion.exchange_rate,
    ) == (
        "approved",
        Decimal("12.7000"),
        Decimal("10.1600"),
        Decimal("10.0000"),
        "GBP",
        Decimal("1.2700000000"),
    )


amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**8), places=4)
rates = st.decimals(
    min_value=Decimal("0.0000010000"), max_value=Decimal("99999.9999999999"), places=10
)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=amounts,
    rate=rates,
    later_rate=rates,
    percent=st.decimals(min_value=0, max_value=100, places=2),
    reverse_by_partner=st.booleans(),
)
def test_a_foreign_conversion_then_its_reversal_leaves_every_account_at_zero(
    amount, rate, later_rate, percent, reverse_by_partner
):
    with transaction.atomic(), time_machine.travel(NOW, tick=False):
        # given a USD campaign and a CHF rate for today
        world = postback_world()
        world.campaign(hold_days=0, revshare_percent=percent)
        click = world.click(user_id="end-user")
        _rate("CHF/USD", str(rate))
        client = Client()

        # when the partner approves `amount` CHF
        approved = client.get(
            world.postback_path,
            {"click_id": click.click_id, "payout": str(amount), "currency": "CHF"},
        )
        assert approved.status_code == 200, approved.json()
        conversion = Conversion.objects.get()
        assert conversion.revenue == money_convert(amount=amount, rate=rate)
        assert (conversion.original_amount, conversion.exchange_rate) == (amount, rate)

        # and the day's rate changes (or disappears) before the reversal
        if reverse_by_partner:
            _rate("CHF/USD", str(later_rate))
            reversed_ = client.get(
                world.postback_path,
                {
                    "click_id": click.click_id,
                    "status": "reversed",
                    "payout": str(amount),
                    "currency": "CHF",
                },
            )
            assert reversed_.status_code == 200, reversed_.json()
        else:
            ExchangeRate.objects.all().delete()
            conversion_status_change(
                conversion_id=conversion.pk,
                status="reversed",
                actor=None,
                reason="chargeback",
                source="admin",
            )

        # then every ledger account is back at zero, end-user points too
        balances = _balances()
        assert balances
        assert set(balances.values()) == {Decimal(0)}
        assert sum(EndUserPoints.objects.values_list("points", flat=True), Decimal(0)) == 0
        conversion.refresh_from_db()
        assert (conversion.status, conversion.exchange_rate) == ("reversed", rate)
        transaction.set_rollback(True)


@time_machine.travel(NOW, tick=False)
def test_the_sandbox_and_the_explanation_show_the_conversion_to_who_may_see_revenue(client):
    # given a USD campaign and today's EUR/USD rate
    world = postback_world()
    world.campaign()
    click = world.click()
    _rate("EUR/USD", "1.1")
    params = {"click_id": click.click_id, "payout": "10", "currency": "EUR"}

    # when the advertiser tries the postback in the sandbox, then sends it
    report = postback_sandbox(partner_key=world.partner_key, params=params)
    sent = client.get(world.postback_path, params)
    conversion_id = sent.json()["conversion_id"]

    # then both show the original amount, currency and rate next to the converted revenue
    seen = sandbox_report_view(report=report, viewer=world.advertiser.user)["conversion"]
    assert (
        seen["revenue"],
        seen["original_amount"],
        seen["original_currency"],
        seen["exchange_rate"],
    ) == ("11.0000", "10.0000", "EUR", "1.1000000000")
    explained = conversion_explain(viewer=world.advertiser.user, conversion_id=conversion_id)
    assert {
        key: explained["conversion"][key]
        for key in ("currency", "revenue", "original_amount", "original_currency", "exchange_rate")
    } == {
        "currency": "USD",
        "revenue": "11.0000",
        "original_amount": "10.0000",
        "original_currency": "EUR",
        "exchange_rate": "1.1000000000",
    }
    # and the affiliate, who never reads revenue, gets none of it
    for_affiliate = conversion_explain(viewer=world.affiliate.user, conversion_id=conversion_id)
    assert not {"revenue", "original_amount", "original_currency", "exchange_rate"} & set(
        for_affiliate["conversion"]
    )


@time_machine.travel(NOW, tick=False)
def test_the_console_shows_what_the_partner_paid_and_the_rate(client):
    world = postback_world()
    world.campaign()
    click = world.click()
    _rate("EUR/USD", "1.1")
    client.get(world.postback_path, {"click_id": click.click_id, "payout": "10", "currency": "EUR"})
    conversion = Conversion.objects.get()
    client.force_login(AdminUserFactory())

    response = client.get(reverse("admin:tracker_conversion_change", args=[conversion.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "€10.00 at 1 EUR = 1.1000000000 USD" in page
    assert 'id="explanation-converted">€10.00 at 1 EUR = 1.1000000000 USD</dd>' in page

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.http import StreamingHttpResponse

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from payouts import exports, ledger, services
from payouts.models import LedgerEntry, PayoutRequest
from payouts.tests.factories import conversion_approve, conversion_status_change

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def test_statement_csv_lists_every_line_with_its_conversion_and_running_balance(settings):
    # given: approved with a 1-day hold, released, a payout requested, a second conversion
    # approved and reversed, and a manual debit whose reason looks like a spreadsheet formula
    settings.PAYOUT_MINIMUM_AMOUNT = "1"
    admin, affiliate, advertiser = AdminUserFactory(), AffiliateFactory(), AdvertiserFactory()
    with time_machine.travel(T0, tick=False):
        first, _ = conversion_approve(
            affiliate=affiliate, advertiser=advertiser, payout=Decimal("10"), hold_days=1, at=T0
        )
    day2 = T0 + timedelta(days=1)
    with time_machine.travel(day2, tick=False):
        ledger.ledger_hold_release_due(now=day2)
        payout = services.payout_request_create(affiliate=affiliate, amount="4", currency="USD")
        second, _ = conversion_approve(
            affiliate=affiliate, advertiser=advertiser, payout=Decimal("2.5")
        )
        conversion_status_change(
            conversion_id=second,
            affiliate=affiliate,
            advertiser=advertiser,
            from_status="approved",
            to_status="reversed",
            payout=Decimal("2.5"),
        )
        ledger.ledger_adjustment_post(
            affiliate_id=affiliate.user_id,
            currency="USD",
            amount=Decimal("-1.25"),
            reason="=fee, formula-looking",
            actor=admin,
        )
    ids = list(
        LedgerEntry.objects.filter(
            account__owner_type="affiliate", account__owner_id=affiliate.user_id
        )
        .order_by("id")
        .values_list("id", "transaction_id")
    )

    # when
    text = "".join(exports.statement_csv(affiliate_id=affiliate.user_id, currency="USD"))

    # then
    d1, d2 = "2026-04-01T09:30:00+00:00", "2026-04-02T09:30:00+00:00"
    rows = [
        f"{d1},conversion_approved,pending,10.0000,10.0000,conversion,{first},{first},"
        f"conversion {first}: pending -> approved",
        f"{d2},hold_released,pending,-10.0000,0.0000,conversion,{first},{first},"
        f"hold released for transaction {ids[0][1]}",
        f"{d2},hold_released,available,10.0000,10.0000,conversion,{first},{first},"
        f"hold released for transaction {ids[0][1]}",
        f"{d2},payout_requested,available,-4.0000,6.0000,payout,{payout.pk},,"
        f"payout {payout.pk} requested",
        f"{d2},payout_requested,requested,4.0000,4.0000,payout,{payout.pk},,"
        f"payout {payout.pk} requested",
        f"{d2},conversion_approved,available,2.5000,8.5000,conversion,{second},{second},"
        f"conversion {second}: pending -> approved",
        f"{d2},conversion_reversed,available,-2.5000,6.0000,conversion,{second},{second},"
        f"conversion {second}: approved -> reversed",
        f'{d2},adjustment,available,-1.2500,4.7500,adjustment,,,"\'=fee, formula-looking"',
    ]
    expected = [
        "entry_id,transaction_id,created_at,transaction_kind,account,amount,balance,"
        "reference_type,reference_id,conversion_id,memo\r\n",
        *(
            f"{entry_id},{txn_id},{row}\r\n"
            for (entry_id, txn_id), row in zip(ids, rows, strict=True)
        ),
    ]
    assert text == "".join(expected)


def test_payouts_csv_streams_one_line_per_payout(settings):
    # given
    settings.PAYOUT_MINIMUM_AMOUNT = "1"
    admin = AdminUserFactory()
    affiliate = AffiliateFactory(
        user__email="pub@example.test", payout_method="paypal", payout_details="pub@paypal.test"
    )
    conversion_approve(affiliate=affiliate, payout=Decimal("100"))
    with time_machine.travel(T0, tick=False):
        payout = services.payout_request_create(affiliate=affiliate, amount="60", currency="USD")
        payout = services.payout_approve(payout=payout, actor=admin)
        payout = services.payout_mark_paid(payout=payout, actor=admin, reference="PP-9")

    # when
    response = StreamingHttpResponse(
        exports.payouts_csv(PayoutRequest.objects.all()), content_type="text/csv"
    )
    text = b"".join(response.streaming_content).decode()

    # then
    at = "2026-04-01T09:30:00+00:00"
    assert text == (
        "id,affiliate_id,affiliate_email,amount,currency,method,payout_details,status,reference,"
        "created_at,decided_at,paid_at\r\n"
        f"{payout.pk},{affiliate.user_id},pub@example.test,60.0000,USD,paypal,pub@paypal.test,"
        f"paid,PP-9,{at},{at},{at}\r\n"
    )

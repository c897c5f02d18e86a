"""Money on SQLite: Decimal in, Decimal out, rounded half-up to 4 places, never a float."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.tests.factories import AffiliateFactory
from payouts.ledger import ledger_adjustment_post
from payouts.selectors import affiliate_balances
from tracker.models import Conversion
from tracker.tests.factories import postback_world

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


@pytest.mark.parametrize(
    ("percent", "revenue", "payout"),
    [
        ("65.5", "10.0001", "6.5501"),  # 6.5500655 rounds up
        ("50", "0.0001", "0.0001"),  # 0.00005: half rounds up
        ("50", "0.0003", "0.0002"),  # 0.00015: half rounds up, not to even
        ("33.3333", "99999999.9999", "33333300.0000"),  # 33333299.99996667
        ("80", "5", "4.0000"),
    ],
)
def test_a_revshare_payout_is_rounded_half_up_to_4_places_and_stored_exactly(
    percent, revenue, payout
):
    world = postback_world()
    world.campaign(revshare_percent=Decimal(percent))
    click = world.click()

    response = Client().get(world.postback_path, {"click_id": click.click_id, "payout": revenue})

    assert response.json()["result"] == "created"
    conversion = Conversion.objects.get()
    assert (str(conversion.revenue), str(conversion.payout)) == (
        str(Decimal(revenue).quantize(Decimal("0.0001"))),
        payout,
    )


@pytest.mark.parametrize(
    "payout", ["1_000", "\u0661\u0660\u0660", "1E+2", "-0", "1.00001", "NaN", "0x10"]
)
def test_a_payout_that_is_not_a_plain_decimal_is_refused(payout):
    world = postback_world()
    world.campaign()
    click = world.click()

    response = Client().get(world.postback_path, {"click_id": click.click_id, "payout": payout})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payout"
    assert list(response.json()["fields"]) == ["payout"]
    assert Conversion.objects.count() == 0


def test_balances_sum_tenths_exactly():
    # given ten credits of 0.1000 and one debit of 0.3000 (floats would drift)
    affiliate = AffiliateFactory()
    for _ in range(10):
        ledger_adjustment_post(
            affiliate_id=affiliate.pk,
            currency="USD",
            amount=Decimal("0.1000"),
            reason="bonus",
            actor=None,
        )
    ledger_adjustment_post(
        affiliate_id=affiliate.pk,
        currency="USD",
        amount=Decimal("-0.3000"),
        reason="fee",
        actor=None,
    )

    balances = affiliate_balances(affiliate_id=affiliate.pk)

    assert balances["USD"]["available"] == Decimal("0.7000")
    assert str(balances["USD"]["available"]) == "0.7000"

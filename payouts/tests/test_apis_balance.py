from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.models import ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.tests.api_bodies import invalid_fields_body
from payouts import services
from payouts.models import LedgerAccount
from payouts.tests.factories import (
    conversion_approve,
    conversion_status_change,
    funded_affiliate,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
URL = "/api/balance"

NOT_AUTHENTICATED = {
    "status": "error",
    "code": "not_authenticated",
    "message": "Authentication credentials were not provided.",
}
NOT_ADMIN_OR_AFFILIATE = {
    "status": "error",
    "code": "permission_denied",
    "message": "Only network admins and approved affiliates may do this.",
}
AFFILIATE_NOT_FOUND = {"status": "error", "code": "not_found", "message": "Affiliate not found."}


@pytest.fixture
def minimum_50(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "50.00"


@pytest.fixture
def affiliate_with_money(minimum_50):
    """USD: 120 available then 100 of it requested, 30 still in a 7-day hold; EUR: 5 available."""
    affiliate = funded_affiliate(available=Decimal("120"))
    conversion_approve(affiliate=affiliate, payout=Decimal("30"), hold_days=7, at=T0)
    conversion_approve(affiliate=affiliate, payout=Decimal("5"), currency="EUR")
    services.payout_request_create(affiliate=affiliate, amount="100", currency="USD")
    return affiliate


def expected_body(affiliate) -> dict:
    return {
        "affiliate_id": affiliate.user_id,
        "minimum_payout": "50.0000",
        "balances": {
            "EUR": {
                "pending": "0.0000",
                "available": "5.0000",
                "requested": "0.0000",
                "paid": "0.0000",
            },
            "USD": {
                "pending": "30.0000",
                "available": "20.0000",
                "requested": "100.0000",
                "paid": "0.0000",
            },
        },
    }


def test_affiliate_sees_its_own_balances_per_currency(api_client, affiliate_with_money):
    # given
    api_client.force_authenticate(affiliate_with_money.user)

    # when
    response = api_client.get(URL)

    # then
    assert response.status_code == 200
    assert response.json() == expected_body(affiliate_with_money)


def test_affiliate_without_any_money_has_no_currencies(api_client, minimum_50):
    affiliate = AffiliateFactory()
    api_client.force_authenticate(affiliate.user)

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "affiliate_id": affiliate.user_id,
        "minimum_payout": "50.0000",
        "balances": {},
    }
    assert LedgerAccount.objects.count() == 0


def test_a_reversal_after_payout_shows_a_negative_available_balance(api_client, minimum_50):
    # given: 60 earned and paid out, then the conversion is reversed
    admin, advertiser = AdminUserFactory(), AdvertiserFactory()
    affiliate = AffiliateFactory()
    conversion_id, _ = conversion_approve(
        affiliate=affiliate, advertiser=advertiser, payout=Decimal("60")
    )
    payout = services.payout_request_create(affiliate=affiliate, amount="60", currency="USD")
    services.payout_approve(payout=payout, actor=admin)
    services.payout_mark_paid(payout=payout, actor=admin, reference="PP-1")
    conversion_status_change(
        conversion_id=conversion_id,
        affiliate=affiliate,
        advertiser=advertiser,
        from_status="approved",
        to_status="reversed",
        payout=Decimal("60"),
    )
    api_client.force_authenticate(affiliate.user)

    # when
    response = api_client.get(URL)

    # then
    assert response.json()["balances"] == {
        "USD": {
            "pending": "0.0000",
            "available": "-60.0000",
            "requested": "0.0000",
            "paid": "60.0000",
        }
    }


def test_admin_reads_an_affiliates_balances_by_id(api_client, affiliate_with_money):
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.get(URL, {"affiliate_id": affiliate_with_money.user_id})

    assert response.status_code == 200
    assert response.json() == expected_body(affiliate_with_money)


def test_a_misspelt_affiliate_parameter_is_refused_not_ignored(api_client, affiliate_with_money):
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.get(URL, {"affiliate": affiliate_with_money.user_id})

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "unknown_parameter",
        "message": "Unknown query parameter(s): affiliate. Accepted: affiliate_id.",
        "fields": {"affiliate": ["Unknown parameter."]},
    }


def test_admin_must_name_the_affiliate(api_client, affiliate_with_money):
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.get(URL)

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "missing_affiliate_id",
        "message": "Name the affiliate with ?affiliate_id=.",
        "fields": {"affiliate_id": ["Required for admins."]},
    }


@pytest.mark.parametrize(
    ("affiliate_id", "status", "body"),
    [
        (
            "abc",
            400,
            invalid_fields_body({"affiliate_id": ["A valid integer is required."]}),
        ),
        ("987654321", 404, AFFILIATE_NOT_FOUND),
    ],
)
def test_admin_naming_a_bad_or_unknown_affiliate(
    api_client, minimum_50, affiliate_id, status, body
):
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.get(URL, {"affiliate_id": affiliate_id})

    assert response.status_code == status
    assert response.json() == body


def test_admin_naming_an_advertiser_id_gets_404(api_client, minimum_50):
    advertiser = AdvertiserFactory()
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.get(URL, {"affiliate_id": advertiser.user_id})

    assert response.status_code == 404
    assert response.json() == AFFILIATE_NOT_FOUND


def test_affiliate_naming_another_affiliate_gets_404_and_sees_nothing(
    api_client, affiliate_with_money
):
    # given
    other = AffiliateFactory()
    api_client.force_authenticate(other.user)

    # when
    response = api_client.get(URL, {"affiliate_id": affiliate_with_money.user_id})

    # then
    assert response.status_code == 404
    assert response.json() == AFFILIATE_NOT_FOUND


def test_affiliate_naming_itself_is_the_same_as_no_id(api_client, affiliate_with_money):
    api_client.force_authenticate(affiliate_with_money.user)

    response = api_client.get(URL, {"affiliate_id": affiliate_with_money.user_id})

    assert response.json() == expected_body(affiliate_with_money)


@pytest.mark.parametrize(
    ("who", "status", "body"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser", 403, NOT_ADMIN_OR_AFFILIATE),
        ("pending_affiliate", 403, NOT_ADMIN_OR_AFFILIATE),
    ],
)
def test_balance_is_refused_to_everyone_else(api_client, affiliate_with_money, who, status, body):
    # given
    if who == "advertiser":
        api_client.force_authenticate(AdvertiserFactory().user)
    elif who == "pending_affiliate":
        api_client.force_authenticate(AffiliateFactory(status=ApprovalStatus.PENDING).user)

    # when
    response = api_client.get(URL, {"affiliate_id": affiliate_with_money.user_id})

    # then: the error only, nothing of the affiliate's money
    assert response.status_code == status
    assert response.json() == body


def test_a_hold_past_its_end_stays_pending_until_the_release_job_runs(api_client, minimum_50):
    # given: a 1-day hold that ended weeks ago, the release job not run yet
    affiliate = AffiliateFactory()
    conversion_approve(affiliate=affiliate, payout=Decimal("9.99995"), hold_days=1, at=T0)
    api_client.force_authenticate(affiliate.user)

    # when
    with time_machine.travel(datetime(2026, 5, 1, tzinfo=UTC), tick=False):
        response = api_client.get(URL)

    # then: amounts are rounded half-up to 4 places when posted
    assert response.json()["balances"] == {
        "USD": {
            "pending": "10.0000",
            "available": "0.0000",
            "requested": "0.0000",
            "paid": "0.0000",
        }
    }

"""Who may read which payout requests (another affiliate's looks missing); an affiliate's balances
in one query."""

from decimal import Decimal

import pytest

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.exceptions import NotFoundError
from payouts import selectors, services
from payouts.tests.factories import funded_affiliate

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.0000")


def test_payout_list_and_get_are_scoped_by_role():
    # given
    admin = AdminUserFactory()
    mine = funded_affiliate(available=Decimal("100"))
    other = funded_affiliate(available=Decimal("100"))
    advertiser = AdvertiserFactory()
    my_payout = services.payout_request_create(affiliate=mine, amount="100", currency="USD")
    other_payout = services.payout_request_create(affiliate=other, amount="100", currency="USD")

    # then
    assert list(selectors.payout_list(viewer=admin)) == [other_payout, my_payout]
    assert list(selectors.payout_list(viewer=mine.user)) == [my_payout]
    assert list(selectors.payout_list(viewer=advertiser.user)) == []
    assert selectors.payout_get(viewer=mine.user, payout_id=my_payout.pk) == my_payout
    assert selectors.payout_get(viewer=admin, payout_id=other_payout.pk) == other_payout
    with pytest.raises(NotFoundError):
        selectors.payout_get(viewer=mine.user, payout_id=other_payout.pk)
    with pytest.raises(NotFoundError):
        selectors.payout_get(viewer=advertiser.user, payout_id=my_payout.pk)


def test_affiliate_balances_is_one_query(django_assert_num_queries):
    affiliate = AffiliateFactory()
    funded = funded_affiliate(available=Decimal("10"))

    with django_assert_num_queries(1):
        empty = selectors.affiliate_balances(affiliate_id=affiliate.user_id)
    with django_assert_num_queries(1):
        some = selectors.affiliate_balances(affiliate_id=funded.user_id)

    assert empty == {}
    assert some == {
        "USD": {
            "pending": ZERO,
            "available": Decimal("10.0000"),
            "requested": ZERO,
            "paid": ZERO,
        }
    }

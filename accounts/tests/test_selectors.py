import pytest

from accounts import selectors
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.exceptions import NotFoundError

pytestmark = pytest.mark.django_db


def test_affiliates_see_only_themselves_and_admins_see_all():
    first, second = AffiliateFactory(), AffiliateFactory()
    advertiser = AdvertiserFactory()
    admin = AdminUserFactory()

    assert list(selectors.affiliate_list(viewer=first.user)) == [first]
    assert list(selectors.affiliate_list(viewer=advertiser.user)) == []
    assert list(selectors.affiliate_list(viewer=admin)) == [first, second]
    assert list(selectors.advertiser_list(viewer=advertiser.user)) == [advertiser]
    assert list(selectors.advertiser_list(viewer=first.user)) == []


def test_a_forbidden_profile_looks_missing():
    first, second = AffiliateFactory(), AffiliateFactory()

    with pytest.raises(NotFoundError) as forbidden:
        selectors.affiliate_get(viewer=first.user, affiliate_id=second.pk)
    with pytest.raises(NotFoundError) as missing:
        selectors.affiliate_get(viewer=first.user, affiliate_id=999_999)

    assert forbidden.value.as_dict() == missing.value.as_dict()

import pytest

from accounts.models import Role
from accounts.tests.factories import (
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    UserFactory,
)
from campaigns import selectors
from campaigns.models import AccessStatus, CampaignStatus, Visibility
from campaigns.tests.factories import (
    CampaignAccessFactory,
    CampaignFactory,
    TrackingLinkFactory,
)
from core.exceptions import NotFoundError

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    """Two advertisers, two affiliates, and a campaign of every visibility and status."""
    adv_a, adv_b = AdvertiserFactory(), AdvertiserFactory()
    aff_1, aff_2 = AffiliateFactory(), AffiliateFactory()
    campaigns = {
        "public": CampaignFactory(advertiser=adv_a, visibility=Visibility.PUBLIC),
        "approval": CampaignFactory(advertiser=adv_a, visibility=Visibility.APPROVAL),
        "paused": CampaignFactory(
            advertiser=adv_b, visibility=Visibility.PUBLIC, status=CampaignStatus.PAUSED
        ),
        "archived": CampaignFactory(
            advertiser=adv_a, visibility=Visibility.PUBLIC, status=CampaignStatus.ARCHIVED
        ),
        "private_invited": CampaignFactory(advertiser=adv_b, visibility=Visibility.PRIVATE),
        "private_pending": CampaignFactory(advertiser=adv_b, visibility=Visibility.PRIVATE),
        "private_revoked": CampaignFactory(advertiser=adv_a, visibility=Visibility.PRIVATE),
        "private_rejected": CampaignFactory(advertiser=adv_a, visibility=Visibility.PRIVATE),
        "private_other": CampaignFactory(advertiser=adv_b, visibility=Visibility.PRIVATE),
    }
    accesses = {
        "invited": CampaignAccessFactory(
            campaign=campaigns["private_invited"], affiliate=aff_1, status=AccessStatus.APPROVED
        ),
        "pending": CampaignAccessFactory(
            campaign=campaigns["private_pending"], affiliate=aff_1, status=AccessStatus.PENDING
        ),
        "revoked": CampaignAccessFactory(
            campaign=campaigns["private_revoked"], affiliate=aff_1, status=AccessStatus.REVOKED
        ),
        "rejected": CampaignAccessFactory(
            campaign=campaigns["private_rejected"], affiliate=aff_1, status=AccessStatus.REJECTED
        ),
        "other": CampaignAccessFactory(campaign=campaigns["private_other"], affiliate=aff_2),
        "approval_1": CampaignAccessFactory(
            campaign=campaigns["approval"], affiliate=aff_1, status=AccessStatus.PENDING
        ),
    }
    return {
        "adv_a": adv_a,
        "adv_b": adv_b,
        "aff_1": aff_1,
        "aff_2": aff_2,
        "campaigns": campaigns,
        "accesses": accesses,
    }


def _names(network, queryset) -> set[str]:
    by_pk = {campaign.pk: name for name, campaign in network["campaigns"].items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


def test_campaign_list_admin_sees_every_campaign(network):
    assert _names(network, selectors.campaign_list(viewer=AdminUserFactory())) == set(
        network["campaigns"]
    )


def test_campaign_list_user_with_admin_role_but_no_staff_flag_is_an_admin(network):
    viewer = UserFactory(role=Role.ADMIN)

    assert selectors.campaign_list(viewer=viewer).count() == len(network["campaigns"])


def test_campaign_list_advertiser_sees_only_its_own_campaigns(network):
    seen_a = _names(network, selectors.campaign_list(viewer=network["adv_a"].user))
    seen_b = _names(network, selectors.campaign_list(viewer=network["adv_b"].user))

    assert seen_a == {
        "public",
        "approval",
        "archived",
        "private_revoked",
        "private_rejected",
    }
    assert seen_b == {"paused", "private_invited", "private_pending", "private_other"}


def test_campaign_list_affiliate_never_sees_private_campaigns_it_was_not_invited_to(network):
    seen_1 = _names(network, selectors.campaign_list(viewer=network["aff_1"].user))
    seen_2 = _names(network, selectors.campaign_list(viewer=network["aff_2"].user))

    assert seen_1 == {"public", "approval", "paused", "private_invited", "private_pending"}
    assert seen_2 == {"public", "approval", "paused", "private_other"}


def test_campaign_list_lists_each_campaign_once_whatever_its_access_rows(network):
    campaign = network["campaigns"]["private_invited"]
    CampaignAccessFactory(campaign=campaign, affiliate=network["aff_2"])

    queryset = selectors.campaign_list(viewer=network["aff_1"].user)

    assert list(queryset.values_list("pk", flat=True)).count(campaign.pk) == 1


def test_campaign_list_a_user_without_a_role_sees_nothing(network):
    viewer = UserFactory(role="nobody")

    assert selectors.campaign_list(viewer=viewer).count() == 0


def test_campaign_get_forbidden_and_missing_look_the_same(network):
    private = network["campaigns"]["private_other"]
    aff_1 = network["aff_1"].user

    with pytest.raises(NotFoundError) as forbidden:
        selectors.campaign_get(viewer=aff_1, campaign_id=private.pk)
    with pytest.raises(NotFoundError) as missing:
        selectors.campaign_get(viewer=aff_1, campaign_id=10**9)
    with pytest.raises(NotFoundError):
        selectors.campaign_get(viewer=network["adv_a"].user, campaign_id=private.pk)

    assert (forbidden.value.code, forbidden.value.status, forbidden.value.message) == (
        missing.value.code,
        missing.value.status,
        missing.value.message,
    )
    assert selectors.campaign_get(viewer=network["aff_2"].user, campaign_id=private.pk) == private
    assert selectors.campaign_get(viewer=network["adv_b"].user, campaign_id=private.pk) == private


def test_campaign_get_for_affiliate_follows_the_affiliate_rule(network):
    campaigns = network["campaigns"]
    aff_1 = network["aff_1"]

    found = selectors.campaign_get_for_affiliate(
        affiliate=aff_1, campaign_id=campaigns["private_invited"].pk
    )

    assert found == campaigns["private_invited"]
    for name in ("archived", "private_revoked", "private_rejected", "private_other"):
        with pytest.raises(NotFoundError):
            selectors.campaign_get_for_affiliate(affiliate=aff_1, campaign_id=campaigns[name].pk)


def test_access_list_is_scoped_by_role(network):
    accesses = network["accesses"]
    all_ids = {access.pk for access in accesses.values()}

    admin_ids = set(selectors.access_list(viewer=AdminUserFactory()).values_list("pk", flat=True))
    adv_a_ids = set(
        selectors.access_list(viewer=network["adv_a"].user).values_list("pk", flat=True)
    )
    adv_b_ids = set(
        selectors.access_list(viewer=network["adv_b"].user).values_list("pk", flat=True)
    )
    aff_2_ids = set(
        selectors.access_list(viewer=network["aff_2"].user).values_list("pk", flat=True)
    )

    assert admin_ids == all_ids
    assert adv_a_ids == {accesses[name].pk for name in ("revoked", "rejected", "approval_1")}
    assert adv_b_ids == {accesses[name].pk for name in ("invited", "pending", "other")}
    assert aff_2_ids == {accesses["other"].pk}


def test_access_get_hides_other_advertisers_and_affiliates_applications(network):
    other = network["accesses"]["other"]

    for viewer in (network["adv_a"].user, network["aff_1"].user):
        with pytest.raises(NotFoundError):
            selectors.access_get(viewer=viewer, access_id=other.pk)

    assert selectors.access_get(viewer=network["adv_b"].user, access_id=other.pk) == other
    assert selectors.access_get(viewer=network["aff_2"].user, access_id=other.pk) == other


def test_link_list_is_scoped_by_role(network):
    link_a = TrackingLinkFactory(
        campaign=network["campaigns"]["public"], affiliate=network["aff_1"]
    )
    link_b = TrackingLinkFactory(
        campaign=network["campaigns"]["paused"], affiliate=network["aff_2"]
    )

    def ids(viewer):
        return set(selectors.link_list(viewer=viewer).values_list("pk", flat=True))

    assert ids(AdminUserFactory()) == {link_a.pk, link_b.pk}
    assert ids(network["adv_a"].user) == {link_a.pk}
    assert ids(network["adv_b"].user) == {link_b.pk}
    assert ids(network["aff_1"].user) == {link_a.pk}
    assert ids(network["aff_2"].user) == {link_b.pk}
    with pytest.raises(NotFoundError):
        selectors.link_get(viewer=network["aff_1"].user, link_id=link_b.pk)


def test_campaign_list_runs_a_fixed_number_of_queries(network, django_assert_num_queries):
    viewer = network["aff_1"].user

    with django_assert_num_queries(2):
        campaigns = list(selectors.campaign_list(viewer=viewer))
        for campaign in campaigns:
            _ = (campaign.advertiser.user.email, list(campaign.caps.all()))

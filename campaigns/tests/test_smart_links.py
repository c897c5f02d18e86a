import pytest

from accounts.models import ApprovalStatus
from accounts.tests.factories import AffiliateFactory
from campaigns.models import (
    AccessStatus,
    CampaignAccess,
    CampaignStatus,
    SmartLink,
    SmartLinkEntry,
    TrackingLink,
    Visibility,
)
from campaigns.selectors import campaigns_runnable_by_affiliate
from campaigns.smart_links import (
    smart_link_create,
    smart_link_deactivate,
    smart_link_update,
    smart_link_url,
)
from campaigns.tests.factories import CampaignAccessFactory, CampaignFactory
from core.exceptions import ApplicationError
from core.models import AuditEntry, AuditSource

pytestmark = pytest.mark.django_db


def _entries(smart_link: SmartLink) -> list[tuple[int, int, int]]:
    return list(
        SmartLinkEntry.objects.filter(smart_link=smart_link)
        .order_by("priority", "id")
        .values_list("campaign_id", "priority", "weight")
    )


def _error(**kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        smart_link_create(**kwargs)
    return caught.value


def test_create_saves_entries_and_makes_the_affiliates_tracking_links(settings):
    settings.PUBLIC_BASE_URL = "https://track.example"
    affiliate = AffiliateFactory()
    public = CampaignFactory(visibility=Visibility.PUBLIC)
    private = CampaignFactory(visibility=Visibility.PRIVATE)
    CampaignAccessFactory(campaign=private, affiliate=affiliate)

    smart_link = smart_link_create(
        affiliate=affiliate,
        name="  Mobile traffic ",
        entries=[
            {"campaign": private.pk, "priority": 2, "weight": 5},
            {"campaign": public.pk},
        ],
        catch_all_url="https://backup.example/?s={sub1}",
        actor=affiliate.user,
        source=AuditSource.API,
    )

    assert (smart_link.name, smart_link.catch_all_url, smart_link.is_active) == (
        "Mobile traffic",
        "https://backup.example/?s={sub1}",
        True,
    )
    assert len(smart_link.token) == 16
    assert smart_link_url(smart_link=smart_link) == f"https://track.example/s/{smart_link.token}"
    assert _entries(smart_link) == [(public.pk, 1, 100), (private.pk, 2, 5)]
    assert set(TrackingLink.objects.values_list("campaign_id", "affiliate_id")) == {
        (public.pk, affiliate.pk),
        (private.pk, affiliate.pk),
    }
    # Like applying: the public campaign's access is approved on the way.
    assert CampaignAccess.objects.get(campaign=public).status == AccessStatus.APPROVED
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.source, entry.action, entry.object_type, entry.object_id) == (
        affiliate.pk,
        AuditSource.API,
        "create",
        "campaigns.smartlink",
        str(smart_link.pk),
    )
    assert entry.changes == {
        "affiliate": [None, affiliate.pk],
        "name": [None, "Mobile traffic"],
        "catch_all_url": [None, "https://backup.example/?s={sub1}"],
        "is_active": [None, True],
        "entries": [
            None,
            [
                {"campaign": public.pk, "priority": 1, "weight": 100},
                {"campaign": private.pk, "priority": 2, "weight": 5},
            ],
        ],
    }


def test_a_campaign_the_affiliate_may_not_run_is_refused_and_nothing_is_written():
    affiliate = AffiliateFactory()
    private = CampaignFactory(visibility=Visibility.PRIVATE)
    pending = CampaignAccessFactory(
        campaign=CampaignFactory(visibility=Visibility.APPROVAL),
        affiliate=affiliate,
        status=AccessStatus.PENDING,
    ).campaign
    revoked = CampaignAccessFactory(
        campaign=CampaignFactory(visibility=Visibility.PUBLIC),
        affiliate=affiliate,
        status=AccessStatus.REVOKED,
    ).campaign
    archived = CampaignFactory(status=CampaignStatus.ARCHIVED)
    fine = CampaignFactory()

    error = _error(
        affiliate=affiliate,
        name="Mine",
        entries=[{"campaign": fine.pk}, {"campaign": private.pk}],
    )
    several = _error(
        affiliate=affiliate,
        name="Mine",
        entries=[{"campaign": c.pk} for c in (pending, revoked, archived)],
    )

    assert (error.status, error.code, error.fields) == (
        400,
        "campaign_not_available",
        {
            "entries": [
                f"Entry 2: campaign #{private.pk} is not one this affiliate may run "
                "(apply to it first)."
            ]
        },
    )
    assert (several.code, len(several.fields["entries"])) == ("invalid", 3)
    assert (SmartLink.objects.count(), TrackingLink.objects.count()) == (0, 0)
    assert not CampaignAccess.objects.filter(campaign=fine).exists()
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("entries", "code", "message"),
    [
        ([], "no_entries", "Give at least one entry (campaign, priority, weight)."),
        ("x", "no_entries", "Give at least one entry (campaign, priority, weight)."),
        (
            ["x"],
            "invalid_entries",
            "Entry 1: must be an object with campaign, priority and weight.",
        ),
        ([{}], "invalid_entries", "Entry 1: campaign is required."),
        ([{"campaign": "c"}], "invalid_entries", "Entry 1: campaign must be a whole number."),
        (
            [{"campaign": "{c}", "priority": 0}],
            "invalid_entries",
            "Entry 1: priority must be between 1 and 1000.",
        ),
        (
            [{"campaign": "{c}", "weight": -1}],
            "invalid_entries",
            "Entry 1: weight must be between 0 and 1000000.",
        ),
        (
            [{"campaign": "{c}", "weight": True}],
            "invalid_entries",
            "Entry 1: weight must be a whole number.",
        ),
        (
            [{"campaign": "{c}"}, {"campaign": "{c}", "priority": 2}],
            "duplicate_campaign",
            "Entry 2: campaign #{c} is listed twice.",
        ),
        ([{"campaign": "{c}", "weight": 0}], "no_positive_weight", None),
    ],
)
def test_entries_are_validated(entries, code, message):
    campaign = CampaignFactory()

    def fill(value):
        if value == "{c}":
            return campaign.pk
        return value

    if isinstance(entries, list):
        entries = [
            {key: fill(value) for key, value in item.items()} if isinstance(item, dict) else item
            for item in entries
        ]

    error = _error(affiliate=AffiliateFactory(), name="Mine", entries=entries)

    expected = message.replace("{c}", str(campaign.pk)) if message else None
    assert error.code == code
    if expected:
        assert error.fields == {"entries": [expected]}
    assert SmartLink.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://backup.example/", "The URL must start with http:// or https://"),
        ("https://backup.example/?c={click_id}", "Unknown macro(s): {click_id}."),
        ("https://{sub1}.example/", "Macros may not be used in the host or port."),
    ],
)
def test_the_catch_all_url_is_an_http_url_with_the_visits_macros_only(url, message):
    error = _error(
        affiliate=AffiliateFactory(),
        name="Mine",
        entries=[{"campaign": CampaignFactory().pk}],
        catch_all_url=url,
    )

    assert error.code == "invalid_catch_all_url"
    assert message in error.fields["catch_all_url"][0]


def test_a_name_is_required_and_every_error_is_reported_at_once():
    error = _error(affiliate=AffiliateFactory(), name=" ", entries=[], catch_all_url="nope")

    assert error.code == "invalid"
    assert set(error.fields) == {"name", "entries", "catch_all_url"}


def test_an_affiliate_that_is_not_approved_cannot_create():
    error = _error(
        affiliate=AffiliateFactory(status=ApprovalStatus.SUSPENDED),
        name="Mine",
        entries=[{"campaign": CampaignFactory().pk}],
    )

    assert (error.status, error.code) == (403, "affiliate_not_approved")


def test_update_replaces_the_entries_and_records_the_change():
    affiliate = AffiliateFactory()
    first, second = CampaignFactory(), CampaignFactory()
    smart_link = smart_link_create(
        affiliate=affiliate, name="Mine", entries=[{"campaign": first.pk}]
    )

    updated = smart_link_update(
        smart_link=smart_link,
        data={"name": "Renamed", "entries": [{"campaign": second.pk, "weight": 7}]},
        actor=affiliate.user,
        source=AuditSource.PORTAL,
    )

    assert updated.name == "Renamed"
    assert _entries(smart_link) == [(second.pk, 1, 7)]
    assert TrackingLink.objects.filter(affiliate=affiliate, campaign=second).exists()
    entry = AuditEntry.objects.get(action="update")
    assert entry.changes == {
        "name": ["Mine", "Renamed"],
        "entries": [
            [{"campaign": first.pk, "priority": 1, "weight": 100}],
            [{"campaign": second.pk, "priority": 1, "weight": 7}],
        ],
    }


def test_update_without_changes_records_nothing_and_refuses_bad_entries():
    smart_link = smart_link_create(
        affiliate=AffiliateFactory(), name="Mine", entries=[{"campaign": CampaignFactory().pk}]
    )
    smart_link_update(smart_link=smart_link, data={"name": "Mine"})

    with pytest.raises(ApplicationError) as caught:
        smart_link_update(
            smart_link=smart_link,
            data={"entries": [{"campaign": CampaignFactory(visibility=Visibility.PRIVATE).pk}]},
        )

    assert caught.value.code == "campaign_not_available"
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["create"]
    assert len(_entries(smart_link)) == 1


def test_deactivate_once_and_reactivate_by_update():
    smart_link = smart_link_create(
        affiliate=AffiliateFactory(), name="Mine", entries=[{"campaign": CampaignFactory().pk}]
    )

    smart_link_deactivate(smart_link=smart_link)
    again = smart_link_deactivate(smart_link=smart_link)
    back = smart_link_update(smart_link=smart_link, data={"is_active": True})

    assert again.is_active is False
    assert back.is_active is True
    assert list(AuditEntry.objects.order_by("id").values_list("action", "changes")) == [
        ("create", AuditEntry.objects.order_by("id").first().changes),
        ("deactivate", {"is_active": [True, False]}),
        ("update", {"is_active": [False, True]}),
    ]


def test_runnable_campaigns_are_approved_or_public_without_an_access_row():
    affiliate = AffiliateFactory()
    public = CampaignFactory(visibility=Visibility.PUBLIC, name="a")
    approved = CampaignAccessFactory(
        campaign=CampaignFactory(visibility=Visibility.APPROVAL, name="b"), affiliate=affiliate
    ).campaign
    CampaignFactory(visibility=Visibility.APPROVAL)
    CampaignFactory(visibility=Visibility.PRIVATE)
    CampaignFactory(visibility=Visibility.PUBLIC, status=CampaignStatus.ARCHIVED)
    CampaignAccessFactory(
        campaign=CampaignFactory(visibility=Visibility.PUBLIC),
        affiliate=affiliate,
        status=AccessStatus.REJECTED,
    )
    # Another affiliate's approval opens nothing for this one.
    CampaignAccessFactory(campaign=CampaignFactory(visibility=Visibility.PRIVATE))

    runnable = list(campaigns_runnable_by_affiliate(affiliate_id=affiliate.pk))

    assert runnable == [public, approved]

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from accounts.models import ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns import services
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    CapCounter,
    TrackingLink,
    Visibility,
)
from campaigns.tests.factories import CampaignAccessFactory, CampaignFactory, CapFactory
from config.celery import app as celery_app
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

VALID = {
    "name": "  Summer offer ",
    "description": "CPA, US only",
    "landing_url": "https://adv.example/lp?cid={click_id}&s={sub1}",
    "fallback_url": "https://adv.example/sorry",
    "currency": "eur",
    "payout_type": "fixed",
    "payout_amount": "2.5",
    "default_revenue": "4.1234",
    "visibility": "approval",
    "external_offer_id": "OF-77",
    "attribution_window_hours": 48,
    "hold_days": "7",
    "auto_approve_after_hours": None,
    "allow_multiple_conversions": True,
    "timezone": "America/New_York",
    "allowed_countries": ["us", "CA", "US"],
    "caps": [
        {"scope": "campaign", "period": "day", "metric": "conversions", "limit": 100},
        {
            "scope": "affiliate",
            "period": "month",
            "metric": "payout",
            "limit": "250.50",
            "action": "block_clicks",
        },
    ],
}


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _error(callable_, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as excinfo:
        callable_(**kwargs)
    return excinfo.value


# --- campaign_create / campaign_update -----------------------------------------------------------


def test_campaign_create_stores_every_field_cleaned_and_its_caps():
    advertiser = AdvertiserFactory()

    campaign = services.campaign_create(advertiser=advertiser, data=VALID)

    campaign.refresh_from_db()
    assert campaign.advertiser == advertiser
    assert campaign.name == "Summer offer"
    assert campaign.description == "CPA, US only"
    assert campaign.landing_url == "https://adv.example/lp?cid={click_id}&s={sub1}"
    assert campaign.fallback_url == "https://adv.example/sorry"
    assert campaign.status == CampaignStatus.ACTIVE
    assert campaign.currency == "EUR"
    assert campaign.payout_type == "fixed"
    assert campaign.payout_amount == Decimal("2.5000")
    assert campaign.revshare_percent == Decimal("0")
    assert campaign.default_revenue == Decimal("4.1234")
    assert campaign.visibility == Visibility.APPROVAL
    assert campaign.external_offer_id == "OF-77"
    assert campaign.attribution_window_hours == 48
    assert campaign.hold_days == 7
    assert campaign.auto_approve_after_hours is None
    assert campaign.allow_multiple_conversions is True
    assert campaign.timezone == "America/New_York"
    assert campaign.allowed_countries == ["US", "CA"]
    caps = list(campaign.caps.values_list("scope", "period", "metric", "limit", "action"))
    assert caps == [
        ("campaign", "day", "conversions", Decimal("100.0000"), "reject"),
        ("affiliate", "month", "payout", Decimal("250.5000"), "block_clicks"),
    ]


def test_campaign_create_with_only_the_required_fields_uses_defaults():
    campaign = services.campaign_create(
        advertiser=AdvertiserFactory(),
        data={
            "name": "Rev",
            "landing_url": "https://a.example/",
            "payout_type": "revshare",
            "revshare_percent": "80",
        },
    )

    assert (campaign.currency, campaign.visibility, campaign.timezone) == ("USD", "public", "UTC")
    assert campaign.revshare_percent == Decimal("80.0000")
    assert campaign.attribution_window_hours == 720
    assert campaign.caps.count() == 0


def test_campaign_create_reports_every_bad_field_at_once_and_writes_nothing():
    data = {
        "name": " ",
        "landing_url": "https://a.example/?x={clickid}",
        "currency": "XXY",
        "payout_type": "revshare",
        "revshare_percent": "0",
        "timezone": "Mars/Olympus",
        "allowed_countries": ["USA"],
        "hold_days": -1,
    }

    error = _error(services.campaign_create, advertiser=AdvertiserFactory(), data=data)

    assert error.code == "invalid"
    assert error.status == 400
    assert error.fields == {
        "name": ["This field is required."],
        "landing_url": ["Unknown macro(s): {clickid}."],
        "currency": ["Unknown ISO 4217 currency code: 'XXY'."],
        "hold_days": ["Must be between 0 and 2147483647."],
        "timezone": ["Unknown time zone: 'Mars/Olympus'."],
        "allowed_countries": ["Not a 2-letter country code: 'USA'."],
        "revshare_percent": ["A revenue share needs a percentage above 0 and at most 100."],
    }
    assert Campaign.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "code", "field", "message"),
    [
        (
            {"landing_url": "https://a.example/?u={user}"},
            "invalid_landing_url",
            "landing_url",
            "Unknown macro(s): {user}.",
        ),
        (
            {"landing_url": "javascript:alert(1)"},
            "invalid_landing_url",
            "landing_url",
            "The URL must start with http:// or https:// (got 'javascript:alert(1)').",
        ),
        (
            {"landing_url": "https://{sub1}.example/"},
            "invalid_landing_url",
            "landing_url",
            "Macros may not be used in the host or port.",
        ),
        (
            {"fallback_url": "ftp://a.example/"},
            "invalid_fallback_url",
            "fallback_url",
            "The URL must start with http:// or https:// (got 'ftp://a.example/').",
        ),
        ({"currency": "usd1"}, "invalid_currency", "currency", None),
        ({"timezone": "Europe"}, "invalid_timezone", "timezone", "Unknown time zone: 'Europe'."),
        ({"payout_amount": "-1"}, "invalid_payout_amount", "payout_amount", None),
        ({"payout_amount": "1.00001"}, "invalid_payout_amount", "payout_amount", None),
        ({"payout_type": "cpm"}, "invalid_payout_type", "payout_type", None),
        ({"visibility": "secret"}, "invalid_visibility", "visibility", None),
        (
            {"payout_type": "revshare", "revshare_percent": "100.5"},
            "invalid_revshare_percent",
            "revshare_percent",
            "A percentage is at most 100.",
        ),
        (
            {"payout_type": "revshare", "revshare_percent": "0"},
            "invalid_revshare_percent",
            "revshare_percent",
            "A revenue share needs a percentage above 0 and at most 100.",
        ),
        (
            {"allowed_countries": "US"},
            "invalid_allowed_countries",
            "allowed_countries",
            "Must be a list of 2-letter country codes.",
        ),
    ],
)
def test_campaign_create_refuses_one_bad_field_with_its_own_code(change, code, field, message):
    data = {"name": "x", "landing_url": "https://a.example/", "payout_type": "fixed", **change}

    error = _error(services.campaign_create, advertiser=AdvertiserFactory(), data=data)

    assert error.code == code
    assert error.status == 400
    assert list(error.fields) == [field]
    if message is not None:
        assert error.fields[field] == [message]
        assert error.message == message
    assert Campaign.objects.count() == 0


def test_campaign_create_refuses_duplicate_and_malformed_caps():
    base = {"name": "x", "landing_url": "https://a.example/", "payout_type": "fixed"}
    duplicate = [
        {"scope": "campaign", "period": "day", "metric": "conversions", "limit": 1},
        {"scope": "campaign", "period": "day", "metric": "conversions", "limit": 2},
    ]

    duplicate_error = _error(
        services.campaign_create, advertiser=AdvertiserFactory(), data={**base, "caps": duplicate}
    )
    fractional_error = _error(
        services.campaign_create,
        advertiser=AdvertiserFactory(),
        data={**base, "caps": [{"period": "week", "metric": "conversions", "limit": "1.5"}]},
    )
    period_error = _error(
        services.campaign_create,
        advertiser=AdvertiserFactory(),
        data={**base, "caps": [{"period": "year", "limit": 1}]},
    )

    assert duplicate_error.code == "duplicate_cap"
    assert duplicate_error.fields == {
        "caps": ["Cap 2: a campaign day conversions cap is listed twice."]
    }
    assert fractional_error.code == "invalid_caps"
    assert fractional_error.fields == {"caps": ["Cap 1: a conversion cap is a whole number."]}
    assert period_error.code == "invalid_caps"
    assert period_error.fields == {"caps": ["Cap 1: Choose one of: day, week, month, total."]}
    assert Campaign.objects.count() == 0
    assert Cap.objects.count() == 0


def test_campaign_create_refuses_archived_status():
    data = {"name": "x", "landing_url": "https://a.example/", "payout_type": "fixed"}

    error = _error(
        services.campaign_create,
        advertiser=AdvertiserFactory(),
        data={**data, "status": "archived"},
    )
    paused = services.campaign_create(
        advertiser=AdvertiserFactory(), data={**data, "status": "paused"}
    )

    assert error.code == "invalid_status"
    assert paused.status == CampaignStatus.PAUSED


def test_campaign_update_changes_only_the_given_fields():
    campaign = CampaignFactory(name="Old", currency="USD", revshare_percent=Decimal("80"))

    updated = services.campaign_update(
        campaign=campaign, data={"name": "New", "currency": "GBP", "id": 999}
    )

    campaign.refresh_from_db()
    assert updated.pk == campaign.pk
    assert (campaign.name, campaign.currency) == ("New", "GBP")
    assert campaign.revshare_percent == Decimal("80.0000")
    assert campaign.landing_url == CampaignFactory._meta.declarations["landing_url"]


def test_campaign_update_checks_the_payout_model_against_the_stored_campaign():
    campaign = CampaignFactory(payout_type="fixed", revshare_percent=Decimal("0"))

    error = _error(services.campaign_update, campaign=campaign, data={"payout_type": "revshare"})

    campaign.refresh_from_db()
    assert error.code == "invalid_revshare_percent"
    assert campaign.payout_type == "fixed"


def test_campaign_update_replaces_caps_and_keeps_the_counters_of_caps_that_stay():
    campaign = CampaignFactory()
    kept = CapFactory(campaign=campaign, scope="campaign", period="day", metric="conversions")
    dropped = CapFactory(campaign=campaign, scope="affiliate", period="total", metric="payout")
    counter = CapCounter.objects.create(cap=kept, period_start="2024-01-01", used=3)

    services.campaign_update(
        campaign=campaign,
        data={
            "caps": [
                {"scope": "campaign", "period": "day", "metric": "conversions", "limit": 5},
                {"scope": "campaign", "period": "month", "metric": "payout", "limit": "99.99"},
            ]
        },
    )

    caps = list(campaign.caps.values_list("pk", "period", "metric", "limit"))
    assert caps[0] == (kept.pk, "day", "conversions", Decimal("5.0000"))
    assert caps[1][1:] == ("month", "payout", Decimal("99.9900"))
    assert len(caps) == 2
    assert not Cap.objects.filter(pk=dropped.pk).exists()
    assert CapCounter.objects.get(pk=counter.pk).used == Decimal("3.0000")

    services.campaign_update(campaign=campaign, data={"caps": []})

    assert campaign.caps.count() == 0


def test_campaign_update_status_follows_the_transition_rules():
    campaign = CampaignFactory(status=CampaignStatus.ARCHIVED)

    error = _error(services.campaign_update, campaign=campaign, data={"status": "active"})

    assert error.code == "invalid_transition"
    assert error.status == 409


# --- campaign_set_status ------------------------------------------------------------------------


def test_campaign_set_status_pauses_resumes_and_archives_for_good():
    admin = AdminUserFactory()
    campaign = CampaignFactory()

    paused = services.campaign_set_status(campaign=campaign, status="paused", actor=admin)
    paused_again = services.campaign_set_status(campaign=campaign, status="paused", actor=admin)
    resumed = services.campaign_set_status(campaign=campaign, status="active", actor=admin)
    archived = services.campaign_set_status(campaign=campaign, status="archived", actor=None)
    error = _error(services.campaign_set_status, campaign=campaign, status="active", actor=admin)
    unknown = _error(services.campaign_set_status, campaign=campaign, status="gone", actor=admin)

    assert [paused.status, paused_again.status, resumed.status, archived.status] == [
        "paused",
        "paused",
        "active",
        "archived",
    ]
    assert (error.code, error.status) == ("invalid_transition", 409)
    assert (unknown.code, unknown.status) == ("invalid_status", 400)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ARCHIVED


# --- applications -------------------------------------------------------------------------------


def test_access_apply_public_is_approved_at_once_and_idempotent():
    campaign = CampaignFactory(visibility=Visibility.PUBLIC)
    affiliate = AffiliateFactory()

    first = services.access_apply(campaign=campaign, affiliate=affiliate, message=" hi ")
    second = services.access_apply(campaign=campaign, affiliate=affiliate, message="again")

    assert first.pk == second.pk
    row = CampaignAccess.objects.get()
    assert (row.status, row.message, row.decided_by) == (AccessStatus.APPROVED, "hi", None)
    assert row.decided_at is not None


def test_access_apply_approval_campaign_waits_for_a_decision():
    campaign = CampaignFactory(visibility=Visibility.APPROVAL)

    access = services.access_apply(campaign=campaign, affiliate=AffiliateFactory())

    assert access.status == AccessStatus.PENDING
    assert access.decided_at is None


def test_access_apply_private_or_archived_campaign_is_not_found():
    affiliate = AffiliateFactory()
    private = CampaignFactory(visibility=Visibility.PRIVATE)
    archived = CampaignFactory(status=CampaignStatus.ARCHIVED)

    private_error = _error(services.access_apply, campaign=private, affiliate=affiliate)
    archived_error = _error(services.access_apply, campaign=archived, affiliate=affiliate)

    assert (private_error.code, private_error.status) == ("not_found", 404)
    assert (archived_error.code, archived_error.status) == ("not_found", 404)
    assert CampaignAccess.objects.count() == 0


def test_access_apply_private_campaign_returns_the_invitation():
    campaign = CampaignFactory(visibility=Visibility.PRIVATE)
    invited = CampaignAccessFactory(campaign=campaign, status=AccessStatus.APPROVED)

    access = services.access_apply(campaign=campaign, affiliate=invited.affiliate)

    assert access.pk == invited.pk


def test_access_apply_refuses_an_affiliate_that_is_not_approved():
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)

    error = _error(services.access_apply, campaign=CampaignFactory(), affiliate=affiliate)

    assert (error.code, error.status) == ("affiliate_not_approved", 403)
    assert CampaignAccess.objects.count() == 0


def test_access_decide_approves_and_emails_the_affiliate_after_commit(
    eager_celery, django_capture_on_commit_callbacks
):
    admin = AdminUserFactory()
    access = CampaignAccessFactory(
        status=AccessStatus.PENDING,
        campaign__name="Summer",
        affiliate__user__email="pub@x.test",
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decided = services.access_decide(
            access=access, status="approved", actor=admin, reason=" welcome "
        )
        assert mail.outbox == []
    for callback in callbacks:
        callback()

    access.refresh_from_db()
    assert decided.status == access.status == AccessStatus.APPROVED
    assert (access.decided_by, access.decision_reason) == (admin, "welcome")
    assert access.decided_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pub@x.test"]
    assert mail.outbox[0].subject == "Campaign “Summer”: access approved"
    assert "has been approved" in mail.outbox[0].body
    assert "Reason: welcome" in mail.outbox[0].body


def test_access_decide_same_status_is_a_no_op_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    access = CampaignAccessFactory(status=AccessStatus.REJECTED, decision_reason="spam")

    with django_capture_on_commit_callbacks() as callbacks:
        services.access_decide(access=access, status="rejected", actor=None, reason="other")

    access.refresh_from_db()
    assert access.decision_reason == "spam"
    assert callbacks == []


@pytest.mark.parametrize(
    ("current", "wanted", "code", "status"),
    [
        (AccessStatus.PENDING, AccessStatus.REVOKED, "invalid_transition", 409),
        (AccessStatus.REJECTED, AccessStatus.REVOKED, "invalid_transition", 409),
        (AccessStatus.REVOKED, AccessStatus.REJECTED, "invalid_transition", 409),
        (AccessStatus.APPROVED, AccessStatus.PENDING, "invalid_status", 400),
    ],
)
def test_access_decide_refuses_invalid_transitions(
    current, wanted, code, status, django_capture_on_commit_callbacks
):
    access = CampaignAccessFactory(status=current)

    with django_capture_on_commit_callbacks() as callbacks:
        error = _error(services.access_decide, access=access, status=wanted, actor=None)

    access.refresh_from_db()
    assert (error.code, error.status) == (code, status)
    assert access.status == current
    assert callbacks == []


def test_access_invite_grants_private_access_and_reapproves_a_revoked_one(
    django_capture_on_commit_callbacks,
):
    admin = AdminUserFactory()
    campaign = CampaignFactory(visibility=Visibility.PRIVATE)
    affiliate = AffiliateFactory()

    with django_capture_on_commit_callbacks() as first_callbacks:
        invited = services.access_invite(campaign=campaign, affiliate=affiliate, actor=admin)
    services.access_decide(access=invited, status="revoked", actor=admin)
    reinvited = services.access_invite(campaign=campaign, affiliate=affiliate, actor=admin)
    with django_capture_on_commit_callbacks() as repeat_callbacks:
        services.access_invite(campaign=campaign, affiliate=affiliate, actor=admin)

    row = CampaignAccess.objects.get()
    assert invited.pk == reinvited.pk == row.pk
    assert (row.status, row.decided_by) == (AccessStatus.APPROVED, admin)
    assert len(first_callbacks) == 1
    assert repeat_callbacks == []


def test_access_invite_refuses_an_archived_campaign():
    campaign = CampaignFactory(status=CampaignStatus.ARCHIVED, visibility=Visibility.PRIVATE)

    error = _error(
        services.access_invite, campaign=campaign, affiliate=AffiliateFactory(), actor=None
    )

    assert (error.code, error.status) == ("invalid_transition", 409)
    assert CampaignAccess.objects.count() == 0


# --- links --------------------------------------------------------------------------------------


def test_link_get_or_create_on_a_public_campaign_grants_access_and_is_idempotent(settings):
    settings.PUBLIC_BASE_URL = "https://track.example"
    campaign = CampaignFactory(visibility=Visibility.PUBLIC)
    affiliate = AffiliateFactory()

    first = services.link_get_or_create(campaign=campaign, affiliate=affiliate)
    second = services.link_get_or_create(campaign=campaign, affiliate=affiliate)

    assert first.pk == second.pk
    assert TrackingLink.objects.count() == 1
    assert len(first.token) == 16
    assert services.link_url(link=first) == f"https://track.example/c/{first.token}"
    access = CampaignAccess.objects.get()
    assert (access.affiliate, access.status) == (affiliate, AccessStatus.APPROVED)


def test_link_get_or_create_needs_approved_access_on_approval_and_private_campaigns():
    affiliate = AffiliateFactory()
    approval = CampaignFactory(visibility=Visibility.APPROVAL)
    private = CampaignFactory(visibility=Visibility.PRIVATE)
    pending = CampaignAccessFactory(
        campaign=CampaignFactory(visibility=Visibility.APPROVAL),
        affiliate=affiliate,
        status=AccessStatus.PENDING,
    )
    revoked = CampaignAccessFactory(
        campaign=CampaignFactory(visibility=Visibility.PUBLIC),
        affiliate=affiliate,
        status=AccessStatus.REVOKED,
    )
    approved = CampaignAccessFactory(
        campaign=CampaignFactory(visibility=Visibility.PRIVATE), affiliate=affiliate
    )

    errors = [
        _error(services.link_get_or_create, campaign=campaign, affiliate=affiliate)
        for campaign in (approval, private, pending.campaign, revoked.campaign)
    ]
    link = services.link_get_or_create(campaign=approved.campaign, affiliate=affiliate)

    assert [(error.code, error.status) for error in errors] == [("not_found", 404)] * 4
    assert list(TrackingLink.objects.values_list("pk", flat=True)) == [link.pk]
    assert CampaignAccess.objects.count() == 3


def test_link_get_or_create_refuses_an_affiliate_that_is_not_approved():
    access = CampaignAccessFactory(affiliate__status=ApprovalStatus.SUSPENDED)

    error = _error(
        services.link_get_or_create, campaign=access.campaign, affiliate=access.affiliate
    )

    assert (error.code, error.status) == ("affiliate_not_approved", 403)
    assert TrackingLink.objects.count() == 0


def test_link_get_or_create_refuses_an_archived_campaign():
    access = CampaignAccessFactory(campaign__status=CampaignStatus.ARCHIVED)

    error = _error(
        services.link_get_or_create, campaign=access.campaign, affiliate=access.affiliate
    )

    assert (error.code, error.status) == ("not_found", 404)


@pytest.mark.django_db(transaction=True)
def test_link_get_or_create_under_concurrency_creates_one_access_and_one_link():
    campaign = CampaignFactory(visibility=Visibility.PUBLIC)
    affiliate = AffiliateFactory()
    workers = 6
    barrier = threading.Barrier(workers)
    tokens: list[str] = []
    failures: list[BaseException] = []

    def request_link() -> None:
        try:
            barrier.wait(timeout=10)
            link = services.link_get_or_create(campaign=campaign, affiliate=affiliate)
            tokens.append(link.token)
        except BaseException as exc:  # collected and asserted in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request_link) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert len(tokens) == workers
    assert set(tokens) == {TrackingLink.objects.get().token}
    assert CampaignAccess.objects.filter(status=AccessStatus.APPROVED).count() == 1


# --- invitations ---------------------------------------------------------------------------------


def test_access_invite_records_who_invited_and_emails_the_invitation_after_commit(
    eager_celery, django_capture_on_commit_callbacks
):
    advertiser = AdvertiserFactory(company="Secret Advertiser Ltd")
    campaign = CampaignFactory(
        advertiser=advertiser, name="VIP", visibility=Visibility.PRIVATE, revshare_percent="65.5"
    )
    affiliate = AffiliateFactory(user__email="pub@x.test", user__name="Pat")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        access = services.access_invite(
            campaign=campaign, affiliate=affiliate, actor=advertiser.user
        )
        assert mail.outbox == []
    for callback in callbacks:
        callback()

    access.refresh_from_db()
    assert (access.status, access.invited_by, access.decided_by, access.message) == (
        AccessStatus.APPROVED,
        advertiser.user,
        advertiser.user,
        "",
    )
    assert access.invited_at == access.decided_at
    assert access.invited_at is not None
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["pub@x.test"], "Invitation to the campaign “VIP”")
    ]
    assert mail.outbox[0].body.splitlines() == [
        "Hello Pat,",
        "",
        f"You have been invited to promote the campaign “VIP” (#{campaign.pk}).",
        "Your access is approved: get your tracking link and start sending traffic.",
        "",
        "Your payout: 65.5 % of the revenue of each approved conversion.",
        "",
        "Your campaigns and links: http://testserver/portal/affiliate/campaigns/",
        f"Through the API: GET http://testserver/api/campaigns/{campaign.pk}/link",
    ]


@pytest.mark.parametrize(
    "status", [ApprovalStatus.PENDING, ApprovalStatus.REJECTED, ApprovalStatus.SUSPENDED]
)
def test_access_invite_refuses_an_affiliate_that_is_not_approved(
    status, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(visibility=Visibility.PRIVATE)

    with django_capture_on_commit_callbacks() as callbacks:
        error = _error(
            services.access_invite,
            campaign=campaign,
            affiliate=AffiliateFactory(status=status),
            actor=None,
        )

    assert (error.code, error.status, error.fields) == (
        "affiliate_not_approved",
        400,
        {"affiliate_id": ["This affiliate's account is not approved."]},
    )
    assert CampaignAccess.objects.count() == 0
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_access_invite_under_concurrency_creates_one_access_and_sends_one_email(eager_celery):
    campaign = CampaignFactory(visibility=Visibility.PRIVATE)
    affiliate = AffiliateFactory()
    workers = 6
    barrier = threading.Barrier(workers)
    accesses: list[int] = []
    failures: list[BaseException] = []

    def invite() -> None:
        try:
            barrier.wait(timeout=10)
            access = services.access_invite(campaign=campaign, affiliate=affiliate, actor=None)
            accesses.append(access.pk)
        except BaseException as exc:  # collected and asserted in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=invite) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert set(accesses) == {CampaignAccess.objects.get().pk}
    assert len(accesses) == workers
    assert len(mail.outbox) == 1

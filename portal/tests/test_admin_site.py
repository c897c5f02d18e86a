"""The operator console (the Django admin): its index shows the network's figures of today and
of this month from the rollups and every approval queue one click away; every action asks for
confirmation (the selected objects listed) before it changes anything."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Advertiser, Affiliate, ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.models import AccessStatus, Campaign, CampaignAccess, CampaignStatus, PartnerKey
from campaigns.tests.factories import (
    CampaignAccessFactory,
    CampaignFactory,
    PartnerKeyFactory,
    TrackingLinkFactory,
)
from forwarding.models import Delivery, DeliveryStatus, PostbackEndpoint
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from payouts import services as payout_services
from payouts.models import PayoutRequest, PayoutStatus
from payouts.tests.factories import funded_affiliate
from portal.admin_site import ConsoleAdminSite
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import click_add, conversion_add
from tracker.models import ConversionStatus

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 12, 9, 30, tzinfo=dt.UTC)
TODAY = dt.datetime(2026, 3, 12, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.fixture
def admin_user():
    return AdminUserFactory()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- the index --------------------------------------------------------------------------------


def test_the_admin_site_is_the_console_and_registrations_still_land_on_it():
    from django.contrib import admin

    assert isinstance(admin.site, ConsoleAdminSite)
    assert admin.site.is_registered(Campaign)
    assert admin.site.is_registered(Delivery)


def test_index_shows_today_and_this_month_from_the_rollups(admin_client):
    usd = CampaignFactory(currency="USD")
    eur = CampaignFactory(currency="EUR")
    usd_link, eur_link = TrackingLinkFactory(campaign=usd), TrackingLinkFactory(campaign=eur)
    today_click = click_add(link=usd_link, at=TODAY + 8 * H)
    click_add(link=usd_link, at=TODAY + 9 * H, is_unique=False)
    earlier_click = click_add(link=eur_link, at=TODAY - 5 * 24 * H)
    click_add(link=usd_link, at=TODAY - 12 * 24 * H)  # February: neither period
    conversion_add(
        click=today_click,
        status=ConversionStatus.APPROVED,
        at=TODAY + 8 * H,
        revenue=Decimal("5.0000"),
        payout=Decimal("4.0000"),
    )
    conversion_add(
        click=earlier_click,
        status=ConversionStatus.APPROVED,
        at=TODAY - 5 * 24 * H,
        revenue=Decimal("3.0000"),
        payout=Decimal("2.5000"),
    )
    conversion_add(
        click=click_add(link=eur_link, at=TODAY - 4 * 24 * H),
        status=ConversionStatus.PENDING,
        at=TODAY - 4 * 24 * H,
    )
    stats_refresh(now=NOW)
    click_add(link=usd_link, at=TODAY + 9 * H)  # not rolled up yet: not counted

    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/")

    console = response.context["console"]
    assert response.status_code == 200
    today, month = console.today, console.month
    assert (today.date_from, today.date_to) == (dt.date(2026, 3, 12), dt.date(2026, 3, 12))
    assert (month.date_from, month.date_to) == (dt.date(2026, 3, 1), dt.date(2026, 3, 12))
    figures = ("clicks", "unique_clicks", "conversions", "approved", "pending")
    assert [getattr(today, name) for name in figures] == [2, 1, 1, 1, 0]
    assert [getattr(month, name) for name in figures] == [4, 3, 3, 2, 1]
    assert [(m.currency, m.today, m.month) for m in console.money] == [
        (
            "EUR",
            {"revenue": Decimal(0), "payout": Decimal(0), "margin": Decimal(0)},
            {"revenue": Decimal("3.0000"), "payout": Decimal("2.5000"), "margin": Decimal("0.5")},
        ),
        (
            "USD",
            {"revenue": Decimal("5.0000"), "payout": Decimal("4.0000"), "margin": Decimal("1")},
            {"revenue": Decimal("5.0000"), "payout": Decimal("4.0000"), "margin": Decimal("1")},
        ),
    ]
    assert [
        (row.code, row.currency, row.conversions, row.approved, row.revenue, row.payout)
        for row in console.events
    ] == [
        ("default", "EUR", 2, 1, Decimal("3.0000"), Decimal("2.5000")),
        ("default", "USD", 1, 1, Decimal("5.0000"), Decimal("4.0000")),
    ]
    # no click carried a device type: all under "Unknown", most clicks then conversions first
    assert [(row.label, row.currency, row.clicks, row.conversions) for row in console.devices] == [
        ("Unknown", "EUR", 2, 2),
        ("Unknown", "USD", 2, 1),
    ]
    html = response.content.decode()
    for row in [
        '<tr><th scope="row">Clicks</th><td class="number">2</td><td class="number">4</td></tr>',
        '<tr><th scope="row">Margin (EUR)</th><td class="number">€0.00</td>'
        '<td class="number">€0.50</td></tr>',
        '<tr><th scope="row">Revenue (USD)</th><td class="number">$5.00</td>'
        '<td class="number">$5.00</td></tr>',
    ]:
        assert row in html, row
    assert not any('"tracker_click"' in query["sql"] for query in queries.captured_queries)


def test_index_puts_every_approval_queue_one_click_away(admin_client):
    AffiliateFactory(status=ApprovalStatus.APPROVED)
    waiting_affiliates = [AffiliateFactory(status=ApprovalStatus.PENDING) for _ in range(2)]
    waiting_advertiser = AdvertiserFactory(status=ApprovalStatus.PENDING)
    application = CampaignAccessFactory(status=AccessStatus.PENDING)
    requested = payout_services.payout_request_create(
        affiliate=funded_affiliate(available=Decimal("80")), amount="60", currency="USD"
    )
    approved = payout_services.payout_request_create(
        affiliate=funded_affiliate(available=Decimal("80")), amount="70", currency="USD"
    )
    payout_services.payout_approve(payout=approved, actor=None)
    link = TrackingLinkFactory()
    pending_conversion = conversion_add(
        click=click_add(link=link, at=NOW - H), status=ConversionStatus.PENDING, at=NOW - H
    )

    response = admin_client.get("/admin/")

    queues = [(q.label, q.count, q.url) for q in response.context["console"].pending]
    assert queues == [
        ("Affiliates to approve", 2, "/admin/accounts/affiliate/?status__exact=pending"),
        ("Advertisers to approve", 1, "/admin/accounts/advertiser/?status__exact=pending"),
        (
            "Campaign applications to decide",
            1,
            "/admin/campaigns/campaignaccess/?status__exact=pending",
        ),
        ("Payout requests to approve", 1, "/admin/payouts/payoutrequest/?status__exact=requested"),
        ("Approved payouts to pay", 1, "/admin/payouts/payoutrequest/?status__exact=approved"),
        ("Conversions pending approval", 1, "/admin/tracker/conversion/?status__exact=pending"),
    ]
    expected_rows = [
        {a.pk for a in waiting_affiliates},
        {waiting_advertiser.pk},
        {application.pk},
        {requested.pk},
        {approved.pk},
        {pending_conversion.pk},
    ]
    for (_label, _count, url), expected in zip(queues, expected_rows, strict=True):
        changelist = admin_client.get(url)
        assert {row.pk for row in changelist.context["cl"].result_list} == expected, url
    html = response.content.decode()
    assert (
        '<tr><th scope="row"><a href="/admin/accounts/affiliate/?status__exact=pending">'
        'Affiliates to approve</a></th><td class="number">2</td></tr>'
    ) in html


def test_staff_see_only_the_queues_they_may_open(client):
    staff = AdminUserFactory(is_superuser=False)
    staff.user_permissions.add(Permission.objects.get(codename="view_payoutrequest"))
    client.force_login(staff)

    response = client.get("/admin/")

    assert [q.label for q in response.context["console"].pending] == [
        "Payout requests to approve",
        "Approved payouts to pay",
    ]


# --- the fraud report -------------------------------------------------------------------------


def test_the_fraud_report_page_counts_signals_per_affiliate_campaign_and_signal(admin_client):
    # given a flagged click and a flagged approved conversion on a USD campaign
    campaign = CampaignFactory(currency="USD", name="Leads US")
    link = TrackingLinkFactory(campaign=campaign, affiliate__company="Aff One")
    click = click_add(link=link, at=TODAY + H, fraud_signals=["datacenter"])
    conversion = conversion_add(click=click, status=ConversionStatus.APPROVED, at=TODAY + 2 * H)
    conversion.fraud_signals = ["too_fast"]
    conversion.save(update_fields=["fraud_signals"])

    # when the operator opens the index, then the report for today
    with time_machine.travel(NOW, tick=False):
        index = admin_client.get("/admin/")
        response = admin_client.get(
            "/admin/reports/fraud/", {"date_from": "2026-03-12", "date_to": "2026-03-12"}
        )

    # then the index links to it and it shows each signal by name, with the money at stake
    assert 'href="/admin/reports/fraud/"' in index.content.decode()
    assert response.status_code == 200
    table = response.context["report_table"]
    assert [label for label, _ in table.headings] == [
        "Campaign",
        "Affiliate",
        "Signal",
        "Currency",
        "Flagged clicks",
        "Blocked",
        "Flagged conversions",
        "Pending",
        "Approved",
        "Rejected",
        "Reversed",
        "Revenue",
        "Payout",
    ]
    assert [[cell.value for cell in row] for row in table.rows] == [
        ["Leads US", "Aff One", "datacenter", "USD", 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [
            "Leads US",
            "Aff One",
            "too_fast",
            "USD",
            0,
            0,
            1,
            0,
            1,
            0,
            0,
            Decimal("5.0000"),
            Decimal("4.0000"),
        ],
    ]
    html = response.content.decode()
    assert "<strong>Leads US</strong>" in html
    assert '<td class="number">$5.00</td>' in html


def test_the_fraud_report_page_refuses_a_period_too_long_and_staff_without_traffic_rights(
    admin_client, client
):
    too_long = admin_client.get(
        "/admin/reports/fraud/", {"date_from": "2020-01-01", "date_to": "2026-03-12"}
    )
    staff = AdminUserFactory(is_superuser=False)
    staff.user_permissions.add(Permission.objects.get(codename="view_payoutrequest"))
    client.force_login(staff)

    refused = client.get("/admin/reports/fraud/")
    index = client.get("/admin/")

    assert too_long.status_code == 200
    assert "A report covers at most 366 days." in too_long.content.decode()
    assert too_long.context["report"] is None
    assert refused.status_code == 403
    assert "/admin/reports/fraud/" not in index.content.decode()


# --- every action asks first ------------------------------------------------------------------


def _payout(status: str = PayoutStatus.REQUESTED) -> PayoutRequest:
    payout = payout_services.payout_request_create(
        affiliate=funded_affiliate(available=Decimal("75"), company="Payee Ltd"),
        amount="75",
        currency="USD",
    )
    if status == PayoutStatus.APPROVED:
        payout = payout_services.payout_approve(payout=payout, actor=None)
    return payout


def _state(obj) -> Any:
    fresh = type(obj).objects.get(pk=obj.pk)
    if isinstance(fresh, PartnerKey):
        return fresh.key
    if isinstance(fresh, PostbackEndpoint):
        return fresh.is_active
    if isinstance(fresh, Delivery):
        return (fresh.status, fresh.attempt_count)
    if isinstance(fresh, Advertiser | Affiliate):
        return (fresh.status, fresh.status_reason)
    if isinstance(fresh, CampaignAccess):
        return (fresh.status, fresh.decision_reason)
    if isinstance(fresh, PayoutRequest):
        return (fresh.status, fresh.note)
    return fresh.status


@dataclass(frozen=True)
class Case:
    changelist: str
    action: str
    make: Callable[[], list]
    question: str  # with {n}: how many were selected
    label: Callable[[Any], str]
    confirmed: Callable[[Any], Any]  # the state of a row once the action ran
    data: dict = field(default_factory=dict)  # what the confirmation form adds (a reason)


def _partner_label(profile) -> str:
    return f"{profile} <{profile.user.email}>: {profile.get_status_display().lower()}"


def _campaign_label(campaign) -> str:
    return f"#{campaign.pk} {campaign.name} ({campaign.advertiser}): {campaign.status}"


def _access_label(access) -> str:
    return f"#{access.pk} {access.affiliate} on {access.campaign.name}: {access.status}"


def _payout_label(payout) -> str:
    return f"#{payout.pk} Payee Ltd: $75.00 by PayPal ({payout.status})"


def _endpoint_label(endpoint) -> str:
    state = "active" if endpoint.is_active else "disabled"
    return f"#{endpoint.pk} {endpoint.affiliate}: GET {endpoint.url} ({state})"


def _delivery_label(delivery) -> str:
    return (
        f"#{delivery.pk} test to {delivery.endpoint.url}: {delivery.status},"
        f" {delivery.attempt_count} attempt(s)"
    )


CASES = {
    "approve affiliates": Case(
        "admin:accounts_affiliate_changelist",
        "mark_approved",
        lambda: [AffiliateFactory(status=ApprovalStatus.PENDING) for _ in range(2)],
        "Approve 2 affiliates? Each is emailed the decision.",
        _partner_label,
        lambda obj: (ApprovalStatus.APPROVED, ""),
    ),
    "reject an affiliate": Case(
        "admin:accounts_affiliate_changelist",
        "mark_rejected",
        lambda: [AffiliateFactory(status=ApprovalStatus.PENDING)],
        "Reject 1 affiliate? Each is emailed the decision.",
        _partner_label,
        lambda obj: (ApprovalStatus.REJECTED, "No website"),
        {"reason": "  No website "},
    ),
    "suspend an advertiser": Case(
        "admin:accounts_advertiser_changelist",
        "mark_suspended",
        lambda: [AdvertiserFactory()],
        "Suspend 1 advertiser? Each is emailed the decision.",
        _partner_label,
        lambda obj: (ApprovalStatus.SUSPENDED, ""),
    ),
    "pause campaigns": Case(
        "admin:campaigns_campaign_changelist",
        "set_paused",
        lambda: [CampaignFactory(), CampaignFactory()],
        "Pause 2 campaigns? Their links keep recording clicks, as blocked, and send"
        " visitors to the fallback URL.",
        _campaign_label,
        lambda obj: CampaignStatus.PAUSED,
    ),
    "resume a campaign": Case(
        "admin:campaigns_campaign_changelist",
        "set_active",
        lambda: [CampaignFactory(status=CampaignStatus.PAUSED)],
        "Resume 1 campaign? Their links track again.",
        _campaign_label,
        lambda obj: CampaignStatus.ACTIVE,
    ),
    "archive a campaign": Case(
        "admin:campaigns_campaign_changelist",
        "set_archived",
        lambda: [CampaignFactory()],
        "Archive 1 campaign? Archiving is final: an archived campaign can never be resumed.",
        _campaign_label,
        lambda obj: CampaignStatus.ARCHIVED,
    ),
    "approve an application": Case(
        "admin:campaigns_campaignaccess_changelist",
        "mark_approved",
        lambda: [CampaignAccessFactory(status=AccessStatus.PENDING)],
        "Approve 1 campaign application? Each affiliate is emailed the decision.",
        _access_label,
        lambda obj: (AccessStatus.APPROVED, ""),
    ),
    "reject applications": Case(
        "admin:campaigns_campaignaccess_changelist",
        "mark_rejected",
        lambda: [CampaignAccessFactory(status=AccessStatus.PENDING) for _ in range(2)],
        "Reject 2 campaign applications? Each affiliate is emailed the decision.",
        _access_label,
        lambda obj: (AccessStatus.REJECTED, "Wrong traffic"),
        {"reason": "Wrong traffic"},
    ),
    "revoke an access": Case(
        "admin:campaigns_campaignaccess_changelist",
        "mark_revoked",
        lambda: [CampaignAccessFactory(status=AccessStatus.APPROVED)],
        "Revoke 1 campaign application? Each affiliate is emailed the decision.",
        _access_label,
        lambda obj: (AccessStatus.REVOKED, ""),
    ),
    "rotate partner keys": Case(
        "admin:campaigns_partnerkey_changelist",
        "rotate_partner_keys",
        lambda: [PartnerKeyFactory(name="Server A")],
        "Rotate 1 partner key? Each gets a new key and signing secret; the old ones keep"
        " working for the grace period, then the partner must use the new ones.",
        lambda key: f"#{key.pk} Server A ({key.advertiser})",
        None,  # a new random key: checked below
    ),
    "approve payouts": Case(
        "admin:payouts_payoutrequest_changelist",
        "approve",
        lambda: [_payout(), _payout()],
        "Approve 2 payout requests? Each affiliate is emailed; the money stays requested"
        " until you mark the payout paid.",
        _payout_label,
        lambda obj: (PayoutStatus.APPROVED, ""),
    ),
    "reject a payout with the default reason": Case(
        "admin:payouts_payoutrequest_changelist",
        "reject",
        lambda: [_payout(PayoutStatus.APPROVED)],
        "Reject 1 payout request? Each amount returns to the affiliate's available"
        " balance and the affiliate is emailed.",
        _payout_label,
        lambda obj: (PayoutStatus.REJECTED, "Rejected by the network."),
    ),
    "reject a payout with a reason": Case(
        "admin:payouts_payoutrequest_changelist",
        "reject",
        lambda: [_payout()],
        "Reject 1 payout request? Each amount returns to the affiliate's available"
        " balance and the affiliate is emailed.",
        _payout_label,
        lambda obj: (PayoutStatus.REJECTED, "Wrong IBAN"),
        {"reason": "Wrong IBAN"},
    ),
    "replay deliveries": Case(
        "admin:forwarding_delivery_changelist",
        "replay_deliveries",
        lambda: [
            DeliveryFactory(status=DeliveryStatus.FAILED, attempt_count=8),
            DeliveryFactory(status=DeliveryStatus.DELIVERED, attempt_count=1),
        ],
        "Replay 2 deliveries? Each is sent again with the same webhook-id and a fresh"
        " retry schedule; pending ones are left as they are.",
        _delivery_label,
        lambda obj: (DeliveryStatus.PENDING, 0),
    ),
    "disable an endpoint": Case(
        "admin:forwarding_postbackendpoint_changelist",
        "disable_endpoints",
        lambda: [PostbackEndpointFactory()],
        "Disable 1 postback endpoint? Their pending deliveries are cancelled and their"
        " owners see them disabled by an admin.",
        _endpoint_label,
        lambda obj: False,
    ),
    "enable an endpoint": Case(
        "admin:forwarding_postbackendpoint_changelist",
        "enable_endpoints",
        lambda: [PostbackEndpointFactory(is_active=False)],
        "Enable 1 postback endpoint? They receive the next matching events.",
        _endpoint_label,
        lambda obj: True,
    ),
    "send a test event": Case(
        "admin:forwarding_postbackendpoint_changelist",
        "send_test",
        lambda: [PostbackEndpointFactory()],
        "Send a test event to 1 postback endpoint (at most 10)? Each is a real signed HTTP"
        " request to the affiliate's server, sent by a worker: the answers appear on the"
        " deliveries' pages.",
        _endpoint_label,
        None,  # confirming queues a test for the worker: covered by tracker's admin tests
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_action_shows_its_confirmation_and_changes_nothing(
    admin_client, case, django_capture_on_commit_callbacks
):
    objects = case.make()
    before = [_state(obj) for obj in objects]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reverse(case.changelist),
            {"action": case.action, "_selected_action": [obj.pk for obj in objects]},
        )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/action_confirmation.html"
    assert response.context["question"] == case.question
    opts = type(objects[0])._meta
    assert response.context["objects"] == [
        (
            case.label(obj),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
        )
        for obj in sorted(objects, key=lambda obj: obj.pk)
    ]
    html = response.content.decode()
    assert f'<input type="hidden" name="action" value="{case.action}">' in html
    for obj in objects:
        assert f'<input type="hidden" name="_selected_action" value="{obj.pk}">' in html
    assert [_state(obj) for obj in objects] == before
    assert (callbacks, mail.outbox) == ([], [])


@pytest.mark.parametrize(
    "case", [case for case in CASES.values() if case.action != "send_test"], ids=lambda c: c.action
)
def test_confirming_an_action_applies_it_to_exactly_the_selection(admin_client, case):
    objects = case.make()
    bystander = case.make()[0]
    before = _state(bystander)

    response = admin_client.post(
        reverse(case.changelist),
        {
            "action": case.action,
            "_selected_action": [obj.pk for obj in objects],
            "confirm": "yes",
            **case.data,
        },
    )

    assert response.status_code == 302
    if case.confirmed is None:  # rotation: a new key, the old one kept for the grace period
        for obj in objects:
            fresh = PartnerKey.objects.get(pk=obj.pk)
            assert (fresh.key != obj.key, fresh.previous_key) == (True, obj.key)
    else:
        assert [_state(obj) for obj in objects] == [case.confirmed(obj) for obj in objects]
    assert _state(bystander) == before


def test_confirming_across_a_filtered_changelist_acts_on_every_filtered_row(admin_client):
    waiting = [AffiliateFactory(status=ApprovalStatus.PENDING) for _ in range(3)]
    approved = AffiliateFactory(status=ApprovalStatus.APPROVED)
    url = reverse("admin:accounts_affiliate_changelist") + "?status__exact=pending"
    form = {"action": "mark_rejected", "_selected_action": [waiting[0].pk], "select_across": "1"}

    page = admin_client.post(url, form)
    done = admin_client.post(url, {**form, "confirm": "yes", "reason": "Batch"})

    assert page.context["question"] == "Reject 3 affiliates? Each is emailed the decision."
    assert done.status_code == 302
    assert sorted(Affiliate.objects.values_list("pk", "status")) == sorted(
        [(a.pk, ApprovalStatus.REJECTED) for a in waiting] + [(approved.pk, "approved")]
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_view_only_staff_are_not_offered_an_action_and_cannot_post_it(client, case):
    objects = case.make()
    before = [_state(obj) for obj in objects]
    opts = type(objects[0])._meta
    staff = AdminUserFactory(is_superuser=False)
    staff.user_permissions.add(
        Permission.objects.get(
            content_type__app_label=opts.app_label, codename=f"view_{opts.model_name}"
        )
    )
    client.force_login(staff)

    changelist = client.get(reverse(case.changelist))
    attempt = client.post(
        reverse(case.changelist),
        {
            "action": case.action,
            "_selected_action": [obj.pk for obj in objects],
            "confirm": "yes",
            **case.data,
        },
    )

    assert changelist.status_code == 200
    assert f'value="{case.action}"' not in changelist.content.decode()
    # Payouts keep one action for viewers (the CSV export): the unknown one is refused with
    # "No action selected." and a redirect. Elsewhere no action is left: the POST is a listing.
    if case.changelist == "admin:payouts_payoutrequest_changelist":
        assert (attempt.status_code, attempt["Location"]) == (302, reverse(case.changelist))
    else:
        assert (attempt.status_code, attempt.templates[0].name) == (200, "admin/change_list.html")
    assert [_state(obj) for obj in objects] == before

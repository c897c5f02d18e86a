import re
import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from campaigns.tests.factories import ConversionEventFactory, PricingRuleFactory, network
from core.formatting import format_money
from tracker.admin import EstimatedCountPaginator
from tracker.models import (
    ChangeSource,
    Click,
    Conversion,
    ConversionStatus,
    EndUserPoints,
    PostbackLog,
)
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(client):
    """The seeded demo network with some traffic, and a client logged in as its admin."""
    call_command(
        "seed_demo", clicks=400, seed=11, conversion_rate=0.25, verbosity=0, stdout=StringIO()
    )
    conversion = Conversion.objects.filter(status=ConversionStatus.APPROVED).first()
    PostbackLog.objects.create(
        received_at=timezone.now(),
        endpoint="postback",
        method="POST",
        key="demo-partner-key-0000000000000000",
        source_ip="203.0.113.7",
        content_type="application/json",
        body='{"click_id": "abc", "payout": 5.00, "user_age": 28}',
        params={"click_id": "abc", "payout": "5.00", "user_age": 28},
        click_id="abc",
        transaction_id="TXN-ADMIN-1",
        outcome="created",
        http_status=200,
        warnings=["click found by offer_id"],
        conversion=conversion,
    )
    admin = User.objects.get(email="admin@clickledger.local")
    client.force_login(admin)
    return admin


@pytest.mark.parametrize("model", ["click", "conversion", "postbacklog", "enduserpoints"])
def test_changelists_render_for_the_admin(client, demo, model):
    response = client.get(reverse(f"admin:tracker_{model}_changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("click", {"is_unique__exact": "0"}),
        ("click", {"blocked_reason": "targeting_country"}),
        ("click", {"q": "fb"}),
        ("conversion", {"status__exact": "approved"}),
        ("conversion", {"q": "TXN-ADMIN-1"}),
        ("postbacklog", {"outcome__exact": "created", "q": "abc"}),
        ("enduserpoints", {"q": "u1-0001"}),
    ],
)
def test_filtered_and_searched_changelists_render(client, demo, model, query):
    response = client.get(reverse(f"admin:tracker_{model}_changelist"), query)

    assert response.status_code == 200


def test_click_search_is_exact_on_click_id_and_sub_ids(client, demo):
    click = Click.objects.order_by("id").first()

    by_id = client.get(reverse("admin:tracker_click_changelist"), {"q": click.click_id})
    by_prefix = client.get(reverse("admin:tracker_click_changelist"), {"q": click.click_id[:6]})

    assert [c.pk for c in by_id.context["cl"].result_list] == [click.pk]
    assert list(by_prefix.context["cl"].result_list) == []


def test_conversion_search_by_click_id_finds_its_conversion(client, demo):
    conversion = Conversion.objects.select_related("click").first()

    response = client.get(
        reverse("admin:tracker_conversion_changelist"), {"q": conversion.click.click_id}
    )

    assert [c.pk for c in response.context["cl"].result_list] == [conversion.pk]


def test_conversion_search_by_transaction_id_uses_the_campaign_key(client, demo):
    conversion = Conversion.objects.exclude(transaction_id="").first()

    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            reverse("admin:tracker_conversion_changelist"), {"q": conversion.transaction_id}
        )

    assert [c.pk for c in response.context["cl"].result_list] == [conversion.pk]
    count = next(q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"])
    assert '"tracker_conversion"."campaign_id" IN (' in count  # (campaign, transaction id) key
    assert "tracker_click" not in count  # the click id was resolved first, by its unique index


def test_click_search_by_sub_id_when_the_term_is_no_click_id(client, demo):
    click = Click.objects.exclude(sub3="").order_by("id").first()
    expected = list(Click.objects.filter(sub3=click.sub3).order_by("-id").values_list("pk"))

    response = client.get(reverse("admin:tracker_click_changelist"), {"q": click.sub3})

    assert 0 < len(expected) <= 50
    assert [(c.pk,) for c in response.context["cl"].result_list] == expected


def test_changeforms_render_read_only(client, demo):
    click = Click.objects.first()
    conversion = Conversion.objects.filter(history__isnull=False).first()
    log = PostbackLog.objects.get()
    points = EndUserPoints.objects.first()

    pages = {
        "click": client.get(reverse("admin:tracker_click_change", args=[click.pk])),
        "conversion": client.get(reverse("admin:tracker_conversion_change", args=[conversion.pk])),
        "postbacklog": client.get(reverse("admin:tracker_postbacklog_change", args=[log.pk])),
        "enduserpoints": client.get(
            reverse("admin:tracker_enduserpoints_change", args=[points.pk])
        ),
    }

    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert all(not page.context["has_change_permission"] for page in pages.values())
    assert pages["conversion"].context["inline_admin_formsets"][0].formset.queryset.count() == (
        conversion.history.count()
    )
    assert "&quot;user_age&quot;: 28" in pages["postbacklog"].content.decode()
    assert "click found by offer_id" in pages["postbacklog"].content.decode()


def test_conversion_changeform_shows_custom_data_pretty(client, demo):
    conversion = Conversion.objects.exclude(custom_data={}).first()

    response = client.get(reverse("admin:tracker_conversion_change", args=[conversion.pk]))

    key = sorted(conversion.custom_data)[0]
    assert f"\n  &quot;{key}&quot;: " in response.content.decode()


def test_tracking_rows_cannot_be_added_or_deleted(client, demo):
    conversion = Conversion.objects.first()

    add = client.get(reverse("admin:tracker_click_add"))
    delete = client.post(reverse("admin:tracker_conversion_delete", args=[conversion.pk]))

    assert (add.status_code, delete.status_code) == (403, 403)
    assert Conversion.objects.filter(pk=conversion.pk).exists()


def test_reverse_action_asks_for_a_reason_first(client, demo):
    conversion = Conversion.objects.filter(status=ConversionStatus.APPROVED).first()
    pending = Conversion.objects.filter(status=ConversionStatus.PENDING).first()

    response = client.post(
        reverse("admin:tracker_conversion_changelist"),
        {"action": "reverse_with_reason", "_selected_action": [conversion.pk, pending.pk]},
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/action_confirmation.html"
    assert [label for label, _url in response.context["objects"]] == [
        f"#{row.pk} · {row.status} · {row.campaign} · {row.affiliate}"
        f" · click {row.click.click_id} · {format_money(row.payout, row.currency)}"
        for row in sorted([conversion, pending], key=lambda row: row.pk)
    ]
    assert response.context["question"].startswith("Reverse 2 conversions? A reversal is final:")
    assert response.context["warning"] == (
        "1 of them is not approved; only approved conversions can be reversed, the others will"
        " be reported and left as they are."
    )
    html = response.content.decode()
    assert 'name="reason"' in html
    assert '<label for="id_reason" class="required">Reason:</label>' in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert '<input type="submit" value="Reverse with this reason">' in html
    conversion.refresh_from_db()
    assert conversion.status == ConversionStatus.APPROVED


def test_reverse_action_refuses_an_empty_reason(client, demo):
    conversion = Conversion.objects.filter(status=ConversionStatus.APPROVED).first()
    history_before = conversion.history.count()

    response = client.post(
        reverse("admin:tracker_conversion_changelist"),
        {
            "action": "reverse_with_reason",
            "_selected_action": [conversion.pk],
            "confirm": "yes",
            "reason": "  ",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    conversion.refresh_from_db()
    assert conversion.status == ConversionStatus.APPROVED
    assert conversion.history.count() == history_before


def test_reverse_action_reverses_through_the_service_with_history(client, demo):
    approved = Conversion.objects.filter(status=ConversionStatus.APPROVED).exclude(user_id="")
    conversion = approved.first()
    pending = Conversion.objects.filter(status=ConversionStatus.PENDING).first()
    points_before = EndUserPoints.objects.get(
        affiliate_id=conversion.affiliate_id, user_id=conversion.user_id
    ).points
    pending_history = pending.history.count()

    response = client.post(
        reverse("admin:tracker_conversion_changelist"),
        {
            "action": "reverse_with_reason",
            "_selected_action": [conversion.pk, pending.pk],
            "confirm": "yes",
            "reason": "Chargeback reported by the advertiser",
        },
    )

    assert response.status_code == 302
    conversion.refresh_from_db()
    pending.refresh_from_db()
    assert (conversion.status, conversion.points_awarded) == (
        ConversionStatus.REVERSED,
        Decimal("0.0000"),
    )
    last = conversion.history.order_by("id").last()
    assert (last.from_status, last.to_status, last.source, last.actor, last.reason) == (
        ConversionStatus.APPROVED,
        ConversionStatus.REVERSED,
        ChangeSource.ADMIN,
        demo,
        "Chargeback reported by the advertiser",
    )
    assert (last.revenue, last.payout) == (conversion.revenue, conversion.payout)
    assert (
        EndUserPoints.objects.get(
            affiliate_id=conversion.affiliate_id, user_id=conversion.user_id
        ).points
        == points_before - conversion.payout
    )
    assert pending.status == ConversionStatus.PENDING
    assert pending.history.count() == pending_history
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Conversion #{pending.pk}: A pending conversion cannot become reversed.",
        "Reversed 1 conversion(s).",
    ]


def test_paginator_counts_exactly_when_cheap():
    call_command("seed_demo", clicks=150, seed=12, verbosity=0, stdout=StringIO())

    paginator = EstimatedCountPaginator(Click.objects.all(), 50)

    assert paginator.count == 150
    assert _statement_timeout() == "0"


def test_paginator_estimates_when_the_count_is_slow():
    call_command("seed_demo", clicks=150, seed=13, verbosity=0, stdout=StringIO())
    # Every row costs 2 ms to filter: 300 ms, far over the paginator's 50 ms budget.
    slow = Click.objects.alias(slow=RawSQL("pg_sleep(0.002)::text", [])).filter(slow="")

    paginator = EstimatedCountPaginator(slow, 50)

    estimate = EstimatedCountPaginator._estimate(slow, connection)
    assert paginator.count == estimate
    assert estimate != 150
    assert _statement_timeout() == "0"
    assert Click.objects.count() == 150


def _statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_postback_log_ids_are_uuids_in_the_admin_url(client, demo):
    log = PostbackLog.objects.get()

    response = client.get(reverse("admin:tracker_postbacklog_change", args=[log.pk]))

    assert isinstance(log.pk, uuid.UUID)
    assert str(log.pk) in response.content.decode()


def test_view_only_staff_sees_conversions_but_cannot_reverse(client, demo):
    viewer = User.objects.create_user(
        email="viewer@clickledger.local", password="x-long-passphrase", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_conversion"))
    client.force_login(viewer)
    conversion = Conversion.objects.filter(status=ConversionStatus.APPROVED).first()

    changelist = client.get(reverse("admin:tracker_conversion_changelist"))
    attempt = client.post(
        reverse("admin:tracker_conversion_changelist"),
        {
            "action": "reverse_with_reason",
            "_selected_action": [conversion.pk],
            "confirm": "yes",
            "reason": "not allowed",
        },
    )

    assert changelist.status_code == 200
    assert "reverse_with_reason" not in changelist.content.decode()
    assert attempt.status_code == 200
    assert list(get_messages(attempt.wsgi_request)) == []
    conversion.refresh_from_db()
    assert conversion.status == ConversionStatus.APPROVED


@pytest.mark.parametrize(
    "changelist",
    ["/admin/tracker/click/", "/admin/tracker/conversion/", "/admin/tracker/enduserpoints/"],
)
def test_filtering_by_affiliate_uses_the_link_the_admin_offers(client, changelist):
    from accounts.tests.factories import AdminUserFactory, AffiliateFactory

    # Two affiliates: the admin hides a related-field filter with a single choice.
    affiliate, _other = AffiliateFactory(), AffiliateFactory()
    client.force_login(AdminUserFactory())
    page = client.get(changelist).content.decode()

    links = re.findall(r'href="(\?affiliate__[^"]+)"', page)
    assert links, "the changelist offers an affiliate filter"
    for link in links:
        assert client.get(changelist + link.replace("&amp;", "&")).status_code == 200, link
    assert client.get(f"{changelist}?affiliate__user__exact={affiliate.pk}").status_code == 200


def test_conversion_changelist_shows_and_filters_by_event_and_rule(client):
    net = network()
    ConversionEventFactory(campaign=net.campaign1, code="sale")
    rule = PricingRuleFactory(campaign=net.campaign1, country="")
    lead = postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, payout="5")
    sale = postback(
        net.key1, click_id=ClickFactory(link=net.link1).click_id, payout="5", event="sale"
    )
    client.force_login(net.admin)
    url = reverse("admin:tracker_conversion_changelist")

    everything = client.get(url)
    sales = client.get(url, {"event": "sale"})

    assert [row.pk for row in everything.context["cl"].result_list] == [sale.pk, lead.pk]
    assert [row.pk for row in sales.context["cl"].result_list] == [sale.pk]
    assert f"#{rule.pk}" in everything.content.decode()
    assert ("sale", "sale") in everything.context["cl"].filter_specs[1].lookup_choices


def test_click_and_conversion_changelists_show_device_and_filter_by_fraud_signals(client):
    # given a flagged click that converted with a flagged conversion, and a clean click
    net = network()
    flagged_click = ClickFactory(
        link=net.link1,
        device_type="mobile",
        os="iOS",
        browser="Safari",
        fraud_signals=["datacenter"],
    )
    clean_click = ClickFactory(link=net.link1, device_type="desktop")
    flagged = postback(net.key1, click_id=flagged_click.click_id, payout="5")
    Conversion.objects.filter(pk=flagged.pk).update(fraud_signals=["too_fast"])
    clean = postback(net.key1, click_id=clean_click.click_id, payout="5")
    client.force_login(net.admin)
    clicks_url = reverse("admin:tracker_click_changelist")
    conversions_url = reverse("admin:tracker_conversion_changelist")

    # when the operator filters each list by fraud signals
    flagged_clicks = client.get(clicks_url, {"fraud": "yes"})
    clean_clicks = client.get(clicks_url, {"fraud": "no"})
    flagged_conversions = client.get(conversions_url, {"fraud": "yes"})
    clean_conversions = client.get(conversions_url, {"fraud": "no"})

    # then each shows the rows with (or without) signals, with the device and the flag
    assert [row.pk for row in flagged_clicks.context["cl"].result_list] == [flagged_click.pk]
    assert [row.pk for row in clean_clicks.context["cl"].result_list] == [clean_click.pk]
    assert [row.pk for row in flagged_conversions.context["cl"].result_list] == [flagged.pk]
    assert [row.pk for row in clean_conversions.context["cl"].result_list] == [clean.pk]
    assert "mobile · iOS · Safari" in flagged_clicks.content.decode()
    assert "⚑ datacenter" in flagged_clicks.content.decode()
    assert "⚑ too_fast" in flagged_conversions.content.decode()
    assert "mobile · iOS · Safari" in flagged_conversions.content.decode()
    detail = client.get(reverse("admin:tracker_click_change", args=[flagged_click.pk]))
    assert "⚑ datacenter" in detail.content.decode()

"""The affiliate portal: dashboard, campaigns and links, postback endpoints and deliveries,
conversions, payouts and end-user points, with their CSV exports and query budgets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.events import event_create
from campaigns.models import AccessStatus, CampaignAccess, LandingPage, TrackingLink, Visibility
from campaigns.tests.factories import CampaignFactory, network
from config.celery import app as celery_app
from forwarding.models import Delivery, DeliveryAttempt, PostbackEndpoint
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from payouts.models import PayoutRequest
from payouts.tests.factories import conversion_approve
from portal.tests.factories import portal_client
from reporting.services.rollups import stats_refresh
from tests.support.http import Receiver
from tracker.models import EndUserPoints
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """Tasks run inline when published, as an idle worker would run them at once."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_dashboard_shows_traffic_epc_earnings_and_the_postback_url(django_assert_max_num_queries):
    net = network()
    ClickFactory(link=net.link1)
    ClickFactory(link=net.link1, is_unique=False)
    click = ClickFactory(link=net.link1)
    postback(net.key1, click_id=click.click_id, payout="10.00")
    postback(net.key2, click_id=ClickFactory(link=net.link2).click_id, payout="50")
    PostbackEndpointFactory(affiliate=net.affiliate1, url="https://me.example/pb?c={click_id}")
    stats_refresh()
    client = portal_client(net, "affiliate1")

    with django_assert_max_num_queries(10):
        response = client.get("/portal/affiliate/")

    summary = response.context["summary"]
    assert (summary.clicks, summary.unique_clicks, summary.conversions) == (3, 2, 1)
    assert summary.conversion_rate == Decimal("33.33")
    assert [(m.currency, m.payout, m.epc) for m in summary.money] == [
        ("USD", Decimal("8.0000"), Decimal("2.6667"))
    ]
    assert response.context["balances"] == [
        (
            "USD",
            {
                "pending": Decimal("0.0000"),
                "available": Decimal("8.0000"),
                "requested": Decimal("0.0000"),
                "paid": Decimal("0.0000"),
            },
        )
    ]
    html = response.content.decode()
    assert 'value="https://me.example/pb?c={click_id}"' in html
    assert "Revenue" not in html


def test_dashboard_shows_conversions_and_payout_per_event():
    net = network()
    event_create(
        campaign=net.campaign1,
        data={
            "code": "sale",
            "name": "Sale",
            "payout_type": "revshare",
            "revshare_percent": "10",
            "allow_multiple": True,
        },
    )
    click = ClickFactory(link=net.link1)
    postback(net.key1, click_id=click.click_id, payout="10.00")
    postback(net.key1, click_id=click.click_id, event="sale", transaction_id="S-1", payout="50")
    postback(net.key1, click_id=click.click_id, event="sale", transaction_id="S-2", payout="20")
    stats_refresh()

    response = portal_client(net, "affiliate1").get("/portal/affiliate/?days=7")

    assert [
        (row.code, row.conversions, row.approved, row.payout, row.revenue)
        for row in response.context["events"]
    ] == [
        ("default", 1, 1, Decimal("8.0000"), None),
        ("sale", 2, 2, Decimal("7.0000"), None),
    ]
    assert "<code>sale</code>" in response.content.decode()


def test_browse_apply_and_get_a_link():
    net = network()
    gated = CampaignFactory(name="Gated", visibility=Visibility.APPROVAL)
    CampaignFactory(name="Hidden", visibility=Visibility.PRIVATE)
    client = portal_client(net, "affiliate1")

    listing = client.get("/portal/affiliate/campaigns/?sort=name")
    applied = client.post(
        f"/portal/affiliate/campaigns/{gated.pk}/apply/", {"message": "email list"}
    )
    not_applied = client.get("/portal/affiliate/campaigns/?access=none")
    link_response = client.post(f"/portal/affiliate/campaigns/{net.campaign2.pk}/link/")

    names = [campaign.name for campaign, _ in listing.context["rows"]]
    assert names == ["Campaign one", "Campaign two", "Gated"]
    assert applied["Location"] == "/portal/affiliate/campaigns/"
    access = CampaignAccess.objects.get(campaign=gated, affiliate=net.affiliate1)
    assert (access.status, access.message) == (AccessStatus.PENDING, "email list")
    assert [c.name for c, _ in not_applied.context["rows"]] == ["Campaign two"]
    link = TrackingLink.objects.get(campaign=net.campaign2, affiliate=net.affiliate1)
    assert link_response["Location"] == f"/portal/affiliate/links/{link.pk}/"


def test_link_builder_adds_sub_ids_and_user_id():
    net = network()

    response = portal_client(net, "affiliate1").get(
        f"/portal/affiliate/links/{net.link1.pk}/?sub1=fb&sub2=ad+1&user_id=u%2F7"
    )

    assert response.context["built_url"] == (
        f"http://testserver/c/{net.link1.token}?sub1=fb&sub2=ad+1&user_id=u%2F7"
    )
    assert b'data-copy="built-url"' in response.content


def test_links_list_and_csv(django_assert_max_num_queries):
    net = network()
    client = portal_client(net, "affiliate1")

    with django_assert_max_num_queries(6):
        page = client.get("/portal/affiliate/links/")
    export = client.get("/portal/affiliate/links/?format=csv")

    assert [link.pk for link, _ in page.context["rows"]] == [net.link1.pk]
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == "campaign_id,campaign,url,created_at"
    assert lines[1].startswith(
        f"{net.campaign1.pk},Campaign one,http://testserver/c/{net.link1.token},"
    )
    assert len(lines) == 2


def test_endpoint_create_shows_the_secret_once_and_lints_macros():
    net = network()
    client = portal_client(net, "affiliate1")

    refused = client.post(
        "/portal/affiliate/endpoints/",
        {"url": "https://127.0.0.1:9000/pb?c={clickid}", "method": "GET", "events": ["approved"]},
    )
    created = client.post(
        "/portal/affiliate/endpoints/",
        {
            "name": "Main",
            "url": "http://127.0.0.1:9000/pb?c={click_id}&p={payout}",
            "method": "POST",
            "events": ["approved", "reversed"],
            "campaign": str(net.campaign1.pk),
            "is_active": "on",
        },
    )

    assert refused.context["form"].errors == {"url": ["Unknown macro(s): {clickid}."]}
    endpoint = PostbackEndpoint.objects.get(affiliate=net.affiliate1)
    assert (endpoint.name, endpoint.method, endpoint.events, endpoint.campaign_id) == (
        "Main",
        "POST",
        ["approved", "reversed"],
        net.campaign1.pk,
    )
    assert endpoint.secret in created.content.decode()
    assert endpoint.secret not in client.get("/portal/affiliate/endpoints/").content.decode()


def test_endpoint_edit_and_delete():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    client = portal_client(net, "affiliate1")

    edited = client.post(
        f"/portal/affiliate/endpoints/{endpoint.pk}/",
        {
            "name": "Renamed",
            "url": "http://127.0.0.1:9000/pb?c={click_id}",
            "method": "GET",
            "events": ["pending"],
        },
    )
    endpoint.refresh_from_db()
    state = (endpoint.name, endpoint.url, endpoint.events, endpoint.is_active)
    deleted = client.post(f"/portal/affiliate/endpoints/{endpoint.pk}/delete/")

    assert edited["Location"] == "/portal/affiliate/endpoints/"
    assert state == ("Renamed", "http://127.0.0.1:9000/pb?c={click_id}", ["pending"], False)
    assert deleted["Location"] == "/portal/affiliate/endpoints/"
    assert not PostbackEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_send_test_shows_sending_then_the_receivers_answer(
    eager_celery, django_capture_on_commit_callbacks
):
    # given an endpoint on a receiver
    net = network()
    client = portal_client(net, "affiliate1")
    with Receiver(respond=lambda request, index: (202, {}, b"thanks")) as receiver:
        endpoint = PostbackEndpointFactory(
            affiliate=net.affiliate1, url=receiver.url("/pb?s={status}&c={click_id}")
        )

        # when the affiliate presses "Send a test"
        with django_capture_on_commit_callbacks() as after_commit:
            pressed = client.post(f"/portal/affiliate/endpoints/{endpoint.pk}/test/")
        delivery = Delivery.objects.get()
        page = f"/portal/affiliate/endpoints/{endpoint.pk}/tests/{delivery.pk}/"
        waiting = client.get(page)
        # ... and the worker sends the test queued after commit
        for callback in after_commit:
            callback()
        answered = client.get(page)

        assert [(r.path, r.query) for r in receiver.requests] == [
            ("/pb", {"s": "test", "c": "test-click"})
        ]
    # then it is sent to a page that says "sending" and polls itself, then shows the answer
    assert (pressed.status_code, pressed["Location"]) == (302, page)
    waiting_html = waiting.content.decode()
    assert waiting.status_code == 200
    assert '<span class="badge badge-pending">pending</span>' in waiting_html
    assert "Sending…" in waiting_html
    assert f'data-poll="{page}"' in waiting_html
    assert f'<a class="button button-quiet" href="{page}">Check again</a>' in waiting_html
    assert '<script src="/static/portal/poll.js" defer></script>' in waiting_html
    assert "<script>" not in waiting_html  # no inline code: a CSP may forbid it
    answered_html = answered.content.decode()
    attempt = answered.context["attempt"]
    assert (attempt.status_code, attempt.response_excerpt) == (202, "thanks")
    assert '<span class="badge badge-delivered">delivered</span>' in answered_html
    assert f"<dd>HTTP 202 in {attempt.latency_ms} ms</dd>" in answered_html
    assert "<dd><pre>thanks</pre></dd>" in answered_html
    assert "Sending…" not in answered_html
    assert "data-poll=" not in answered_html


def test_a_test_without_an_answer_shows_the_error():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    delivery = DeliveryFactory(endpoint=endpoint, status="failed", attempt_count=1)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        attempt_number=1,
        attempted_at=delivery.created_at,
        request_url="https://receiver.example/postback?cid=test-click&status=test",
        latency_ms=15002,
        error="timeout after 15 s",
    )
    cancelled = DeliveryFactory(
        endpoint=endpoint, status="cancelled", last_error="endpoint inactive"
    )
    client = portal_client(net, "affiliate1")

    failed = client.get(f"/portal/affiliate/endpoints/{endpoint.pk}/tests/{delivery.pk}/")
    not_sent = client.get(f"/portal/affiliate/endpoints/{endpoint.pk}/tests/{cancelled.pk}/")

    assert "<dd>no answer in 15002 ms</dd>" in failed.content.decode()
    assert (
        '<dt>Error</dt><dd><code class="wrap">timeout after 15 s</code></dd>'
        in failed.content.decode()
    )
    assert "The test was not sent: endpoint inactive." in not_sent.content.decode()


def test_a_sixth_waiting_test_is_refused_with_a_message():
    # given five tests still waiting for the worker
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    client = portal_client(net, "affiliate1")
    for _ in range(5):
        client.post(f"/portal/affiliate/endpoints/{endpoint.pk}/test/")

    # when the affiliate presses once more
    response = client.post(f"/portal/affiliate/endpoints/{endpoint.pk}/test/", follow=True)

    # then it is back on its endpoints with the reason, and nothing more is queued
    assert response.redirect_chain == [("/portal/affiliate/endpoints/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "5 tests are still waiting to be sent: wait for their results before sending another."
    ]
    assert Delivery.objects.count() == 5


def test_a_test_page_shows_only_the_viewers_own_tests():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    test = DeliveryFactory(endpoint=endpoint)
    forward = DeliveryFactory(endpoint=endpoint, event="approved")
    other_endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    mine = portal_client(net, "affiliate1")
    theirs = portal_client(net, "affiliate2")

    def status(client, endpoint_id: int, delivery_id: int) -> int:
        path = f"/portal/affiliate/endpoints/{endpoint_id}/tests/{delivery_id}/"
        return client.get(path).status_code

    assert [
        status(mine, endpoint.pk, test.pk),
        status(mine, endpoint.pk, forward.pk),  # a real forward is not a test
        status(mine, other_endpoint.pk, test.pk),
        status(theirs, endpoint.pk, test.pk),
    ] == [200, 404, 404, 404]


def test_delivery_log_filters_and_replays(django_assert_max_num_queries):
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    failed = DeliveryFactory(endpoint=endpoint, status="failed", last_status_code=500)
    DeliveryFactory(endpoint=endpoint, status="delivered")
    DeliveryFactory(endpoint=PostbackEndpointFactory(affiliate=net.affiliate2), status="failed")
    client = portal_client(net, "affiliate1")

    with django_assert_max_num_queries(9):
        listing = client.get("/portal/affiliate/deliveries/?status=failed")
    replayed = client.post(f"/portal/affiliate/deliveries/{failed.pk}/replay/")
    again = client.post(f"/portal/affiliate/deliveries/{failed.pk}/replay/", follow=True)

    assert [d.pk for d in listing.context["table"].page] == [failed.pk]
    assert replayed["Location"] == "/portal/affiliate/deliveries/"
    failed.refresh_from_db()
    assert (failed.status, failed.attempt_count) == ("pending", 0)
    assert [str(m) for m in again.context["messages"]] == [
        f"Delivery #{failed.pk} queued again.",
        "This delivery is already queued.",
    ]


def test_conversions_show_payout_never_revenue_and_export_csv(django_assert_max_num_queries):
    net = network()
    mine = postback(
        net.key1,
        click_id=ClickFactory(link=net.link1, sub1="s1", sub2="s2").click_id,
        payout="10",
        user_id="u1",
    )
    postback(net.key2, click_id=ClickFactory(link=net.link2).click_id, payout="7")
    client = portal_client(net, "affiliate1")

    with django_assert_max_num_queries(7):
        page = client.get("/portal/affiliate/conversions/")
    export = client.get("/portal/affiliate/conversions/?format=csv")

    assert [c.pk for c in page.context["table"].page] == [mine.pk]
    html = page.content.decode()
    assert '<td class="num">$8.00</td>' in html
    assert "$10.00" not in html
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == (
        "id,created_at,campaign_id,campaign,status,reason,fraud_signals,currency,payout,click_id,"
        "transaction_id,sub1,sub2,sub3,sub4,sub5,user_id,device_type,os,browser"
    )
    assert lines[1].endswith(",approved,,,USD,8.0000," + mine.click.click_id + ",,s1,s2,,,,u1,,,")
    assert len(lines) == 2


def test_payouts_request_errors_history_and_exports():
    net = network()
    conversion_approve(affiliate=net.affiliate1, payout=Decimal("80"))
    client = portal_client(net, "affiliate1")

    too_small = client.post(
        "/portal/affiliate/payouts/", {"amount": "10", "currency": "USD", "method": "paypal"}
    )
    too_big = client.post(
        "/portal/affiliate/payouts/", {"amount": "100", "currency": "USD", "method": "paypal"}
    )
    requested = client.post(
        "/portal/affiliate/payouts/", {"amount": "60", "currency": "USD", "method": "wire"}
    )
    page = client.get("/portal/affiliate/payouts/")
    payouts_export = client.get("/portal/affiliate/payouts/?format=csv")
    statement = client.get("/portal/affiliate/payouts/statement/usd.csv")

    assert too_small.context["form"].errors == {"amount": ["At least $50.00."]}
    assert too_big.context["form"].errors == {"amount": ["At most $80.00."]}
    payout = PayoutRequest.objects.get(affiliate=net.affiliate1)
    assert requested["Location"] == "/portal/affiliate/payouts/"
    assert (payout.amount, payout.method, payout.status) == (
        Decimal("60.0000"),
        "wire",
        "requested",
    )
    assert page.context["balances"][0][1]["available"] == Decimal("20.0000")
    assert page.context["balances"][0][1]["requested"] == Decimal("60.0000")
    payout_lines = b"".join(payouts_export.streaming_content).decode().splitlines()
    assert payout_lines[1].startswith(f"{payout.pk},{net.affiliate1.pk},")
    assert len(payout_lines) == 2
    statement_lines = b"".join(statement.streaming_content).decode().splitlines()
    assert statement["Content-Disposition"] == 'attachment; filename="statement-USD.csv"'
    assert statement_lines[0].startswith("entry_id,transaction_id,created_at,transaction_kind")
    assert len(statement_lines) == 4


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("-0", "negative"),
        ("6E+1", "not a decimal"),
        ("60_0", "not a decimal"),
        ("\u0666\u0660", "not a decimal"),
        ("+60", "a sign is not accepted"),
        ("60.", "digits are needed on both sides of the point"),
    ],
)
def test_payout_request_reads_the_amount_as_a_plain_decimal_only(amount, error):
    net = network()
    conversion_approve(affiliate=net.affiliate1, payout=Decimal("80"))

    response = portal_client(net, "affiliate1").post(
        "/portal/affiliate/payouts/", {"amount": amount, "currency": "USD", "method": "paypal"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"amount": [error]}
    assert not PayoutRequest.objects.exists()


def test_points_list_filters_and_exports(django_assert_max_num_queries):
    net = network()
    EndUserPoints.objects.create(affiliate=net.affiliate1, user_id="alice", points=Decimal("4"))
    EndUserPoints.objects.create(affiliate=net.affiliate1, user_id="bob", points=Decimal("2"))
    EndUserPoints.objects.create(affiliate=net.affiliate2, user_id="alice", points=Decimal("9"))
    client = portal_client(net, "affiliate1")

    with django_assert_max_num_queries(6):
        page = client.get("/portal/affiliate/points/?sort=-points")
    filtered = client.get("/portal/affiliate/points/?q=bo")
    export = client.get("/portal/affiliate/points/?format=csv")

    assert [(r.user_id, r.points) for r in page.context["table"].page] == [
        ("alice", Decimal("4.0000")),
        ("bob", Decimal("2.0000")),
    ]
    assert [r.user_id for r in filtered.context["table"].page] == ["bob"]
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == [
        "user_id,points",
        "alice,4.0000",
        "bob,2.0000",
    ]


def test_dashboard_breaks_traffic_down_by_landing_page_by_name_with_the_apis_numbers(api_client):
    # given clicks on two landing pages of the campaign, one converting
    net = network()
    quiz = LandingPage.objects.create(campaign=net.campaign1, name="Quiz", url="https://q.example")
    form = LandingPage.objects.create(campaign=net.campaign1, name="Form", url="https://f.example")
    ClickFactory(link=net.link1, landing_page=quiz, device_type="mobile")
    ClickFactory(link=net.link1, landing_page=quiz, device_type="mobile")
    converted = ClickFactory(link=net.link1, landing_page=form, device_type="desktop")
    postback(net.key1, click_id=converted.click_id, payout="10.00")
    stats_refresh()
    client = portal_client(net, "affiliate1")

    # when the affiliate picks each breakdown
    by_page = client.get("/portal/affiliate/?days=7&breakdown=landing_page")
    by_device = client.get("/portal/affiliate/?breakdown=device_type")
    unknown = client.get("/portal/affiliate/?breakdown=region")

    # then pages show by name, most clicks first, with the payout; the same numbers as the API
    rows = [
        (row.label, row.clicks, row.conversions, row.payout, row.revenue)
        for row in by_page.context["breakdown"]
    ]
    assert rows == [
        ("Quiz", 2, 0, Decimal("0.0000"), None),
        ("Form", 1, 1, Decimal("8.0000"), None),
    ]
    html = by_page.content.decode()
    assert "Traffic by landing page" in html
    assert '<th scope="row">Quiz</th>' in html
    api_client.force_authenticate(net.affiliate1.user)
    today = timezone.now().date()
    api = api_client.get(
        f"/api/reports?group_by=landing_page&date_from={today - dt.timedelta(days=6)}"
        f"&date_to={today}"
    ).json()
    assert sorted(
        (row["landing_page_name"], row["clicks"], row["conversions"], row["payout"])
        for row in api["results"]
    ) == sorted(
        (label, clicks, conversions, str(payout)) for label, clicks, conversions, payout, _ in rows
    )
    assert [(row.label, row.clicks) for row in by_device.context["breakdown"]] == [
        ("mobile", 2),
        ("desktop", 1),
    ]
    assert unknown.status_code == 200
    assert unknown.context["breakdown_form"].dimension() == "device_type"

"""SQL queries of every portal page: an exact number, and the same number with 1 row on the page
as with 10 (no query per row). CSV exports and detail pages are pages too.

Each page is grown by `grow(net, n)`, which adds `n` rows of what the page lists; `shown`
reads back how many the page displays, so a page that silently shows nothing fails too.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.events import event_create
from campaigns.models import AccessStatus
from campaigns.pricing_rules import pricing_rule_create
from campaigns.smart_links import smart_link_create
from campaigns.tests.factories import (
    CampaignAccessFactory,
    CampaignFactory,
    Network,
    PartnerKeyFactory,
    TrackingLinkFactory,
    network,
)
from forwarding.models import DeliveryAttempt
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from payouts import services as payout_services
from payouts.tests.factories import conversion_approve, payout_method_add
from portal.tests.factories import ADVERTISER_PAGES, AFFILIATE_PAGES, portal_client
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import click_add, conversion_add, conversion_move
from tracker.models import ConversionStatus, EndUserPoints

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


# --- what each page lists ---------------------------------------------------------------------


def _conversions(net: Network, n: int) -> None:
    from django.utils import timezone

    for _ in range(n):
        click = click_add(link=net.link1, at=timezone.now(), subs=("fb", "", "", "", ""))
        conversion_add(click=click, status=ConversionStatus.APPROVED, at=timezone.now())
    stats_refresh()  # the sub1 search asks the rollups whether "fb" is a sub1 at all


def _top_affiliates(net: Network, n: int) -> None:
    from django.utils import timezone

    for _ in range(n):
        link = TrackingLinkFactory(campaign=net.campaign1)
        click = click_add(link=link, at=timezone.now())
        conversion_add(click=click, status=ConversionStatus.APPROVED, at=timezone.now())
    stats_refresh()


def _clicks(net: Network, n: int) -> None:
    from django.utils import timezone

    for _ in range(n):
        click_add(link=net.link1, at=timezone.now())


def _campaigns(net: Network, n: int) -> None:
    for _ in range(n):
        CampaignFactory(advertiser=net.advertiser1)


def _applications(net: Network, n: int) -> None:
    for _ in range(n):
        CampaignAccessFactory(campaign=net.campaign1, status=AccessStatus.PENDING)


def _partner_keys(net: Network, n: int) -> None:
    for _ in range(n):
        PartnerKeyFactory(advertiser=net.advertiser1)


def _history(net: Network, n: int) -> None:
    from django.utils import timezone

    conversion = net.conversion
    for _ in range(n):
        target = (
            ConversionStatus.REJECTED
            if conversion.status == ConversionStatus.PENDING
            else ConversionStatus.PENDING
        )
        conversion_move(conversion=conversion, to_status=target, at=timezone.now())


def _rules(net: Network, n: int) -> None:
    for _ in range(n):
        pricing_rule_create(
            campaign=net.campaign1,
            data={
                "event": net.event.pk,
                "affiliate": net.affiliate1.pk,
                "sub1": f"s{next(_serial)}",
                "payout_type": "fixed",
                "payout_amount": "2",
            },
        )


def _events(net: Network, n: int) -> None:
    for _ in range(n):
        event_create(
            campaign=net.campaign1,
            data={"code": f"goal{next(_serial)}", "name": "Goal", "payout_type": "fixed"},
        )


def _browse(net: Network, n: int) -> None:
    for _ in range(n):
        CampaignFactory()


def _links(net: Network, n: int) -> None:
    for _ in range(n):
        TrackingLinkFactory(affiliate=net.affiliate1)


def _smart_links(net: Network, n: int) -> None:
    for _ in range(n):
        smart_link_create(
            affiliate=net.affiliate1,
            name=f"Smart {next(_serial)}",
            entries=[{"campaign": net.campaign1.pk}, {"campaign": net.campaign2.pk}],
        )


def _endpoints(net: Network, n: int) -> None:
    for _ in range(n):
        PostbackEndpointFactory(affiliate=net.affiliate1)


def _deliveries(net: Network, n: int) -> None:
    from django.utils import timezone

    endpoint = net.endpoint
    for _ in range(n):
        delivery = DeliveryFactory(endpoint=endpoint)
        for number in (1, 2):
            DeliveryAttempt.objects.create(
                delivery=delivery,
                attempt_number=number,
                attempted_at=timezone.now(),
                request_url=endpoint.url,
                status_code=503,
            )


def _test_attempts(net: Network, n: int) -> None:
    from django.utils import timezone

    for _ in range(n):
        number = net.test.attempts.count() + 1
        DeliveryAttempt.objects.create(
            delivery=net.test,
            attempt_number=number,
            attempted_at=timezone.now(),
            request_url=net.endpoint.url,
            status_code=503,
        )


def _affiliate_conversions(net: Network, n: int) -> None:
    _conversions(net, n)


def _payouts(net: Network, n: int) -> None:
    for _ in range(n):
        conversion_approve(affiliate=net.affiliate1, payout=Decimal("60"))
        payout_services.payout_request_create(affiliate=net.affiliate1, amount="60", currency="USD")


def _payout_methods(net: Network, n: int) -> None:
    for _ in range(n):
        payout_method_add(affiliate=net.affiliate1, kind="paypal")


def _ledger_lines(net: Network, n: int) -> None:
    for _ in range(n):
        conversion_approve(affiliate=net.affiliate1, payout=Decimal("1.5"))


def _points(net: Network, n: int) -> None:
    for _ in range(n):
        EndUserPoints.objects.create(
            affiliate=net.affiliate1, user_id=f"user-{next(_serial)}", points=Decimal("3")
        )


# --- how many the page shows ------------------------------------------------------------------


def _table(response) -> int:
    return len(response.context["table"].page)


def _csv(response) -> int:
    return len(b"".join(response.streaming_content).splitlines()) - 1  # minus the header


def _context_list(name: str) -> Callable:
    return lambda response: len(response.context[name])


# Every page starts with the session, the user and the partner profile (3 queries).
@dataclass(frozen=True)
class Page:
    role: str
    path: str  # may use {campaign}, {key}, {conversion}, {link}, {endpoint}, {test}, {event},
    # {rule}, {affiliate}
    grow: Callable[[Network, int], None]
    shown: Callable  # rows the response displays
    queries: int  # with 1 row and with 10
    growth: int = 9  # how many more rows the page shows once 9 more exist


def _rollups(net: Network, n: int) -> None:
    """The report pages read the rollups: count the network's traffic (no new rows)."""
    stats_refresh()


PAGES = {
    # Advertiser portal
    # + the breakdown by device (one rollup query) and the fraud signals (clicks, conversions)
    "adv dashboard": Page("advertiser1", "/portal/advertiser/", _top_affiliates,
                          _context_list("top_affiliates"), 10, growth=3),  # top 5
    # session, user, profile, the report's rows (its totals come from them)
    "adv report": Page("advertiser1", "/portal/advertiser/reports/?group_by=campaign",
                       _rollups, lambda r: len(r.context["report"].rows), 4,
                       growth=0),
    "adv campaigns": Page("advertiser1", "/portal/advertiser/campaigns/?sort=name", _campaigns,
                          _table, 6),
    "adv campaigns csv": Page("advertiser1", "/portal/advertiser/campaigns/?format=csv",
                              _campaigns, _csv, 5),
    "adv campaign new": Page("advertiser1", "/portal/advertiser/campaigns/new/",
                             lambda net, n: None, lambda response: 1, 3, growth=0),
    "adv campaign edit": Page("advertiser1", "/portal/advertiser/campaigns/{campaign}/",
                              _applications,  # the applicants are suggested for invitations
                              _context_list("known_affiliates"), 9),  # + events, caps, pages
    "adv event new": Page("advertiser1", "/portal/advertiser/campaigns/{campaign}/events/new/",
                          lambda net, n: None, lambda response: 1, 5, growth=0),
    "adv event edit": Page("advertiser1", "/portal/advertiser/events/{event}/",
                           lambda net, n: None, lambda response: 1, 5, growth=0),
    # The campaign and its caps, the events, the affiliates its rules name, the count, the page,
    # the preview's candidate rules.
    "adv pricing rules": Page("advertiser1",
                              "/portal/advertiser/campaigns/{campaign}/pricing-rules/"
                              "?preview_affiliate={affiliate}&preview_event={event}&sort=sub1",
                              _rules, _context_list("rows"), 10),
    "adv pricing rule new": Page("advertiser1",
                                 "/portal/advertiser/campaigns/{campaign}/pricing-rules/new/",
                                 lambda net, n: None, lambda response: 1, 7, growth=0),
    "adv pricing rule edit": Page("advertiser1", "/portal/advertiser/pricing-rules/{rule}/",
                                  lambda net, n: None, lambda response: 1, 6, growth=0),
    "adv pricing import": Page("advertiser1",
                               "/portal/advertiser/campaigns/{campaign}/pricing-rules/import/",
                               lambda net, n: None, lambda response: 1, 5, growth=0),
    "adv pricing template csv": Page("advertiser1", "/portal/advertiser/campaigns/{campaign}/"
                                     "pricing-rules/template.csv", _rules, _csv, 6),
    "adv applications": Page("advertiser1", "/portal/advertiser/applications/?status=pending",
                             _applications, _table, 5),
    "adv applications csv": Page("advertiser1", "/portal/advertiser/applications/?format=csv",
                                 _applications, _csv, 4),
    "adv partner keys": Page("advertiser1", "/portal/advertiser/partner-keys/", _partner_keys,
                             _context_list("keys"), 4),
    "adv partner key edit": Page("advertiser1", "/portal/advertiser/partner-keys/{key}/",
                                 lambda net, n: None, lambda response: 1, 4, growth=0),
    "adv postback tester": Page("advertiser1", "/portal/advertiser/partner-keys/{key}/test/",
                                _clicks, _context_list("recent_clicks"), 5,
                                growth=8),  # 2 clicks, then the 10 latest of 11
    "adv conversions": Page("advertiser1", "/portal/advertiser/conversions/?q=fb",
                            _conversions, _table, 7),  # the sub1 search: + the rollup check
    "adv conversions csv": Page("advertiser1", "/portal/advertiser/conversions/?format=csv",
                                _conversions, _csv, 6),
    # + the decision trace: its scoping, the conversion with its click and event, the rules,
    # the caps, the history and its log rows.
    "adv conversion detail": Page("advertiser1", "/portal/advertiser/conversions/{conversion}/",
                                  _history, lambda r: len(r.context["conversion"].history.all()),
                                  12, growth=9),
    # session, user, profile, the campaigns to choose from, the latest reconciliations
    "adv reconciliations": Page("advertiser1", "/portal/advertiser/reconciliations/",
                                lambda net, n: None, lambda response: 1, 5, growth=0),
    "adv profile": Page("advertiser1", "/portal/profile/", lambda net, n: None,
                        lambda response: 1, 3, growth=0),
    # Affiliate portal
    "aff dashboard": Page("affiliate1", "/portal/affiliate/", _endpoints,
                          _context_list("endpoints"), 10, growth=1),  # the first 3
    "aff report": Page("affiliate1", "/portal/affiliate/reports/?preset=7&group_by=landing_page",
                       _rollups, lambda r: len(r.context["report"].rows), 4,
                       growth=0),
    "aff campaigns": Page("affiliate1", "/portal/affiliate/campaigns/?sort=name", _browse,
                          _table, 7),
    "aff campaign": Page("affiliate1", "/portal/affiliate/campaigns/{campaign}/", _events,
                         _context_list("rows"), 7),
    "aff links": Page("affiliate1", "/portal/affiliate/links/", _links, _table, 5),
    "aff links csv": Page("affiliate1", "/portal/affiliate/links/?format=csv", _links, _csv, 4),
    # + the campaign's landing pages to pin, and its targeting summary
    "aff link detail": Page("affiliate1", "/portal/affiliate/links/{link}/?sub1=x",
                            lambda net, n: None, lambda response: 1, 6, growth=0),
    # The smart links, their entries with campaigns, the campaigns to offer.
    "aff smart links": Page("affiliate1", "/portal/affiliate/smart-links/", _smart_links,
                            _context_list("rows"), 6),
    "aff smart link edit": Page("affiliate1", "/portal/affiliate/smart-links/{smart_link}/",
                                lambda net, n: None, lambda response: 1, 6, growth=0),
    "aff endpoints": Page("affiliate1", "/portal/affiliate/endpoints/", _endpoints,
                          lambda r: len(r.context["endpoints"]), 6, growth=9),  # + event codes
    "aff endpoint edit": Page("affiliate1", "/portal/affiliate/endpoints/{endpoint}/",
                              lambda net, n: None, lambda response: 1, 6, growth=0),
    "aff endpoint test": Page("affiliate1", "/portal/affiliate/endpoints/{endpoint}/tests/{test}/",
                              _test_attempts, lambda r: 1 if r.context["attempt"] else 0, 5,
                              growth=0),  # the last attempt
    "aff deliveries": Page("affiliate1", "/portal/affiliate/deliveries/", _deliveries, _table, 7),
    "aff conversions": Page("affiliate1", "/portal/affiliate/conversions/?status=approved",
                            _affiliate_conversions, _table, 6),
    "aff conversions csv": Page("affiliate1", "/portal/affiliate/conversions/?format=csv",
                                _affiliate_conversions, _csv, 6),
    "aff payouts": Page("affiliate1", "/portal/affiliate/payouts/", _payouts, _table, 7),
    "aff payouts csv": Page("affiliate1", "/portal/affiliate/payouts/?format=csv", _payouts,
                            _csv, 4),
    "aff payout methods": Page("affiliate1", "/portal/affiliate/payout-methods/",
                               _payout_methods, _context_list("rows"), 4),
    "aff payout method new": Page("affiliate1", "/portal/affiliate/payout-methods/new/bank/",
                                  lambda net, n: None, lambda response: 1, 3, growth=0),
    "aff statement csv": Page("affiliate1", "/portal/affiliate/payouts/statement/USD.csv",
                              _ledger_lines, _csv, 4),
    "aff points": Page("affiliate1", "/portal/affiliate/points/?sort=-points", _points, _table, 5),
    "aff points csv": Page("affiliate1", "/portal/affiliate/points/?format=csv", _points, _csv,
                           4),
    "aff profile": Page("affiliate1", "/portal/profile/", lambda net, n: None,
                        lambda response: 1, 3, growth=0),
}  # fmt: skip


def _network() -> Network:
    """The API tests' network, plus one conversion, one endpoint and one test of it, one event
    with a cap and one pricing rule, for the detail pages."""
    from django.utils import timezone

    net = network()
    net.conversion = conversion_add(
        click=click_add(link=net.link1, at=timezone.now()),
        status=ConversionStatus.PENDING,
        at=timezone.now(),
    )
    net.endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    net.smart_link = smart_link_create(
        affiliate=net.affiliate1, name="Smart", entries=[{"campaign": net.campaign1.pk}]
    )
    net.test = DeliveryFactory(endpoint=net.endpoint)
    net.event = event_create(
        campaign=net.campaign1,
        data={
            "code": "sale",
            "name": "Sale",
            "payout_type": "fixed",
            "caps": [{"period": "day", "metric": "conversions", "limit": "5"}],
        },
    )
    net.rule = pricing_rule_create(
        campaign=net.campaign1, data={"country": "GB", "payout_type": "fixed", "payout_amount": "1"}
    )
    return net


def _get(client, path: str):
    """The response and its query count, a streamed body read inside the count."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if response.streaming:
            response.streaming_content = [b"".join(response.streaming_content)]
    return response, len(queries.captured_queries)


def test_every_portal_page_is_covered():
    paths = {page.path.split("?")[0] for page in PAGES.values()}

    assert set(ADVERTISER_PAGES) - paths == set()
    assert set(AFFILIATE_PAGES) - paths == set()


@pytest.mark.parametrize("page", PAGES.values(), ids=PAGES.keys())
def test_a_page_runs_the_same_exact_queries_for_1_row_and_for_10(page):
    net = _network()
    client = portal_client(net, page.role)
    path = page.path.format(
        campaign=net.campaign1.pk,
        key=net.key1.pk,
        conversion=net.conversion.pk,
        link=net.link1.pk,
        endpoint=net.endpoint.pk,
        test=net.test.pk,
        event=net.event.pk,
        rule=net.rule.pk,
        affiliate=net.affiliate1.pk,
        smart_link=net.smart_link.pk,
    )
    page.grow(net, 1)
    one, queries_one = _get(client, path)
    shown_one = page.shown(one)
    page.grow(net, 9)

    ten, queries_ten = _get(client, path)

    assert (one.status_code, ten.status_code) == (200, 200)
    assert (queries_one, queries_ten) == (page.queries, page.queries)
    assert shown_one >= 1
    assert page.shown(ten) - shown_one == page.growth


def test_conversion_search_finds_each_kind_of_term_without_joining_the_clicks():
    from django.utils import timezone

    net = _network()
    now = timezone.now()
    by_click = conversion_add(
        click=click_add(link=net.link1, at=now), status=ConversionStatus.APPROVED, at=now
    )
    by_transaction = conversion_add(
        click=click_add(link=net.link1, at=now),
        status=ConversionStatus.APPROVED,
        at=now,
        transaction_id="TX-9",
    )
    by_sub1 = conversion_add(
        click=click_add(link=net.link1, at=now, subs=("spring", "", "", "", "")),
        status=ConversionStatus.APPROVED,
        at=now,
    )
    stats_refresh()
    late_sub1 = conversion_add(  # a sub1 the rollups have not seen yet
        click=click_add(link=net.link1, at=now, subs=("autumn", "", "", "", "")),
        status=ConversionStatus.APPROVED,
        at=now,
    )
    client = portal_client(net, "advertiser1")

    found = {}
    for term in [by_click.click.click_id, "TX-9", "spring", "autumn", "nothing"]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/portal/advertiser/conversions/", {"q": term})
        found[term] = [c.pk for c in response.context["table"].page]
        counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
        assert len(counts) == 1
        assert 'JOIN "tracker_click"' not in counts[0]  # the whole search, without the click
    stats_refresh()
    later = client.get("/portal/advertiser/conversions/", {"q": "autumn"})

    assert found == {
        by_click.click.click_id: [by_click.pk],
        "TX-9": [by_transaction.pk],
        "spring": [by_sub1.pk],
        "autumn": [],
        "nothing": [],
    }
    assert [c.pk for c in later.context["table"].page] == [late_sub1.pk]

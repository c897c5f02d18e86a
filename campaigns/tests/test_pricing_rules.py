"""Choosing the pricing rule: the most specific valid rule wins (affiliate 8 + event 4 +
country 2 + sub1 1), ties to the later start then the higher id; the import and its dry run."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.models import PricingRule
from campaigns.pricing_rules import (
    pricing_rule_candidates,
    pricing_rule_create,
    pricing_rules_import,
    pricing_rules_ranked,
)
from core.exceptions import ApplicationError

AT = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
EVENT, OTHER_EVENT = 10, 11
AFFILIATE, OTHER_AFFILIATE = 20, 21


def _rule(pk, *, event=None, affiliate=None, country="", sub1="", starts=None, ends=None):
    return PricingRule(
        pk=pk,
        event_id=event,
        affiliate_id=affiliate,
        country=country,
        sub1=sub1,
        starts_at=starts,
        ends_at=ends,
        payout_type="fixed",
        payout_amount=Decimal(pk),
    )


def _winner(rules, *, country="GB", sub1="promo"):
    ranked = pricing_rules_ranked(
        rules, event_id=EVENT, affiliate_id=AFFILIATE, country=country, sub1=sub1, at=AT
    )
    return ranked[0].pk if ranked else None


DAY = dt.timedelta(days=1)

# (case, rules, winner's pk)
CASES = [
    ("no rule", [], None),
    ("everyone's rule", [_rule(1)], 1),
    (
        "affiliate beats event+country+sub1",
        [_rule(1, affiliate=AFFILIATE), _rule(2, event=EVENT, country="GB", sub1="promo")],
        1,
    ),
    ("event beats country+sub1", [_rule(1, event=EVENT), _rule(2, country="GB", sub1="promo")], 1),
    ("country beats sub1", [_rule(1, country="GB"), _rule(2, sub1="promo")], 1),
    ("sub1 beats nothing", [_rule(1), _rule(2, sub1="promo")], 2),
    (
        "all four beat three",
        [
            _rule(1, affiliate=AFFILIATE, event=EVENT, country="GB"),
            _rule(2, affiliate=AFFILIATE, event=EVENT, country="GB", sub1="promo"),
        ],
        2,
    ),
    ("another affiliate's rule never applies", [_rule(1), _rule(2, affiliate=OTHER_AFFILIATE)], 1),
    ("another event's rule never applies", [_rule(1), _rule(2, event=OTHER_EVENT)], 1),
    ("another country's rule never applies", [_rule(1), _rule(2, country="US")], 1),
    ("another sub1's rule never applies", [_rule(1), _rule(2, sub1="other")], 1),
    ("not started yet", [_rule(1), _rule(2, affiliate=AFFILIATE, starts=AT + DAY)], 1),
    ("ended", [_rule(1), _rule(2, affiliate=AFFILIATE, ends=AT - DAY)], 1),
    ("ends exactly now: excluded", [_rule(1), _rule(2, affiliate=AFFILIATE, ends=AT)], 1),
    ("starts exactly now: included", [_rule(1), _rule(2, affiliate=AFFILIATE, starts=AT)], 2),
    (
        "dated promo beats the open rule of the same rank",
        [_rule(5, event=EVENT), _rule(3, event=EVENT, starts=AT - DAY, ends=AT + DAY)],
        3,
    ),
    (
        "tie: later start wins",
        [_rule(1, country="GB", starts=AT - 2 * DAY), _rule(2, country="GB", starts=AT - 3 * DAY)],
        1,
    ),
    (
        "tie: open start is the earliest",
        [_rule(1, country="GB"), _rule(2, country="GB", starts=AT - 30 * DAY)],
        2,
    ),
    ("tie on start: higher id wins", [_rule(1, sub1="promo"), _rule(2, sub1="promo")], 2),
    ("criteria empty on the conversion", [_rule(1, country="GB"), _rule(2)], 2),
]


@pytest.mark.parametrize(("case", "rules", "winner"), CASES, ids=[case for case, _, _ in CASES])
def test_the_most_specific_valid_rule_wins(case, rules, winner):
    country, sub1 = ("", "") if case == "criteria empty on the conversion" else ("GB", "promo")
    assert _winner(rules, country=country, sub1=sub1) == winner


_optional = st.one_of(st.none(), st.integers(min_value=-3, max_value=3))
_rule_strategy = st.builds(
    lambda event, affiliate, country, sub1, start, length: {
        "event": event,
        "affiliate": affiliate,
        "country": country,
        "sub1": sub1,
        "starts": None if start is None else AT + start * DAY,
        "ends": None if start is None or length is None else AT + (start + abs(length) + 1) * DAY,
    },
    event=st.sampled_from([None, EVENT, OTHER_EVENT]),
    affiliate=st.sampled_from([None, AFFILIATE, OTHER_AFFILIATE]),
    country=st.sampled_from(["", "GB", "US"]),
    sub1=st.sampled_from(["", "promo", "other"]),
    start=_optional,
    length=_optional,
)


@settings(max_examples=300, deadline=None)
@given(rules=st.lists(_rule_strategy, max_size=8), extra=_rule_strategy)
def test_adding_a_less_specific_rule_never_changes_the_price(rules, extra):
    existing = [_rule(pk, **spec) for pk, spec in enumerate(rules, start=1)]
    ranked = pricing_rules_ranked(
        existing, event_id=EVENT, affiliate_id=AFFILIATE, country="GB", sub1="promo", at=AT
    )
    if not ranked:
        return
    winner = ranked[0]
    added = _rule(len(existing) + 1, **extra)
    if added.specificity >= winner.specificity:
        return  # not less specific: may legitimately win

    after = pricing_rules_ranked(
        [*existing, added],
        event_id=EVENT,
        affiliate_id=AFFILIATE,
        country="GB",
        sub1="promo",
        at=AT,
    )

    assert after[0].pk == winner.pk


@pytest.mark.django_db
def test_the_database_lookup_agrees_with_the_ranking(net):
    campaign = net.campaign1
    event = campaign.events.get(is_default=True)
    rules = [
        pricing_rule_create(campaign=campaign, data={"payout_type": "fixed", "payout_amount": "1"}),
        pricing_rule_create(
            campaign=campaign,
            data={"country": "GB", "payout_type": "fixed", "payout_amount": "2"},
        ),
        pricing_rule_create(
            campaign=campaign,
            data={
                "affiliate": net.affiliate1.pk,
                "ends_at": "2026-06-15T12:00:00Z",
                "payout_type": "fixed",
                "payout_amount": "3",
            },
        ),
    ]

    found = pricing_rule_candidates(
        campaign_id=campaign.pk,
        event_id=event.pk,
        affiliate_id=net.affiliate1.pk,
        country="GB",
        sub1="",
        at=AT,
    )

    assert [rule.pk for rule in found] == [rules[1].pk, rules[0].pk]


IMPORT_CSV = (
    "id,event,affiliate,country,sub1,starts_at,ends_at,payout_type,payout_amount,"
    "revshare_percent,revenue_amount,note\n"
    ",,,GB,,,,fixed,12.00,,,UK traffic\n"
    ",default,{affiliate},,,2026-12-01,2026-12-08,revshare,,25,,promo week\n"
    "{existing},,,,,,,fixed,7,,,raised\n"
)


@pytest.mark.django_db
def test_the_import_dry_run_writes_nothing_and_the_real_import_does_what_it_said(net):
    campaign = net.campaign1
    existing = pricing_rule_create(
        campaign=campaign, data={"payout_type": "fixed", "payout_amount": "5", "note": "old"}
    )
    content = IMPORT_CSV.format(affiliate=net.affiliate1.pk, existing=existing.pk).encode()
    before = PricingRule.objects.count()

    dry = pricing_rules_import(campaign=campaign, content=content, dry_run=True)
    after_dry_run = PricingRule.objects.count()
    real = pricing_rules_import(campaign=campaign, content=content, dry_run=False)

    assert after_dry_run == before == 1
    assert PricingRule.objects.count() == 3
    assert dry.counts == real.counts == {"create": 2, "update": 1, "unchanged": 0, "error": 0}
    assert [(row.line, row.action, row.changes) for row in dry.rows] == [
        (row.line, row.action, row.changes) for row in real.rows
    ]
    assert dry.rows[2].changes == {
        "payout_amount": ["5.0000", "7.0000"],
        "note": ["old", "raised"],
    }
    assert dry.rows[1].changes == {
        "event": ["", "default"],
        "affiliate": ["", str(net.affiliate1.pk)],
        "starts_at": ["", "2026-12-01T00:00:00Z"],
        "ends_at": ["", "2026-12-08T00:00:00Z"],
        "payout_type": ["", "revshare"],
        "payout_amount": ["", "0"],
        "revshare_percent": ["", "25.0000"],
        "note": ["", "promo week"],
    }
    promo = PricingRule.objects.get(pk=real.rows[1].rule_id)
    assert (promo.revshare_percent, promo.affiliate_id, promo.note) == (
        Decimal("25.0000"),
        net.affiliate1.pk,
        "promo week",
    )
    existing.refresh_from_db()
    assert (existing.payout_amount, existing.note) == (Decimal("7.0000"), "raised")


@pytest.mark.django_db
def test_an_import_with_a_bad_row_answers_each_row_and_writes_nothing(net):
    content = b"country,payout_type,payout_amount\nGB,fixed,1\nGBR,fixed,2\nUS,weekly,3\n"

    result = pricing_rules_import(campaign=net.campaign1, content=content, dry_run=False)

    assert [(row.line, row.action, row.errors) for row in result.rows] == [
        (2, "create", {}),
        (
            3,
            "error",
            {"country": ["An ISO 3166-1 alpha-2 country code (GB, US, ...) or empty for all."]},
        ),
        (4, "error", {"payout_type": ["Choose one of: fixed, revshare."]}),
    ]
    assert PricingRule.objects.count() == 0


@pytest.mark.django_db
def test_an_import_without_a_header_is_refused(net):
    with pytest.raises(ApplicationError) as refused:
        pricing_rules_import(campaign=net.campaign1, content=b"GB,fixed,1\n", dry_run=True)

    assert refused.value.code == "invalid_csv"

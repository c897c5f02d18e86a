"""The CSV formula guard, and every export route that writes through it."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from campaigns.tests.factories import Network, network
from core.csv_export import csv_cell, csv_lines, is_formula_like
from payouts.ledger import ledger_adjustment_post
from payouts.models import PayoutRequest
from payouts.services import payout_request_create
from payouts.tests.factories import conversion_approve
from portal.tests.factories import portal_client
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import click_add, conversion_add
from tracker.models import ConversionStatus, EndUserPoints


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\t1",
        "\r1",
        "\n=1+1",  # a line feed first
        " =1+1",  # blanks first
        "  \t @SUM(A1)",
        "\u00a0=1",  # no-break space
        "\u3000=1",  # ideographic space
        "\u2028=1",  # line separator
        "\u200b=1",  # zero-width space
        "\ufeff=1",  # byte order mark
        "\uff1d1+1",  # full-width =
        "\uff0b1",  # full-width +
        "\uff0d1",  # full-width -
        "\uff20SUM(A1)",  # full-width @
        "\ufe661",  # small =
        "\u207c1",  # superscript =
        "\u22121",  # minus sign
        "-5.0000",  # text: a sub id, a memo, ... could be `-5+A1` as well
    ],
)
def test_text_a_spreadsheet_could_run_is_formula_like(text):
    assert is_formula_like(text)
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["", "   ", "abc", "a=b", "1+1", "5.0000", "user@example.test"])
def test_plain_text_is_left_alone(text):
    assert not is_formula_like(text)
    assert csv_cell(text) == text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (Decimal("-5.0000"), "-5.0000"),
        (-3, "-3"),
        (dt.date(2026, 3, 10), "2026-03-10"),
        (dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC), "2026-03-10T09:30:00+00:00"),
        (None, ""),
    ],
)
def test_our_own_numbers_and_dates_are_written_as_they_are(value, cell):
    assert csv_cell(value) == cell


def test_csv_lines_quotes_what_csv_needs_and_guards_each_cell():
    lines = list(csv_lines(["a", "b"], [["\n=1", Decimal("-1.5000")], ["x,y", None]]))

    assert lines == ["a,b\r\n", '"\'\n=1",-1.5000\r\n', '"x,y",\r\n']


# --- every export route -------------------------------------------------------------------------

DAY = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
# One variant per route: each would have passed the first-character check alone.
SUB_REPORT = "\n=1+1"
SUB_ADVERTISER = "\uff0bHYPERLINK(1)"
SUB_AFFILIATE = " \uff0d1+1"
CAMPAIGN_NAME = "\uff20SUM(A1)"
PAYOUT_DETAILS = "\uff1dHYPERLINK(evil)"
MEMO = "\ufeff=fee"  # strip() keeps a byte order mark
USER_ID = "\u200b=1"


def _cells(response) -> list[list[str]]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


def _column(cells: list[list[str]], name: str) -> list[str]:
    index = cells[0].index(name)
    return [row[index] for row in cells[1:]]


@pytest.fixture
def net() -> Network:
    """Network 1 with formula-looking text in every field an export writes."""
    net = network()
    net.campaign1.name = CAMPAIGN_NAME
    net.campaign1.save(update_fields=["name"])
    report_click = click_add(link=net.link1, at=DAY + dt.timedelta(hours=9))
    report_click.sub1, report_click.sub2 = SUB_REPORT, SUB_AFFILIATE
    report_click.save(update_fields=["sub1", "sub2"])
    conversion_add(
        click=click_add(
            link=net.link1, at=DAY + dt.timedelta(hours=10), subs=(SUB_ADVERTISER, "", "", "", "")
        ),
        status=ConversionStatus.PENDING,
        at=DAY + dt.timedelta(hours=10),
    )
    conversion_add(click=report_click, status=ConversionStatus.PENDING, at=DAY)
    stats_refresh(now=DAY + dt.timedelta(days=2))
    net.affiliate1.payout_details = PAYOUT_DETAILS
    net.affiliate1.save(update_fields=["payout_details"])
    conversion_approve(affiliate=net.affiliate1, payout=Decimal("80"))
    ledger_adjustment_post(
        affiliate_id=net.affiliate1.pk,
        currency="USD",
        amount=Decimal("-1.2500"),
        reason=MEMO,
        actor=None,
    )
    payout_request_create(affiliate=net.affiliate1, amount="60", currency="USD")
    EndUserPoints.objects.create(affiliate=net.affiliate1, user_id=USER_ID, points=Decimal(4))
    return net


@pytest.fixture(autouse=True)
def _minimum_1(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url", "column", "text"),
    [
        (
            "admin",
            "/api/reports?group_by=sub1&date_from=2026-03-10&date_to=2026-03-10&format=csv",
            "sub1",
            SUB_REPORT,
        ),
        (
            "admin",
            "/api/reports?group_by=campaign&date_from=2026-03-10&date_to=2026-03-10&format=csv",
            "campaign_name",
            CAMPAIGN_NAME,
        ),
        ("admin", "/api/payouts/export.csv", "payout_details", PAYOUT_DETAILS),
        ("affiliate1", "/api/statement.csv?currency=USD", "memo", MEMO),
        ("advertiser1", "/portal/advertiser/campaigns/?format=csv", "name", CAMPAIGN_NAME),
        ("advertiser1", "/portal/advertiser/applications/?format=csv", "campaign", CAMPAIGN_NAME),
        ("advertiser1", "/portal/advertiser/conversions/?format=csv", "sub1", SUB_ADVERTISER),
        ("affiliate1", "/portal/affiliate/links/?format=csv", "campaign", CAMPAIGN_NAME),
        ("affiliate1", "/portal/affiliate/conversions/?format=csv", "sub2", SUB_AFFILIATE),
        ("affiliate1", "/portal/affiliate/payouts/?format=csv", "payout_details", PAYOUT_DETAILS),
        ("affiliate1", "/portal/affiliate/payouts/statement/usd.csv", "memo", MEMO),
        ("affiliate1", "/portal/affiliate/points/?format=csv", "user_id", USER_ID),
    ],
)
def test_every_export_guards_formula_like_text(net, role, url, column, text):
    client = portal_client(net, role) if url.startswith("/portal/") else net.client_as(role)

    cells = _cells(client.get(url))

    assert "'" + text in _column(cells, column)
    assert text not in [cell for row in cells for cell in row]


@pytest.mark.django_db
def test_the_admin_payout_export_guards_formula_like_text(net, client):
    client.force_login(net.admin)

    response = client.post(
        reverse("admin:payouts_payoutrequest_changelist"),
        {
            "action": "export_csv",
            "_selected_action": list(PayoutRequest.objects.values_list("pk", flat=True)),
        },
    )

    assert _column(_cells(response), "payout_details") == ["'" + PAYOUT_DETAILS]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("affiliate1", "/api/statement.csv?currency=USD"),
        ("affiliate1", "/portal/affiliate/payouts/statement/usd.csv"),
    ],
)
def test_negative_amounts_we_write_stay_numbers(net, role, url):
    client = portal_client(net, role) if url.startswith("/portal/") else net.client_as(role)

    amounts = _column(_cells(client.get(url)), "amount")

    assert "-1.2500" in amounts
    assert not any(amount.startswith("'") for amount in amounts)

"""Every documented postback request, replayed from fixture files: the first integrations' keyless
legacy postback (`legacy_*`), the partner postback guide's examples (`partner_guide_*`), and the
integration examples' scenarios and common mistakes (`scenario*`, `common_mistake_*`).

Each file in tracker/tests/fixtures/postbacks/ holds the campaigns and clicks the example needs,
the exchange rates of the day it assumes (optional), the requests (method, path, query, content
type, raw body), the exact answers (minus `log_id`) and the rows they must leave: conversions,
end-user points and one PostbackLog per postback request.
"""

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from payouts.exchange_rates import exchange_rate_set
from tracker.models import Conversion, ConversionHistory, EndUserPoints, PostbackLog
from tracker.tests.factories import postback_world

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "postbacks").glob("*.json"))
CONVERSION_FIELDS = (
    "status",
    "revenue",
    "payout",
    "currency",
    "transaction_id",
    "external_conversion_id",
    "offer_id",
    "reason",
    "points_awarded",
    "user_id",
    "sub_ids",
    "custom_data",
)
# Compared only on conversions whose payout was converted from another currency.
EXCHANGE_FIELDS = ("original_amount", "original_currency", "exchange_rate")


def _resolve(expected: Any, *, affiliate_id: int) -> Any:
    """Fill the placeholders of expected answers with the ids the rows got."""
    if isinstance(expected, dict):
        return {k: _resolve(v, affiliate_id=affiliate_id) for k, v in expected.items()}
    if isinstance(expected, list):
        return [_resolve(item, affiliate_id=affiliate_id) for item in expected]
    if isinstance(expected, str) and expected == "$affiliate":
        return affiliate_id
    if isinstance(expected, str) and "$today" in expected:
        return expected.replace("$today", timezone.now().date().isoformat())
    if isinstance(expected, str) and expected.startswith("$conversion:"):
        return Conversion.objects.get(click__click_id=expected.split(":", 1)[1]).pk
    if isinstance(expected, str) and expected.startswith("$timestamp:"):
        created = Conversion.objects.get(click__click_id=expected.split(":", 1)[1]).created_at
        return created.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return expected


def _row(conversion: Conversion) -> dict[str, Any]:
    row = {"click_id": conversion.click.click_id}
    for name in CONVERSION_FIELDS:
        value = getattr(conversion, name)
        row[name] = str(value) if isinstance(value, Decimal) else value
    if conversion.original_currency:
        for name in EXCHANGE_FIELDS:
            value = getattr(conversion, name)
            row[name] = str(value) if isinstance(value, Decimal) else value
    return row


@pytest.mark.django_db
@pytest.mark.parametrize("fixture_path", FIXTURES, ids=[path.stem for path in FIXTURES])
def test_documented_postback_example(fixture_path: Path):
    # given the campaigns and clicks the example needs, under the guide's example key "abc123xyz"
    fixture = json.loads(fixture_path.read_text())
    world = postback_world()
    for name, spec in fixture["campaigns"].items():
        world.campaign(name, **spec)
    for spec in fixture["clicks"]:
        world.click(
            spec["campaign"],
            click_id=spec["click_id"],
            user_id=spec.get("user_id", ""),
            age=dt.timedelta(minutes=spec.get("minutes_ago", 1)),
        )
    # The day's exchange rates, also set for tomorrow so a run across midnight finds them.
    today = timezone.now().date()
    for spec in fixture.get("exchange_rates", []):
        for day in (today, today + dt.timedelta(days=1)):
            exchange_rate_set(
                on=day,
                from_currency=spec["from_currency"],
                to_currency=spec["to_currency"],
                rate=Decimal(spec["rate"]),
            )
    client = Client()
    postback_requests = 0

    for request in fixture["requests"]:
        # when the partner sends the example request as documented
        query = request["query"].replace("{affiliate_id}", str(world.affiliate.pk))
        url = f"{request['path']}?{query}" if query else request["path"]
        response = client.generic(
            request["method"],
            url,
            data=request["body"].encode(),
            content_type=request["content_type"] or "",
        )
        if request["path"] != "/api/analytics/postback/test":
            postback_requests += 1

        # then it gets exactly the documented answer, with the id of its log row
        body = response.json()
        assert response.status_code == request["expect_status"], body
        if "log_id" in body:
            log_id = body.pop("log_id")
            assert PostbackLog.objects.filter(id=uuid.UUID(log_id)).exists()
        assert body == _resolve(request["expect_json"], affiliate_id=world.affiliate.pk)

    # and leaves exactly these rows
    conversions = Conversion.objects.select_related("click").order_by("id")
    assert [_row(c) for c in conversions] == fixture["expect_conversions"]
    for conversion in conversions:
        history = list(conversion.history.values_list("to_status", flat=True))
        assert history[-1] == conversion.status
        assert conversion.affiliate_id == world.affiliate.pk
    points = {p.user_id: str(p.points) for p in EndUserPoints.objects.all()}
    assert points == fixture["expect_points"]
    logs = list(PostbackLog.objects.order_by("received_at"))
    assert len(logs) == postback_requests
    assert [
        {
            "outcome": log.outcome,
            "http_status": log.http_status,
            "code": log.code,
            "warnings": log.warnings,
        }
        for log in logs
    ] == fixture["expect_logs"]
    assert ConversionHistory.objects.filter(conversion__isnull=True).count() == 0

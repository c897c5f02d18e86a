"""The reconciliation and bulk API: who may, what each role reads, bad files, size limits."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from payouts.models import LedgerEntry, LedgerTransaction
from tracker.models import Conversion, ConversionHistory, Reconciliation, ReconciliationRow
from tracker.reconciliation_files import MAX_FILE_BYTES
from tracker.tests.factories import PostbackWorld, reconciliation_world
from tracker.tests.services.test_postbacks_concurrency import _run_together

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "reconciliation" / "one_of_each.csv"


@pytest.fixture
def world() -> PostbackWorld:
    return reconciliation_world()


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _dates() -> dict[str, str]:
    today = timezone.now().date()
    return {"date_from": (today - dt.timedelta(days=2)).isoformat(), "date_to": today.isoformat()}


def _upload(client: APIClient, world: PostbackWorld, content: bytes | None = None, **params):
    data = {
        "campaign_id": world.campaigns["main"].pk,
        **_dates(),
        **params,
        "file": SimpleUploadedFile("theirs.csv", content or FIXTURE.read_bytes(), "text/csv"),
    }
    return client.post("/api/reconciliations", data, format="multipart")


def _counts() -> tuple[int, ...]:
    return (
        Conversion.objects.count(),
        ConversionHistory.objects.count(),
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
        Reconciliation.objects.count(),
        ReconciliationRow.objects.count(),
    )


def test_the_advertiser_previews_applies_and_downloads_without_any_payout(world):
    client = _client(world.advertiser.user)

    # when it uploads the fixture file
    response = _upload(client, world)

    # then the preview classes every row, with revenue deltas only
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "payout" not in response.content.decode()
    assert {name: entry["count"] for name, entry in body["classes"].items()} == dict.fromkeys(
        ["matched", "missing_here", "missing_there", "status_differs", "amount_differs", "invalid"],
        1,
    )
    assert body["classes"]["status_differs"] == {
        "count": 1,
        "to_apply": 1,
        "money": {"USD": {"revenue_delta": "20.0000"}},
    }
    assert [row["row_class"] for row in body["rows"]] == [
        "matched",
        "status_differs",
        "amount_differs",
        "missing_here",
        "invalid",
        "missing_there",
    ]

    # when it applies the status differences twice
    path = f"/api/reconciliations/{body['id']}"
    first = client.post(f"{path}/apply", {"classes": ["status_differs"]}, format="json")
    counts = _counts()
    second = client.post(f"{path}/apply", {"classes": ["status_differs"]}, format="json")

    # then the first approved T-STATUS, the second changed nothing
    assert (first.status_code, first.json()) == (
        200,
        {"outcomes": {"status_changed": 1}, "money": {"USD": {"revenue": "20.0000"}}},
    )
    assert (second.status_code, second.json()) == (200, {"outcomes": {}, "money": {}})
    assert _counts() == counts

    # and the result file lists every row with its outcome, without payout columns
    result = client.get(f"{path}/result.csv")
    lines = b"".join(result.streaming_content).decode().splitlines()
    assert result.status_code == 200
    assert lines[0] == (
        "line,class,transaction_id,click_id,event,their_status,their_amount,currency,"
        "conversion_id,our_status,our_revenue,revenue_delta,reason,action,outcome,"
        "outcome_message,applied_at"
    )
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["2", "matched", "T-MATCH"],
        ["3", "status_differs", "T-STATUS"],
        ["4", "amount_differs", "T-AMOUNT"],
        ["5", "missing_here", "T-THEIRS"],
        ["6", "invalid", "T-BAD"],
        ["", "missing_there", "T-OURS"],
    ]
    assert lines[2].split(",")[13:15] == ["approve", "status_changed"]


def test_the_admin_uploads_a_csv_body_and_reads_the_payouts(world):
    client = _client(AdminUserFactory())
    query = "&".join(f"{k}={v}" for k, v in _dates().items())

    response = client.post(
        f"/api/reconciliations?advertiser_id={world.advertiser.pk}&{query}",
        FIXTURE.read_bytes(),
        content_type="text/csv",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["campaign_id"] is None
    assert body["classes"]["missing_there"]["money"] == {
        "USD": {"revenue_delta": "-40.0000", "payout_delta": "-32.0000"}
    }
    assert body["rows"][1]["payout_delta"] == "16.0000"


def test_other_tenants_and_affiliates_get_nothing(world):
    reconciliation_id = _upload(_client(world.advertiser.user), world).json()["id"]
    other = _client(AdvertiserFactory().user)
    affiliate = _client(world.affiliate.user)
    counts = _counts()

    answers = [
        _upload(other, world).status_code,
        other.get(f"/api/reconciliations/{reconciliation_id}").status_code,
        other.post(
            f"/api/reconciliations/{reconciliation_id}/apply",
            {"classes": ["status_differs"]},
            format="json",
        ).status_code,
        other.get(f"/api/reconciliations/{reconciliation_id}/result.csv").status_code,
        _upload(affiliate, world).status_code,
        affiliate.get(f"/api/reconciliations/{reconciliation_id}").status_code,
        affiliate.post(
            "/api/conversions/bulk", {"action": "approve", "ids": [1]}, format="json"
        ).status_code,
    ]

    assert answers == [404, 404, 404, 404, 403, 403, 403]
    assert _counts() == counts


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"id,amount\n1,2\n", "missing_columns"),
        ("transaction_id,status\nT-\u00e9,approved\n".encode("latin-1"), "invalid_encoding"),
        (b"transaction_id,status\n", "empty_file"),
    ],
)
def test_a_bad_file_answers_400_with_its_code_and_stores_nothing(world, content, code):
    response = _upload(_client(world.advertiser.user), world, content)

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert Reconciliation.objects.count() == 0


def test_the_scope_is_the_callers_own_or_a_404(world):
    other = AdvertiserFactory()
    client = _client(world.advertiser.user)
    admin = _client(AdminUserFactory())

    def without_campaign(caller: APIClient, **params):
        data = {**_dates(), **params, "file": SimpleUploadedFile("x.csv", FIXTURE.read_bytes())}
        return caller.post("/api/reconciliations", data, format="multipart")

    foreign = without_campaign(client, advertiser_id=other.pk)
    mismatch = _upload(admin, world, advertiser_id=other.pk)
    missing = without_campaign(admin)
    own = without_campaign(client)

    assert foreign.status_code == 404
    assert (mismatch.status_code, mismatch.json()["code"]) == (400, "scope_mismatch")
    assert (missing.status_code, missing.json()["code"]) == (400, "missing_scope")
    assert (own.status_code, own.json()["campaign_id"]) == (201, None)
    assert Reconciliation.objects.get().advertiser_id == world.advertiser.pk


def test_a_reversed_range_and_a_missing_file_are_refused(world):
    client = _client(world.advertiser.user)
    today = timezone.now().date().isoformat()

    reversed_range = _upload(client, world, date_from=today, date_to="2020-01-01")
    no_file = client.post(
        "/api/reconciliations", {"campaign_id": world.campaigns["main"].pk, **_dates()}
    )

    assert (reversed_range.status_code, reversed_range.json()["code"]) == (
        400,
        "invalid_date_range",
    )
    assert (no_file.status_code, no_file.json()["code"]) == (400, "missing_file")


def test_an_oversized_upload_is_refused_before_it_is_read(world):
    client = _client(world.advertiser.user)
    body = b"transaction_id,status\n" + b"x" * (MAX_FILE_BYTES + 70 * 1024)

    response = client.post(
        f"/api/reconciliations?campaign_id={world.campaigns['main'].pk}",
        body,
        content_type="text/csv",
    )
    anonymous = APIClient().post("/api/reconciliations", body, content_type="text/csv")

    assert (response.status_code, response.json()["code"]) == (413, "file_too_large")
    assert (anonymous.status_code, anonymous.json()["code"]) == (413, "file_too_large")
    assert Reconciliation.objects.count() == 0


def test_bulk_approve_dry_run_equals_the_apply_and_hides_payouts_from_advertisers(world):
    client = _client(world.advertiser.user)
    request = {"action": "approve", "filters": {"campaign_id": world.campaigns["main"].pk}}
    counts = _counts()

    preview = client.post("/api/conversions/bulk", request, format="json")
    assert _counts() == counts
    applied = client.post("/api/conversions/bulk", {**request, "dry_run": False}, format="json")
    repeat = client.post("/api/conversions/bulk", {**request, "dry_run": False}, format="json")

    expected = {
        "action": "approve",
        "count": 1,
        "skipped_ids": [],
        "money": {"USD": {"revenue": "20.0000"}},
    }
    assert (preview.status_code, preview.json()) == (200, {**expected, "dry_run": True})
    assert (applied.status_code, applied.json()) == (200, {**expected, "dry_run": False})
    assert repeat.json() == {**expected, "dry_run": False, "count": 0, "money": {}}
    assert Conversion.objects.get(transaction_id="T-STATUS").status == "approved"


def test_bulk_needs_ids_or_filters_and_the_admin_sees_the_payout(world):
    client = _client(AdminUserFactory())
    pending = Conversion.objects.get(transaction_id="T-STATUS")

    neither = client.post("/api/conversions/bulk", {"action": "approve"}, format="json")
    both = client.post(
        "/api/conversions/bulk",
        {"action": "approve", "ids": [pending.pk], "filters": {"event": "x"}},
        format="json",
    )
    preview = client.post(
        "/api/conversions/bulk", {"action": "approve", "ids": [pending.pk]}, format="json"
    )

    assert [neither.json()["code"], both.json()["code"]] == ["invalid_selection"] * 2
    assert preview.json()["money"] == {"USD": {"revenue": "20.0000", "payout": "16.0000"}}
    assert Decimal(preview.json()["money"]["USD"]["payout"]) == pending.payout


def test_affiliate_factory_is_not_an_advertiser():
    # An affiliate's own campaigns do not exist: the upload is refused by role, not scope.
    response = _client(AffiliateFactory().user).post(
        "/api/reconciliations", {"date_from": "2020-01-01"}, format="multipart"
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_applies_change_each_conversion_once():
    # given a preview with a status difference (T-STATUS: pending here, approved there)
    world = reconciliation_world()
    client = _client(world.advertiser.user)
    reconciliation_id = _upload(client, world).json()["id"]
    ledger_before = LedgerTransaction.objects.count()
    path = f"/api/reconciliations/{reconciliation_id}/apply"

    # when the advertiser applies it twice at the same moment
    def apply(caller) -> object:
        caller.force_login(world.advertiser.user)
        return caller.post(path, {"classes": ["status_differs"]}, content_type="application/json")

    results = _run_together([apply, apply])

    # then exactly one call changed it, once: one history row, one ledger posting
    assert sorted(body["outcomes"].get("status_changed", 0) for _, body in results) == [0, 1]
    conversion = Conversion.objects.get(transaction_id="T-STATUS")
    assert (conversion.status, conversion.history.count()) == ("approved", 2)
    assert LedgerTransaction.objects.count() == ledger_before + 1

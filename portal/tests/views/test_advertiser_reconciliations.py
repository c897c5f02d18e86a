"""The advertiser portal's reconciliation: upload, preview (revenue only), apply, result file."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tracker.models import Conversion, Reconciliation
from tracker.reconciliation_files import MAX_FILE_BYTES
from tracker.tests.factories import reconciliation_world

pytestmark = pytest.mark.django_db

FIXTURE = (
    Path(__file__).resolve().parents[3]
    / "tracker"
    / "tests"
    / "fixtures"
    / "reconciliation"
    / "one_of_each.csv"
)
PATH = "/portal/advertiser/reconciliations/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_preview_apply_and_result_file_never_show_a_payout():
    world = reconciliation_world()
    client = _client(world.advertiser.user)
    today = timezone.now().date()

    # when the advertiser uploads the fixture for its campaign
    response = client.post(
        PATH,
        {
            "campaign": world.campaigns["main"].pk,
            "date_from": (today - dt.timedelta(days=1)).isoformat(),
            "date_to": today.isoformat(),
            "file": SimpleUploadedFile("mine.csv", FIXTURE.read_bytes(), "text/csv"),
        },
    )

    # then it lands on the preview, which shows revenue deltas and no payout
    reconciliation = Reconciliation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{PATH}{reconciliation.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Revenue Δ" in page
    assert "$20.00" in page  # the status difference's revenue
    # the affiliate's side of the same rows: 16.00 and 32.00 (80 % of 20 and 40), never shown
    assert ("$16.00" in page, "$32.00" in page, "Payout" in page) == (False, False, False)

    # when it applies the status differences, twice
    first = client.post(f"{PATH}{reconciliation.pk}/", {"classes": ["status_differs"]})
    second = client.post(f"{PATH}{reconciliation.pk}/", {"classes": ["status_differs"]})

    assert (first.status_code, second.status_code) == (302, 302)
    conversion = Conversion.objects.get(transaction_id="T-STATUS")
    assert (conversion.status, conversion.history.count()) == ("approved", 2)
    result = client.get(f"{PATH}{reconciliation.pk}/result.csv")
    text = b"".join(result.streaming_content).decode()
    assert "payout" not in text
    assert "status_changed" in text


def test_another_advertiser_gets_404_and_an_oversized_upload_413():
    world = reconciliation_world()
    owner = _client(world.advertiser.user)
    today = timezone.now().date().isoformat()
    owner.post(
        PATH,
        {
            "date_from": today,
            "date_to": today,
            "file": SimpleUploadedFile("mine.csv", FIXTURE.read_bytes(), "text/csv"),
        },
    )
    reconciliation = Reconciliation.objects.get()
    stranger = _client(reconciliation_world(key="another-partner-key").advertiser.user)

    big = owner.post(
        PATH,
        {
            "date_from": today,
            "date_to": today,
            "file": SimpleUploadedFile("big.csv", b"x" * (MAX_FILE_BYTES + 70 * 1024)),
        },
    )

    assert reconciliation.campaign is None
    assert stranger.get(f"{PATH}{reconciliation.pk}/").status_code == 404
    assert stranger.get(f"{PATH}{reconciliation.pk}/result.csv").status_code == 404
    assert big.status_code == 413
    assert Reconciliation.objects.count() == 1


def test_a_bad_file_is_shown_on_the_form():
    world = reconciliation_world()
    today = timezone.now().date().isoformat()

    response = _client(world.advertiser.user).post(
        PATH,
        {
            "date_from": today,
            "date_to": today,
            "file": SimpleUploadedFile("mine.csv", b"id;amount\n1;2\n", "text/csv"),
        },
    )

    assert response.status_code == 200
    assert "The first line must name the columns" in response.content.decode()
    assert Reconciliation.objects.count() == 0

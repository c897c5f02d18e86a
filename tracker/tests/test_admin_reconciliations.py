"""The console's reconciliation pages and the bulk approve/reject actions on conversions."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AdminUserFactory, StaffUserFactory
from payouts.models import LedgerTransaction
from tracker.models import Conversion, Reconciliation
from tracker.tests.factories import reconciliation_world

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "reconciliation" / "one_of_each.csv"


def _admin_client() -> Client:
    client = Client()
    client.force_login(AdminUserFactory())
    return client


def test_the_admin_uploads_previews_and_applies_in_the_console():
    world = reconciliation_world()
    client = _admin_client()
    today = timezone.now().date()

    response = client.post(
        reverse("admin:tracker_reconciliation_add"),
        {
            "advertiser": world.advertiser.pk,
            "campaign": world.campaigns["main"].pk,
            "date_from": (today - dt.timedelta(days=1)).isoformat(),
            "date_to": today.isoformat(),
            "file": SimpleUploadedFile("theirs.csv", FIXTURE.read_bytes(), "text/csv"),
        },
    )

    reconciliation = Reconciliation.objects.get()
    change = reverse("admin:tracker_reconciliation_change", args=[reconciliation.pk])
    assert (response.status_code, response["Location"]) == (302, change)
    page = client.get(change)
    assert page.status_code == 200
    html = page.content.decode()
    assert "$16.00" in html  # the status difference's payout: the console shows it
    assert "Apply chosen classes" in html

    applied = client.post(
        reverse("admin:tracker_reconciliation_apply", args=[reconciliation.pk]),
        {"classes": ["status_differs"]},
    )

    assert applied.status_code == 302
    assert Conversion.objects.get(transaction_id="T-STATUS").status == "approved"
    result = client.get(reverse("admin:tracker_reconciliation_result", args=[reconciliation.pk]))
    assert "payout_delta" in b"".join(result.streaming_content).decode()


def test_a_viewer_reads_but_may_not_apply():
    world = reconciliation_world()
    staff = StaffUserFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_reconciliation"))
    client = Client()
    client.force_login(staff)
    today = timezone.now().date()
    from tracker.services.reconciliations import reconciliation_create

    reconciliation = reconciliation_create(
        advertiser=world.advertiser,
        campaign=None,
        date_from=today,
        date_to=today,
        content=FIXTURE.read_bytes(),
        file_name="theirs.csv",
        actor=None,
    )
    change = reverse("admin:tracker_reconciliation_change", args=[reconciliation.pk])

    page = client.get(change)
    applied = client.post(
        reverse("admin:tracker_reconciliation_apply", args=[reconciliation.pk]),
        {"classes": ["status_differs"]},
    )

    assert page.status_code == 200
    assert "Apply chosen classes" not in page.content.decode()
    assert applied.status_code == 403
    assert Conversion.objects.get(transaction_id="T-STATUS").status == "pending"


def test_bulk_approve_action_previews_the_money_then_approves_through_the_machine():
    reconciliation_world()
    client = _admin_client()
    selected = list(Conversion.objects.order_by("pk").values_list("pk", flat=True))
    changelist = reverse("admin:tracker_conversion_changelist")
    ledger_before = LedgerTransaction.objects.count()

    preview = client.post(changelist, {"action": "approve_pending", "_selected_action": selected})
    assert LedgerTransaction.objects.count() == ledger_before
    confirmed = client.post(
        changelist,
        {"action": "approve_pending", "_selected_action": selected, "confirm": "yes", "reason": ""},
    )

    assert preview.status_code == 200
    assert preview.context["warning"] == (
        "1 pending conversion(s) will be approved; booking revenue $20.00, payout $16.00; "
        "3 not pending are left as they are."
    )
    assert confirmed.status_code == 302
    conversion = Conversion.objects.get(transaction_id="T-STATUS")
    assert (conversion.status, conversion.reason, conversion.payout) == (
        "approved",
        "bulk approve",
        Decimal("16.0000"),
    )
    assert LedgerTransaction.objects.count() == ledger_before + 1

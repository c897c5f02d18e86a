import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AdminUserFactory
from payouts import services, tasks
from payouts.models import LedgerEntry, LedgerTransaction, PayoutRequest, PayoutStatus
from payouts.tests.factories import conversion_approve, funded_affiliate

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:payouts_payoutrequest_changelist"


@pytest.fixture
def admin_client_logged_in(client):
    admin = AdminUserFactory()
    client.force_login(admin)
    return client, admin


def request_payouts(count: int) -> list[PayoutRequest]:
    return [
        services.payout_request_create(
            affiliate=funded_affiliate(available=Decimal("100")), amount="100", currency="USD"
        )
        for _ in range(count)
    ]


def test_admin_bulk_approve_and_reject(admin_client_logged_in, django_capture_on_commit_callbacks):
    # given
    client, admin = admin_client_logged_in
    first, second, third = request_payouts(3)

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        approve = client.post(
            reverse(CHANGELIST),
            {"action": "approve", "_selected_action": [first.pk, second.pk], "confirm": "yes"},
        )
        reject = client.post(
            reverse(CHANGELIST),
            {"action": "reject", "_selected_action": [second.pk, third.pk], "confirm": "yes"},
        )

    # then
    assert (approve.status_code, reject.status_code) == (302, 302)
    statuses = dict(PayoutRequest.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "approved", second.pk: "rejected", third.pk: "rejected"}
    assert PayoutRequest.objects.get(pk=second.pk).decided_by == admin
    assert len(callbacks) == 4


def test_admin_mark_paid_asks_for_references_then_pays(admin_client_logged_in):
    # given
    client, _ = admin_client_logged_in
    first, second, still_requested = request_payouts(3)
    services.payout_approve(payout=first, actor=None)
    services.payout_approve(payout=second, actor=None)

    # when: the action first shows a page asking for each reference
    page = client.post(
        reverse(CHANGELIST),
        {"action": "mark_paid", "_selected_action": [first.pk, second.pk, still_requested.pk]},
    )
    done = client.post(
        reverse(CHANGELIST),
        {
            "action": "mark_paid",
            "apply": "yes",
            "_selected_action": [first.pk, second.pk, still_requested.pk],
            f"reference_{first.pk}": "WIRE-1",
            f"reference_{second.pk}": "",
            f"reference_{still_requested.pk}": "WIRE-3",
        },
        follow=True,
    )

    # then
    assert page.status_code == 200
    assert f'name="reference_{first.pk}"' in page.content.decode()
    assert done.status_code == 200
    rows = dict(PayoutRequest.objects.values_list("pk", "status"))
    assert rows == {first.pk: "paid", second.pk: "approved", still_requested.pk: "requested"}
    assert PayoutRequest.objects.get(pk=first.pk).reference == "WIRE-1"
    messages = [str(m) for m in done.context["messages"]]
    assert f"Payout #{still_requested.pk}: A requested payout cannot become paid." in messages
    assert "Marked paid: 1 payout(s); 1 left unchanged without a reference." in messages


def test_admin_csv_export_action(admin_client_logged_in):
    client, _ = admin_client_logged_in
    (payout,) = request_payouts(1)

    response = client.post(
        reverse(CHANGELIST), {"action": "export_csv", "_selected_action": [payout.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,affiliate_id,affiliate_email,amount")
    assert lines[1].startswith(f"{payout.pk},{payout.affiliate_id},")


def test_admin_cannot_add_change_or_delete_ledger_rows(admin_client_logged_in):
    # given
    client, _ = admin_client_logged_in
    (payout,) = request_payouts(1)
    txn = LedgerTransaction.objects.first()

    # when
    add = client.get(reverse("admin:payouts_ledgertransaction_add"))
    view = client.get(reverse("admin:payouts_ledgertransaction_change", args=[txn.pk]))
    post = client.post(
        reverse("admin:payouts_ledgertransaction_change", args=[txn.pk]), {"memo": "edited"}
    )
    delete = client.get(reverse("admin:payouts_ledgertransaction_delete", args=[txn.pk]))
    accounts = client.get(reverse("admin:payouts_ledgeraccount_changelist"))
    payout_add = client.get(reverse("admin:payouts_payoutrequest_add"))
    payout_view = client.get(reverse("admin:payouts_payoutrequest_change", args=[payout.pk]))

    # then
    assert add.status_code == 403
    assert view.status_code == 200
    assert 'name="memo"' not in view.content.decode()
    assert post.status_code == 403
    assert delete.status_code == 403
    assert accounts.status_code == 200
    assert payout_add.status_code == 403
    assert payout_view.status_code == 200
    txn.refresh_from_db()
    assert txn.memo == f"conversion {txn.reference_id}: pending -> approved"


def test_release_holds_task_releases_due_holds():
    affiliate = funded_affiliate(available=Decimal("0.0001"))
    conversion_approve(
        affiliate=affiliate, payout=Decimal("5"), hold_days=1, at=timezone.now() - timedelta(days=2)
    )

    assert tasks.release_holds() == 1
    assert tasks.release_holds() == 0


def test_reconcile_task_is_quiet_on_a_clean_ledger(caplog):
    conversion_approve(affiliate=funded_affiliate(available=Decimal("1")), payout=Decimal("2"))

    with caplog.at_level(logging.ERROR, logger="payouts.tasks"):
        problems = tasks.reconcile_ledger()

    assert problems == 0
    assert caplog.records == []
    assert mail.outbox == []


def test_reconcile_task_logs_and_emails_admins_on_a_mismatch(settings, caplog):
    # given: an entry altered with the user triggers skipped
    settings.ADMINS = [("Ops", "ops@example.test")]
    _, txn = conversion_approve(
        affiliate=funded_affiliate(available=Decimal("1")), payout=Decimal("2")
    )
    entry = LedgerEntry.objects.filter(transaction=txn).order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM payouts_ledgerentry WHERE id = %s", [entry.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")

    # when
    with caplog.at_level(logging.ERROR, logger="payouts.tasks"):
        problems = tasks.reconcile_ledger()

    # then
    assert problems == 2
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.test"]
    assert mail.outbox[0].subject.endswith("Ledger reconciliation: 2 problem(s)")
    assert f"transaction {txn.pk} does not match its checksum" in mail.outbox[0].body


def test_decision_email_task_describes_the_event_not_the_current_status():
    # given: approved, then paid; the approval email is sent late
    admin = AdminUserFactory()
    payout = services.payout_request_create(
        affiliate=funded_affiliate(available=Decimal("100"), user__email="a@example.test"),
        amount="100",
        currency="USD",
    )
    services.payout_approve(payout=payout, actor=admin)
    services.payout_mark_paid(payout=payout, actor=admin, reference="R-7")
    approval_event = payout.events.get(to_status=PayoutStatus.APPROVED)

    # when
    tasks.send_payout_decision_email(payout_id=payout.pk, event_id=approval_event.pk)
    tasks.send_payout_decision_email(payout_id=payout.pk, event_id=approval_event.pk)

    # then
    assert [m.subject for m in mail.outbox] == [
        f"Your ClickLedger payout #{payout.pk}: approved",
        f"Your ClickLedger payout #{payout.pk}: approved",
    ]
    assert mail.outbox[0].body == (
        f"Hello {payout.affiliate.user.name},\n\nYour payout request #{payout.pk} of $100.00 "
        "has been approved and will be paid soon."
    )

"""The payout admin: bulk approve and reject, mark paid with references, the CSV export action;
ledger rows cannot be added, changed or deleted there."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory
from payouts import services
from payouts.models import LedgerTransaction, PayoutRequest
from payouts.tests.factories import funded_affiliate, payout_method_add

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


def test_the_payout_queue_shows_the_method_and_the_available_balance(
    admin_client_logged_in, django_assert_max_num_queries
):
    # given two requests: one with a saved bank method, one paid to the profile's details
    client, _ = admin_client_logged_in
    with_method = funded_affiliate(available=Decimal("300"))
    bank = payout_method_add(affiliate=with_method, kind="bank")
    services.payout_request_create(
        affiliate=with_method, amount="100", currency="USD", payout_method=bank
    )
    services.payout_request_create(
        affiliate=funded_affiliate(available=Decimal("75.5")), amount="50", currency="USD"
    )

    # when
    with django_assert_max_num_queries(12):
        page = client.get(reverse(CHANGELIST))

    # then each row shows its method and what the affiliate still has available
    html = page.content.decode()
    assert page.context["cl"].result_count == 2
    assert '<td class="field-payout_method_display">Bank transfer (IBAN) DE89••••3000</td>' in html
    assert '<td class="field-available_display">$200.00</td>' in html
    assert '<td class="field-available_display">$25.50</td>' in html

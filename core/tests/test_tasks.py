"""`core.tasks.enqueue_on_commit`: a committed change answers 200 even when the broker refuses
its follow-up task; the task waits in `PendingTask`, and a later sweep publishes it."""

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AffiliateFactory
from campaigns.models import AccessStatus
from campaigns.tests.factories import CampaignAccessFactory
from config.celery import app as celery_app
from core.models import PendingTask
from core.tasks import SWEEP_GRACE, pending_tasks_republish
from payouts.models import PayoutRequest
from payouts.services import payout_request_create
from payouts.tests.factories import funded_affiliate
from tests.support.celery_worker import celery_broker_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_folder_missing(tmp_path) -> Iterator[None]:
    """The embedded (filesystem) broker, with its folder gone: every publish raises."""
    missing = str(tmp_path / "gone")
    previous_options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {
        "data_folder_in": missing,
        "data_folder_out": missing,
    }
    previous = celery_broker_point("filesystem://localhost/")
    yield
    celery_app.conf.broker_transport_options = previous_options
    celery_broker_point(previous)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _admin() -> APIClient:
    client = APIClient()
    client.force_authenticate(AdminUserFactory())
    return client


def _sweep_later(request, minutes: int = 2) -> int:
    """Beat's sweep, `minutes` from now, with the broker back (tasks run in-process)."""
    request.getfixturevalue("eager_celery")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes)):
        return pending_tasks_republish()


def test_an_approval_answers_200_without_a_broker_and_a_later_sweep_sends_its_email(
    broker_folder_missing, django_capture_on_commit_callbacks, caplog, request
):
    # given a pending affiliate, and a broker whose folder is missing
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)

    # when the admin approves it
    with (
        caplog.at_level(logging.WARNING, logger="core.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _admin().post(f"/api/affiliates/{affiliate.pk}/approve")

    # then the approval is saved and answered, the email waits in the outbox, the failure is logged
    assert response.status_code == 200
    affiliate.refresh_from_db()
    assert affiliate.status == ApprovalStatus.APPROVED
    pending = PendingTask.objects.get()
    assert (pending.task_name, pending.kwargs) == (
        "accounts.tasks.send_partner_status_email",
        {"user_id": affiliate.user_id},
    )
    assert [r.getMessage() for r in caplog.records] == [
        "could not publish 1 of 1 accounts.tasks.send_partner_status_email task(s) "
        f"(first: {{'user_id': {affiliate.user_id}}})"
    ]
    assert mail.outbox == []

    # when beat's sweep runs a while later, with the broker back
    published = _sweep_later(request)

    # then the email is sent and the row is gone
    assert published == 1
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([affiliate.user.email], "Your ClickLedger account: approved")
    ]
    assert PendingTask.objects.count() == 0


def test_an_application_decision_answers_200_without_a_broker(
    broker_folder_missing, django_capture_on_commit_callbacks, request
):
    access = CampaignAccessFactory(status=AccessStatus.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = _admin().post(f"/api/applications/{access.pk}/approve")

    assert response.status_code == 200
    assert list(PendingTask.objects.values_list("task_name", "kwargs")) == [
        ("campaigns.tasks.send_access_decision_email", {"access_id": access.pk})
    ]
    assert _sweep_later(request) == 1
    assert [m.to for m in mail.outbox] == [[access.affiliate.user.email]]


def test_a_payout_decision_answers_200_without_a_broker(
    broker_folder_missing, django_capture_on_commit_callbacks, request
):
    affiliate = funded_affiliate(available=Decimal("120"))
    payout = payout_request_create(affiliate=affiliate, amount=Decimal("60"), currency="USD")
    PendingTask.objects.all().delete()  # the request's own follow-up (its operator event)

    with django_capture_on_commit_callbacks(execute=True):
        response = _admin().post(f"/api/payouts/approve/{payout.pk}")

    assert response.status_code == 200
    assert PayoutRequest.objects.get(pk=payout.pk).status == "approved"
    assert list(PendingTask.objects.values_list("task_name", flat=True)) == [
        "payouts.tasks.send_payout_decision_email"
    ]
    assert _sweep_later(request) == 1
    assert len(mail.outbox) == 1


def test_with_a_working_broker_nothing_is_left_behind(
    eager_celery, django_capture_on_commit_callbacks
):
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = _admin().post(f"/api/affiliates/{affiliate.pk}/approve")

    assert response.status_code == 200
    assert PendingTask.objects.count() == 0
    assert len(mail.outbox) == 1


def test_the_sweep_leaves_fresh_rows_to_their_own_publish_and_backs_off_while_the_broker_is_down(
    broker_folder_missing,
):
    # given a task whose publish after commit failed just now
    affiliate = AffiliateFactory()
    now = timezone.now()
    pending = PendingTask.objects.create(
        task_name="accounts.tasks.send_partner_status_email",
        kwargs={"user_id": affiliate.user_id},
        created_at=now,
        next_attempt_at=now + SWEEP_GRACE,
    )

    # then a sweep within the grace leaves it; one after it, with the broker still down, backs off
    assert pending_tasks_republish(now=now + dt.timedelta(seconds=30)) == 0
    assert PendingTask.objects.get().attempts == 0
    assert pending_tasks_republish(now=now + dt.timedelta(minutes=2)) == 0
    pending.refresh_from_db()
    assert (pending.attempts, pending.next_attempt_at, pending.last_error) == (
        1,
        now + dt.timedelta(minutes=4),
        "the broker refused the task",
    )


def test_beat_runs_the_sweep_every_minute(settings):
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["core-republish-pending-tasks"]

    assert entry == {"task": "core.tasks.republish_pending_tasks", "schedule": 60.0}
    assert current_app.tasks[entry["task"]].name == entry["task"]

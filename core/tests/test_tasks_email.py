"""Every task that sends an email shares one retry policy (`core.tasks.EMAIL_TASK_OPTIONS`),
and the policy retries what can succeed later and nothing else: shown on the partner status
email against a real SMTP server on loopback."""

import pytest

from accounts import tasks as account_tasks
from accounts.models import ApprovalStatus
from accounts.tests.factories import AffiliateFactory
from config.celery import app as celery_app
from core.emails import EmailRefusedError
from core.tasks import EMAIL_TASK_OPTIONS
from core.tests.email_tasks import free_port, retries_recorded

pytestmark = pytest.mark.django_db


def _email_tasks() -> dict:
    celery_app.loader.import_default_modules()
    return {name: task for name, task in celery_app.tasks.items() if "email" in name}


def test_every_email_task_has_the_shared_retry_policy():
    tasks = _email_tasks()

    off_policy = {
        name
        for name, task in tasks.items()
        if {key: getattr(task, key, None) for key in EMAIL_TASK_OPTIONS} != EMAIL_TASK_OPTIONS
    }

    assert off_policy == set()
    assert set(tasks) == {
        "accounts.tasks.send_partner_status_email",
        "campaigns.tasks.send_access_decision_email",
        "campaigns.tasks.send_access_invitation_email",
        "payouts.tasks.send_payout_decision_email",
        "payouts.tasks.send_payout_method_changed_email",
        "forwarding.tasks.send_endpoint_disabled_email",
        # the name the forwarding email had before forwarding became an app (one release)
        "tracker.tasks.send_endpoint_disabled_email",
    }


def test_the_policy_retries_network_and_4xx_failures_only():
    assert {
        "autoretry_for": (OSError,),
        "retry_backoff": 30,
        "retry_backoff_max": 1800,
        "retry_jitter": True,
        "max_retries": 8,
        "ignore_result": True,
    } == EMAIL_TASK_OPTIONS
    assert not issubclass(EmailRefusedError, OSError)


def _approved_affiliate():
    return AffiliateFactory(status=ApprovalStatus.APPROVED, user__email="pub@x.test")


def test_a_mail_server_that_stays_down_is_retried_8_times_then_the_task_fails(settings):
    affiliate = _approved_affiliate()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens

    with retries_recorded() as retries:
        result = account_tasks.send_partner_status_email.apply(kwargs={"user_id": affiliate.pk})

    assert result.failed()
    assert isinstance(result.result, ConnectionRefusedError)
    assert len(retries) == 8
    assert all(isinstance(reason, ConnectionRefusedError) for reason in retries)


def test_a_server_that_hangs_up_with_421_is_retried(smtp_server):
    affiliate = _approved_affiliate()
    smtp_server.script("421 4.7.0 Too many connections, closing", "452 4.3.1 Queue full")

    with retries_recorded() as retries:
        result = account_tasks.send_partner_status_email.apply(kwargs={"user_id": affiliate.pk})

    assert result.successful()
    assert [reason.recipients for reason in retries] == [
        {"pub@x.test": (421, b"4.7.0 Too many connections, closing")},
        {"pub@x.test": (452, b"4.3.1 Queue full")},
    ]
    assert [m["Subject"] for m in smtp_server.messages] == ["Your ClickLedger account: approved"]


def test_a_5xx_refusal_is_not_retried(smtp_server):
    affiliate = _approved_affiliate()
    smtp_server.script("550 5.1.1 No such user")

    with retries_recorded() as retries:
        result = account_tasks.send_partner_status_email.apply(kwargs={"user_id": affiliate.pk})

    assert result.failed()
    assert isinstance(result.result, EmailRefusedError)
    assert retries == []
    assert smtp_server.rcpt_attempts == 1
    assert smtp_server.messages == []


def test_a_row_deleted_before_the_task_runs_ends_it_quietly_without_retry(smtp_server):
    affiliate = _approved_affiliate()
    user_id = affiliate.pk
    affiliate.user.delete()

    with retries_recorded() as retries:
        result = account_tasks.send_partner_status_email.apply(kwargs={"user_id": user_id})

    assert result.successful()
    assert retries == []
    assert smtp_server.rcpt_attempts == 0

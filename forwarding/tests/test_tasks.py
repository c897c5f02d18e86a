"""`forwarding.tasks`: the endpoint-disabled email goes through a real SMTP server on loopback,
retried on a transient failure; an endpoint gone or active again when the task runs gets none."""

import smtplib

import pytest

from core.tests.email_tasks import retries_recorded
from forwarding import tasks
from forwarding.tests.factories import PostbackEndpointFactory

pytestmark = pytest.mark.django_db


def test_the_disabled_email_is_retried_after_a_4xx_then_sent_once(smtp_server):
    endpoint = PostbackEndpointFactory(
        affiliate__user__email="pub@x.test", is_active=False, disabled_reason="gone"
    )
    smtp_server.script("451 4.3.0 Try again later")

    with retries_recorded() as retries:
        result = tasks.send_endpoint_disabled_email.apply(kwargs={"endpoint_id": endpoint.pk})

    assert result.successful()
    assert [type(reason) for reason in retries] == [smtplib.SMTPRecipientsRefused]
    assert smtp_server.rcpt_attempts == 2
    assert [message["Subject"] for message in smtp_server.messages] == [
        f"Postback endpoint #{endpoint.pk} disabled"
    ]


def test_an_endpoint_deleted_or_active_again_gets_no_email(smtp_server):
    active = PostbackEndpointFactory(is_active=True)

    with retries_recorded() as retries:
        gone = tasks.send_endpoint_disabled_email.apply(kwargs={"endpoint_id": 987654})
        enabled = tasks.send_endpoint_disabled_email.apply(kwargs={"endpoint_id": active.pk})

    assert (gone.successful(), enabled.successful()) == (True, True)
    assert retries == []
    assert smtp_server.rcpt_attempts == 0


def test_the_former_task_name_still_sends_it(smtp_server):
    endpoint = PostbackEndpointFactory(affiliate__user__email="pub@x.test", is_active=False)

    result = tasks._send_endpoint_disabled_email_by_former_name.apply(
        kwargs={"endpoint_id": endpoint.pk}
    )

    assert result.successful()
    assert len(smtp_server.messages) == 1


def test_the_former_task_names_are_still_registered():
    from config.celery import app

    app.loader.import_default_modules()

    assert {
        "tracker.tasks.deliver",
        "tracker.tasks.sweep_deliveries",
        "tracker.tasks.send_endpoint_disabled_email",
    } <= set(app.tasks)

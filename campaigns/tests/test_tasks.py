"""`campaigns.tasks`: the access emails go through a real SMTP server on loopback, retried on a
transient failure; an access gone (or, for an invitation, revoked) before the task runs sends
nothing."""

import smtplib

import pytest
from django.core import mail

from accounts.tests.factories import AffiliateFactory
from campaigns import services, tasks
from campaigns.models import AccessStatus, Visibility
from campaigns.tests.factories import CampaignAccessFactory, CampaignFactory
from core.tests.email_tasks import retries_recorded

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("task", "subject"),
    [
        (tasks.send_access_decision_email, "Campaign “Summer”: access approved"),
        (tasks.send_access_invitation_email, "Invitation to the campaign “Summer”"),
    ],
)
def test_access_emails_are_retried_after_a_4xx_then_sent_once(task, subject, smtp_server):
    access = services.access_invite(
        campaign=CampaignFactory(name="Summer", visibility=Visibility.PRIVATE),
        affiliate=AffiliateFactory(user__email="pub@x.test"),
        actor=None,
    )
    smtp_server.script("450 4.2.0 Mailbox busy")

    with retries_recorded() as retries:
        result = task.apply(kwargs={"access_id": access.pk})

    assert result.successful()
    assert [type(reason) for reason in retries] == [smtplib.SMTPRecipientsRefused]
    assert smtp_server.rcpt_attempts == 2
    assert [(m["Subject"], m["X-Envelope-To"]) for m in smtp_server.messages] == [
        (subject, "pub@x.test")
    ]


@pytest.mark.parametrize(
    "task", [tasks.send_access_decision_email, tasks.send_access_invitation_email]
)
def test_access_emails_for_a_deleted_access_end_quietly_without_retry(task, smtp_server):
    with retries_recorded() as retries:
        result = task.apply(kwargs={"access_id": 123456})

    assert result.successful()
    assert retries == []
    assert smtp_server.rcpt_attempts == 0


def test_invitation_email_of_an_access_revoked_since_sends_nothing():
    invited = services.access_invite(
        campaign=CampaignFactory(visibility=Visibility.PRIVATE),
        affiliate=AffiliateFactory(),
        actor=None,
    )
    applied = CampaignAccessFactory(status=AccessStatus.APPROVED)
    services.access_decide(access=invited, status=AccessStatus.REVOKED, actor=None)
    mail.outbox.clear()

    tasks.send_access_invitation_email(access_id=invited.pk)
    tasks.send_access_invitation_email(access_id=applied.pk)
    tasks.send_access_invitation_email(access_id=123456)

    assert mail.outbox == []

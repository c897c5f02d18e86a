"""Emails about campaign access, sent after the change that calls for them commits (see
`core.tasks`)."""

from celery import shared_task

from campaigns.models import AccessStatus, CampaignAccess
from core.tasks import EMAIL_TASK_OPTIONS


@shared_task(**EMAIL_TASK_OPTIONS)
def send_access_decision_email(*, access_id: int) -> None:
    """Tell an affiliate the current status of its application to a campaign.

    The text states the access's status as it is when the task runs, not a change, and nothing
    is written: a second run sends the same email again, which is harmless. An application
    deleted meanwhile sends nothing. Retries only transient failures (network, timeout, the SMTP
    server hanging up or answering 4xx), with backoff and jitter
    (`core.tasks.EMAIL_TASK_OPTIONS`); never a 5xx refusal, never a missing row.
    """
    from campaigns import emails

    access = (
        CampaignAccess.objects.select_related("campaign", "affiliate__user")
        .filter(pk=access_id)
        .first()
    )
    if access is None:
        return
    emails.access_decision_email_send(access=access)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_access_invitation_email(*, access_id: int) -> None:
    """Tell an affiliate it was invited into a campaign (approved access, its link waiting).

    Nothing is written and the access is read when the task runs, so a second run sends the same
    invitation again (harmless), and an access that is gone or no longer an approved invitation
    (revoked since) sends nothing: the email must not announce access the affiliate no longer
    has. Retries only transient failures (network, timeout, the SMTP server hanging up or
    answering 4xx), with backoff and jitter (`core.tasks.EMAIL_TASK_OPTIONS`); never a 5xx
    refusal, never a missing row.
    """
    from campaigns import emails

    access = (
        CampaignAccess.objects.select_related("campaign", "affiliate__user")
        .filter(pk=access_id, status=AccessStatus.APPROVED, invited_at__isnull=False)
        .first()
    )
    if access is None:
        return
    emails.access_invitation_email_send(access=access)

"""Account emails, sent after the change that calls for them commits (see `core.tasks`)."""

from celery import shared_task

from accounts.models import User
from core.tasks import EMAIL_TASK_OPTIONS


@shared_task(**EMAIL_TASK_OPTIONS)
def send_partner_status_email(*, user_id: int) -> None:
    """Tell a partner its current approval status.

    The text describes the status as it is when the task runs, not a change, and nothing is
    written: a second run sends the same email again, which is harmless. A user deleted
    meanwhile, or one without a partner profile, gets nothing. Retries only transient failures
    (network, timeout, the SMTP server hanging up or answering 4xx), with backoff and jitter
    (`core.tasks.EMAIL_TASK_OPTIONS`); never a 5xx refusal, never a missing row.
    """
    from accounts import emails, services

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    profile = services.partner_profile_of(user)
    if profile is None:
        return
    emails.partner_status_email_send(user=user, profile=profile)

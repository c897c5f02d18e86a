import smtplib

from celery import shared_task

from campaigns import services

# Connection-level SMTP failures are worth another try; a refused recipient or a rejected message
# (the other SMTPException subclasses) will fail the same way every time.
_TRANSIENT_SMTP_ERRORS = (
    ConnectionError,
    TimeoutError,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


@shared_task(
    ignore_result=True,
    autoretry_for=_TRANSIENT_SMTP_ERRORS,
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=6,
)
def send_access_decision_email(*, access_id: int) -> None:
    """Tell an affiliate the current status of its application to a campaign.

    Running twice sends the same email twice, which is harmless: the text states the access's
    current status (read when the task runs), not a change, and nothing is written. A deleted
    application sends nothing. Retries only transient SMTP failures (connection refused, timeout,
    server disconnected), with backoff and jitter; a refused recipient is not retried.
    """
    services.access_decision_email_send(access_id=access_id)


@shared_task(
    ignore_result=True,
    autoretry_for=_TRANSIENT_SMTP_ERRORS,
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=6,
)
def send_access_invitation_email(*, access_id: int) -> None:
    """Tell an affiliate it was invited into a campaign (approved access, its link waiting).

    Running twice sends the same email twice, which is harmless: nothing is written, and the
    text describes the access as it is when the task runs (an invitation revoked in between
    sends nothing). Retries only transient SMTP failures, with backoff and jitter.
    """
    services.access_invitation_email_send(access_id=access_id)

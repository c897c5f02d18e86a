from celery import shared_task

from accounts import services


@shared_task(ignore_result=True)
def send_partner_status_email(*, user_id: int) -> None:
    """Tell a partner its current approval status.

    Running twice sends the same email twice, which is harmless (the text describes the current
    status, not a change). Retries nothing: an SMTP failure is logged by Celery and not re-sent.
    """
    services.partner_status_email_send(user_id=user_id)

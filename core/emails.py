"""Sending one composed email, and telling an SMTP failure worth another try from a final one.

Each app writes its emails in `<app>/emails.py` (a function that returns the `EmailMessage`) and
sends them with `email_message_send`, from a Celery task declared with
`core.tasks.EMAIL_TASK_OPTIONS`. Those tasks retry on `OSError`, which is what the network
(refused, reset, unreachable, DNS, TLS), a timeout and every `smtplib` error raise. What a retry
cannot fix is raised here as `EmailRefusedError` instead, which is not an `OSError`:

- retried: no connection, a timeout, the server hanging up, any 4xx reply (RFC 5321 calls them
  transient: rate limits, greylisting, a full queue), and a 4xx or 5xx reply to the greeting or
  HELO (the connection failed, not this message: a relay restarting or overloaded);
- not retried: a 5xx reply to the login, the sender, the recipient or the message, and a server
  without a feature the settings require (STARTTLS, AUTH). Those fail the same way every time.
"""

import smtplib

from django.core.mail import EmailMessage

_CONNECTION_REPLIES = (smtplib.SMTPConnectError, smtplib.SMTPHeloError)


class EmailRefusedError(Exception):
    """The SMTP server refused this email for good; sending it again would fail the same way."""


def smtp_error_is_permanent(exc: OSError) -> bool:
    """True when another try of the same email can only fail the same way (see module docstring)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, _CONNECTION_REPLIES):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return isinstance(exc, smtplib.SMTPNotSupportedError)


def email_message_send(message: EmailMessage) -> None:
    """Send `message` through the configured backend.

    A transient failure propagates as the `OSError` it is (the email task retries it); a
    permanent SMTP refusal is raised as `EmailRefusedError`, chained to the SMTP error.
    """
    try:
        message.send()
    except OSError as exc:
        if smtp_error_is_permanent(exc):
            raise EmailRefusedError(f"The SMTP server refused the email: {exc}") from exc
        raise

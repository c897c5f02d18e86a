"""`core.emails`: which SMTP failures an email task may retry, against a real SMTP server."""

import smtplib

import pytest
from django.core.mail import EmailMessage

from core.emails import EmailRefusedError, email_message_send, smtp_error_is_permanent


def _message() -> EmailMessage:
    return EmailMessage(subject="Hello", body="Body", to=["pub@x.test"])


@pytest.mark.parametrize(
    ("error", "is_permanent"),
    [
        (ConnectionRefusedError(111, "Connection refused"), False),
        (TimeoutError("timed out"), False),
        (OSError(101, "Network is unreachable"), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (smtplib.SMTPConnectError(421, b"Too busy"), False),
        (smtplib.SMTPConnectError(554, b"No SMTP service here"), False),
        (smtplib.SMTPHeloError(501, b"Bad HELO"), False),
        (smtplib.SMTPException("No suitable authentication method found."), False),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (450, b"Greylisted")}), False),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (550, b"No such user")}), True),
        (smtplib.SMTPSenderRefused(451, b"Try later", "noreply@x.test"), False),
        (smtplib.SMTPSenderRefused(553, b"Not allowed", "noreply@x.test"), True),
        (smtplib.SMTPDataError(454, b"Throttling failure"), False),
        (smtplib.SMTPDataError(554, b"Message rejected"), True),
        (smtplib.SMTPAuthenticationError(454, b"Temporary authentication failure"), False),
        (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), True),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), True),
    ],
)
def test_smtp_error_is_permanent_only_for_a_5xx_refusal_of_this_email(error, is_permanent):
    assert smtp_error_is_permanent(error) is is_permanent


def test_email_message_send_delivers_through_the_smtp_server(smtp_server):
    email_message_send(_message())

    assert smtp_server.rcpt_attempts == 1
    assert [(m["Subject"], m["To"], m["X-Envelope-To"]) for m in smtp_server.messages] == [
        ("Hello", "pub@x.test", "pub@x.test")
    ]


def test_email_message_send_lets_a_4xx_through_as_the_smtp_error_it_is(smtp_server):
    smtp_server.script("451 4.3.0 Try again later")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as error:
        email_message_send(_message())

    assert error.value.recipients == {"pub@x.test": (451, b"4.3.0 Try again later")}
    assert smtp_server.messages == []


def test_email_message_send_raises_a_5xx_refusal_as_email_refused(smtp_server):
    smtp_server.script("550 5.1.1 No such user")

    with pytest.raises(EmailRefusedError) as error:
        email_message_send(_message())

    assert not isinstance(error.value, OSError)
    assert isinstance(error.value.__cause__, smtplib.SMTPRecipientsRefused)
    assert smtp_server.messages == []

"""Helpers for testing email tasks: a real SMTP server on loopback, and a record of retries.

The server (aiosmtpd, in a thread of the test process) answers each `RCPT TO` with the next
reply of its script (`"451 4.3.0 Try again later"`), then with 250 once the script is used up,
and keeps every message it accepted. Django's SMTP backend talks to it over a socket as to any
mail relay. Tasks run through Celery's `apply()`, which performs each retry at once, in
process, instead of after its countdown: the retry decisions are Celery's own, with no waiting.
"""

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage as ReceivedMessage

from aiosmtpd.controller import Controller
from celery.signals import task_retry


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScriptedHandler:
    def __init__(self) -> None:
        self.rcpt_replies: list[str] = []
        self.rcpt_attempts = 0
        self.messages: list[ReceivedMessage] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.rcpt_attempts += 1
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, handler: ScriptedHandler, port: int) -> None:
        self.handler = handler
        self.port = port

    def script(self, *rcpt_replies: str) -> None:
        """The replies to the next `RCPT TO` commands, in order; 250 after them."""
        self.handler.rcpt_replies = list(rcpt_replies)

    @property
    def rcpt_attempts(self) -> int:
        return self.handler.rcpt_attempts

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages


@contextmanager
def smtp_server() -> Iterator[SMTPServer]:
    handler = ScriptedHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SMTPServer(handler, controller.port)
    finally:
        controller.stop()


@contextmanager
def retries_recorded() -> Iterator[list[BaseException]]:
    """The exceptions that made Celery retry a task, in order, while the block runs."""
    reasons: list[BaseException] = []

    def on_retry(sender, reason, **kwargs) -> None:
        reasons.append(reason.exc)

    task_retry.connect(on_retry, weak=False)
    try:
        yield reasons
    finally:
        task_retry.disconnect(on_retry)

"""Helpers for forwarding tests: endpoint and delivery factories, a loopback HTTP receiver that
records every request (and counts raw connections), and an independent Standard Webhooks
verifier used to check what ClickLedger signs."""

import base64
import hashlib
import hmac
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import factory
from django.utils import timezone
from kombu import pools as kombu_pools

from accounts.tests.factories import AffiliateFactory
from config.celery import app as celery_app
from tracker.models import Delivery, EndpointMethod, ForwardEvent, PostbackEndpoint
from tracker.services.forwarding import endpoint_secret_new

# The known-answer vector of the Standard Webhooks specification (its reference libraries'
# `test_sign_function`).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def standard_webhook_verify(*, secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of the spec, written from the spec (not from our signing code)."""
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


PUBLIC_TEST_IP = "93.184.215.14"  # public, never contacted: only save-time checks resolve it


def dns_stub(monkeypatch, names: dict[str, str]) -> None:
    """Answer DNS for made-up names (`*.example` -> PUBLIC_TEST_IP unless given) from a stub.

    Tests never resolve real names: DNS is what leaves the machine.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        address = names.get(host)
        if address is None and isinstance(host, str) and host.endswith(".example"):
            address = PUBLIC_TEST_IP
        if address is None:
            return real(host, port, *args, **kwargs)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (
            (address, port or 80, 0, 0) if family == socket.AF_INET6 else (address, port or 80)
        )
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def celery_broker_point(url: str) -> str:
    """Point this process's Celery app at another broker; returns the previous URL.

    The connection and producer pools are dropped so the next publish connects anew (Celery's
    `close()` would also deregister the app). The environment variable, which Celery
    prefers to its own setting, follows when it is set (scripts/test and CI set it).
    """
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    # Celery reads the CELERY_BROKER_URL environment variable before its own setting.
    if "CELERY_BROKER_URL" in os.environ:
        os.environ["CELERY_BROKER_URL"] = url
    # kombu keeps one pool per broker in process-wide groups: closing the app's pool alone would
    # leave a closed pool there for the next publish to the same URL ("Acquire on closed pool").
    kombu_pools.reset()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    return previous


class PostbackEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostbackEndpoint

    affiliate = factory.SubFactory(AffiliateFactory)
    url = "https://receiver.example/postback?cid={click_id}&status={status}"
    method = EndpointMethod.GET
    events = factory.LazyFunction(lambda: [ForwardEvent.APPROVED])
    secret = factory.LazyFunction(endpoint_secret_new)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A due test-event delivery with a small payload (no conversion)."""

    class Meta:
        model = Delivery

    endpoint = factory.SubFactory(PostbackEndpointFactory)
    event_id = factory.LazyFunction(uuid.uuid4)
    event_key = factory.LazyAttribute(lambda o: f"test:{o.event_id}")
    event = ForwardEvent.TEST
    payload = factory.LazyAttribute(
        lambda o: {"click_id": "CLICK-1", "status": "test", "event_id": str(o.event_id)}
    )
    next_attempt_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


Responder = Callable[[ReceivedRequest, int], tuple[int, dict[str, str], bytes]]


def _ok(request: ReceivedRequest, index: int) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b"ok"


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1: records each request, answers with `respond`.

    `connections` counts accepted TCP connections, requests or not (the SSRF canary's measure).
    """

    respond: Responder = _ok
    requests: list[ReceivedRequest] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = ReceivedRequest(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with receiver._lock:
                    index = len(receiver.requests)
                    receiver.requests.append(request)
                status, headers, payload = receiver.respond(request, index)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address) -> bool:
                with receiver._lock:
                    receiver.connections += 1
                return True

            def handle_error(self, request, client_address) -> None:
                return  # a client that gave up (timeout test) is not an error here

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "Receiver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

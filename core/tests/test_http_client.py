"""core.http_client against real loopback listeners: success, redirects not followed, the
response excerpt cap, Retry-After, timeouts, refused connections, and the loopback setting."""

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import http_client
from core.http_client import UnsafeDestinationError, destination_check, http_send

Answer = tuple[int, dict[str, str], bytes]


class Listener:
    """A loopback HTTP server answering `respond(handler)`; counts connections and requests."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], Answer]) -> None:
        self.connections = 0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                listener.requests.append((self.command, self.path, dict(self.headers), body))
                status, headers, payload = respond(self)
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
                listener.connections += 1
                return True

            def handle_error(self, request, client_address) -> None:
                return  # a client that gave up (timeout test) is not an error here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listen():
    started: list[Listener] = []

    def start(respond: Callable[[BaseHTTPRequestHandler], Answer]) -> Listener:
        started.append(Listener(respond))
        return started[-1]

    yield start
    for listener in started:
        listener.close()


def test_a_2xx_is_a_success_with_the_body_sent_and_the_answer_kept(listen):
    listener = listen(lambda handler: (201, {}, b"created"))

    result = http_send(
        method="POST",
        url=listener.url("/hook?a=1"),
        headers={"Content-Type": "application/json", "webhook-id": "e1"},
        body=b'{"x":"1"}',
    )

    assert (result.status_code, result.is_success, result.response_excerpt, result.error) == (
        201,
        True,
        "created",
        "",
    )
    assert result.latency_ms >= 0
    ((method, path, headers, body),) = listener.requests
    assert (method, path, body) == ("POST", "/hook?a=1", b'{"x":"1"}')
    assert headers["User-Agent"] == "ClickLedger-Postback/1.0"
    assert headers["webhook-id"] == "e1"


def test_a_redirect_is_returned_as_a_failure_and_never_followed(listen):
    target = listen(lambda handler: (200, {}, b"should never be reached"))
    redirector = listen(lambda handler: (302, {"Location": target.url("/elsewhere")}, b""))

    result = http_send(method="GET", url=redirector.url(), headers={})

    assert (result.status_code, result.is_success) == (302, False)
    assert len(redirector.requests) == 1
    assert (target.connections, target.requests) == (0, [])


def test_the_response_excerpt_is_capped(listen):
    listener = listen(lambda handler: (500, {}, b"x" * 10_000))

    result = http_send(method="GET", url=listener.url(), headers={})

    assert result.response_excerpt == "x" * http_client.RESPONSE_EXCERPT_BYTES


def test_retry_after_is_reported(listen):
    listener = listen(lambda handler: (429, {"Retry-After": "120"}, b"slow down"))

    result = http_send(method="GET", url=listener.url(), headers={})

    assert (result.status_code, result.retry_after, result.is_success) == (429, "120", False)


def test_a_slow_receiver_times_out(listen, monkeypatch):
    monkeypatch.setattr(http_client, "REQUEST_TIMEOUT_SECONDS", 0.3)
    release = threading.Event()

    def stall(handler):
        release.wait(10)
        return 200, {}, b"too late"

    listener = listen(stall)
    try:
        result = http_send(method="GET", url=listener.url(), headers={})
    finally:
        release.set()

    assert (result.status_code, result.is_success) == (None, False)
    assert result.error.startswith("timeout after")


def test_a_refused_connection_is_an_error_not_an_exception():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = http_send(method="GET", url=f"http://127.0.0.1:{port}/", headers={})

    assert (result.status_code, result.is_success) == (None, False)
    assert result.error.startswith("ConnectionError: ")


def test_loopback_is_refused_at_connect_time_without_the_setting(listen, settings):
    settings.POSTBACK_ALLOW_PRIVATE_DESTINATIONS = False
    listener = listen(lambda handler: (200, {}, b"ok"))

    result = http_send(method="GET", url=f"http://localhost:{listener.port}/", headers={})

    assert result.error.startswith("refused destination: ")
    assert listener.connections == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "Only http:// and https:// URLs are allowed (got ftp:)."),
        ("http://user:pw@example.com/", "URLs with a user name or password are not allowed."),
        ("http:///path", "The URL has no host."),
        ("http://example.com:0x50/", "The port is not a number between 1 and 65535."),
    ],
)
def test_destination_check_refuses_what_it_can_tell_without_dns(url, message):
    with pytest.raises(UnsafeDestinationError) as refused:
        destination_check(url, resolve=False)

    assert str(refused.value) == message

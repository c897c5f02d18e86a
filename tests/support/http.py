"""Network stand-ins for tests: a loopback HTTP receiver that records every request (and counts
raw connections), and a DNS stub for made-up names. Nothing a test does leaves the machine."""

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

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

"""The one module that talks to the outside world over HTTP.

Every outbound request goes through `http_send`: a 15 s timeout, redirects never followed (a 3xx
is returned to the caller as a failure), and the destination address checked at connect time,
after DNS resolution, by requests-hardened's IP filter (loopback, private, link-local, CGNAT,
multicast, reserved; IPv4 and IPv6, IPv4-mapped IPv6 unwrapped). `destination_check` applies the
same rules when a URL is saved, so a bad endpoint is refused with a clear message early; the
connect-time check still guards against DNS answers that change after saving.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress

REQUEST_TIMEOUT_SECONDS = 15.0
CONNECT_TIMEOUT_SECONDS = 5.0
RESPONSE_EXCERPT_BYTES = 2048
USER_AGENT = "ClickLedger-Postback/1.0"


class UnsafeDestinationError(ValueError):
    """A URL we refuse to send to; the message says why."""


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str
    error: str
    retry_after: str | None
    # The first `max_response_bytes` of the body as received (the excerpt is its text).
    response_bytes: bytes = b""

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _allow_private() -> bool:
    return bool(settings.POSTBACK_ALLOW_PRIVATE_DESTINATIONS)


def ip_is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in EXTRA_BLOCKED_NET_RANGES):
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def destination_check(url: str, *, resolve: bool = True) -> None:
    """Refuse non-http(s) URLs, credentials in URLs, and hosts that resolve to non-public IPs.

    Loopback is allowed only when POSTBACK_ALLOW_PRIVATE_DESTINATIONS is on (tests, local demos).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestinationError(
            f"Only http:// and https:// URLs are allowed (got {parts.scheme or 'none'}:)."
        )
    if "@" in parts.netloc:
        raise UnsafeDestinationError("URLs with a user name or password are not allowed.")
    host = parts.hostname
    if not host:
        raise UnsafeDestinationError("The URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestinationError("The port is not a number between 1 and 65535.") from exc
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestinationError(f"The host {host!r} does not resolve.") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip_is_public(ip):
            continue
        unwrapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if _allow_private() and (ip.is_loopback or (unwrapped and unwrapped.is_loopback)):
            continue
        raise UnsafeDestinationError(
            f"The host {host!r} resolves to {ip}, which is not a public address."
        )


def _manager() -> Manager:
    return Manager(
        Config(
            ip_filter_enable=True,
            ip_filter_allow_loopback_ips=_allow_private(),
            never_redirect=True,
            default_timeout=(CONNECT_TIMEOUT_SECONDS, REQUEST_TIMEOUT_SECONDS),
            user_agent_override=USER_AGENT,
        )
    )


def http_send(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None = None,
    max_response_bytes: int = RESPONSE_EXCERPT_BYTES,
) -> HttpResult:
    """Send one request; never raises for network trouble, reports it in `HttpResult.error`.

    At most `max_response_bytes` of the response body are read (a delivery keeps an excerpt; a
    caller that reads a document asks for more)."""
    started = time.monotonic()
    try:
        destination_check(url, resolve=False)
        response = _manager().send_request(
            method, url, headers=headers, data=body, allow_redirects=False, stream=True
        )
        try:
            raw = response.raw.read(max_response_bytes, decode_content=True) or b""
        finally:
            response.close()
        return HttpResult(
            status_code=response.status_code,
            latency_ms=int((time.monotonic() - started) * 1000),
            response_excerpt=raw.decode("utf-8", errors="replace"),
            error="",
            retry_after=response.headers.get("Retry-After"),
            response_bytes=raw,
        )
    except (UnsafeDestinationError, InvalidIPAddress) as exc:
        error = f"refused destination: {exc}"
    except requests.Timeout:
        error = f"timeout after {REQUEST_TIMEOUT_SECONDS:.0f} s"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    return HttpResult(
        status_code=None,
        latency_ms=int((time.monotonic() - started) * 1000),
        response_excerpt="",
        error=error[:500],
        retry_after=None,
    )

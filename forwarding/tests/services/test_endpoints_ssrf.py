"""SSRF: every URL of the corpus is refused when an endpoint is saved and again when a delivery is
sent, and no connection ever reaches the canary listener on loopback.

Send-time cases only point at loopback variants of the canary's port, or at a made-up hostname
whose (monkeypatched) DNS answer is a private address: no test opens a connection to a private
range, and the resolver stub is what proves the address is checked after resolution.
"""

import pytest

from core.exceptions import ApplicationError
from forwarding.models import DeliveryStatus, PostbackEndpoint
from forwarding.services.delivery import delivery_attempt
from forwarding.services.endpoints import endpoint_create
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from tests.support.http import Receiver, dns_stub

PRIVATE_NAME = "intranet.h6-canary.invalid"
PORT = "{port}"

# (url, code, what the message names)
SAVE_CORPUS = [
    ("http://127.0.0.1:{port}/pb", "unsafe_url", "'127.0.0.1' resolves to 127.0.0.1"),
    ("http://localhost:{port}/pb", "unsafe_url", "'localhost' resolves to"),
    ("http://0.0.0.0:{port}/pb", "unsafe_url", "'0.0.0.0' resolves to 0.0.0.0"),
    ("http://10.0.0.1:{port}/pb", "unsafe_url", "'10.0.0.1' resolves to 10.0.0.1"),
    ("http://172.16.0.1:{port}/pb", "unsafe_url", "'172.16.0.1' resolves to 172.16.0.1"),
    ("http://192.168.1.1:{port}/pb", "unsafe_url", "'192.168.1.1' resolves to 192.168.1.1"),
    (
        "http://169.254.169.254:{port}/latest/meta-data",
        "unsafe_url",
        "'169.254.169.254' resolves to 169.254.169.254",
    ),
    ("http://100.64.0.1:{port}/pb", "unsafe_url", "'100.64.0.1' resolves to 100.64.0.1"),
    ("http://[::1]:{port}/pb", "unsafe_url", "'::1' resolves to ::1"),
    ("http://[fc00::1]:{port}/pb", "unsafe_url", "'fc00::1' resolves to fc00::1"),
    ("http://[fe80::1]:{port}/pb", "unsafe_url", "'fe80::1' resolves to fe80::1"),
    (
        "http://[::ffff:127.0.0.1]:{port}/pb",
        "unsafe_url",
        "'::ffff:127.0.0.1' resolves to ::ffff:7f00:1",
    ),
    ("http://2130706433:{port}/pb", "unsafe_url", "'2130706433' resolves to 127.0.0.1"),
    ("http://0x7f000001:{port}/pb", "unsafe_url", "'0x7f000001' resolves to 127.0.0.1"),
    ("http://0177.0.0.1:{port}/pb", "unsafe_url", "'0177.0.0.1' resolves to 127.0.0.1"),
    ("http://127.1:{port}/pb", "unsafe_url", "'127.1' resolves to 127.0.0.1"),
    ("http://user@127.0.0.1:{port}/pb", "unsafe_url", "user name or password"),
    (f"http://{PRIVATE_NAME}:{{port}}/pb", "unsafe_url", f"'{PRIVATE_NAME}' resolves to 10.9.8.7"),
    ("file:///etc/passwd", "invalid_url", "http:// or https://"),
    ("gopher://127.0.0.1:{port}/_GET", "invalid_url", "http:// or https://"),
    ("ftp://127.0.0.1:{port}/pub", "invalid_url", "http:// or https://"),
    ("https://receiver.example:22/pb", "unsafe_url", "Port 22 is not allowed"),
    ("https://receiver.example:99999/pb", "invalid_url", "port"),
    ("https://receiver.example/pb?x={secret}", "invalid_url", "Unknown macro(s): {secret}"),
]

# Only loopback spellings of the canary, the stubbed private hostname, and non-http schemes.
SEND_CORPUS = [
    "http://127.0.0.1:{port}/pb",
    "http://localhost:{port}/pb",
    "http://0.0.0.0:{port}/pb",
    "http://[::1]:{port}/pb",
    "http://[::ffff:127.0.0.1]:{port}/pb",
    "http://2130706433:{port}/pb",
    "http://0x7f000001:{port}/pb",
    "http://0177.0.0.1:{port}/pb",
    "http://127.1:{port}/pb",
    "http://user@127.0.0.1:{port}/pb",
    f"http://{PRIVATE_NAME}:{{port}}/pb",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_GET",
    "ftp://127.0.0.1:{port}/pub",
]


@pytest.fixture
def canary():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def private_dns(monkeypatch):
    """DNS is what leaves the machine: one made-up name answers a private address."""
    dns_stub(monkeypatch, {PRIVATE_NAME: "10.9.8.7"})


@pytest.fixture
def private_destinations_refused(settings):
    settings.POSTBACK_ALLOW_PRIVATE_DESTINATIONS = False


@pytest.mark.django_db
@pytest.mark.parametrize(("template", "code", "named"), SAVE_CORPUS)
def test_unsafe_urls_are_refused_when_saved(
    template, code, named, canary, private_dns, private_destinations_refused
):
    # given an affiliate
    affiliate = PostbackEndpointFactory().affiliate
    url = template.replace(PORT, str(canary.port))

    # when it saves an endpoint with the URL
    with pytest.raises(ApplicationError) as refused:
        endpoint_create(affiliate=affiliate, url=url)

    # then it is refused with a message naming the problem, and nothing was contacted or saved
    assert refused.value.code == code
    assert named in refused.value.message
    assert refused.value.fields == {"url": [refused.value.message]}
    assert PostbackEndpoint.objects.filter(affiliate=affiliate).count() == 1
    assert canary.connections == 0


@pytest.mark.django_db
@pytest.mark.parametrize("template", SEND_CORPUS)
def test_unsafe_urls_are_refused_when_sent(
    template, canary, private_dns, private_destinations_refused
):
    # given an endpoint row that bypassed the save-time check (or whose DNS changed since)
    endpoint = PostbackEndpointFactory(url=template.replace(PORT, str(canary.port)))
    delivery = DeliveryFactory(endpoint=endpoint)

    # when the delivery is attempted
    attempt = delivery_attempt(delivery_id=delivery.pk)

    # then the request is refused before any connection and recorded as a failed attempt
    assert attempt is not None
    assert (attempt.status_code, attempt.is_success) == (None, False)
    assert attempt.error.startswith("refused destination: "), attempt.error
    assert canary.connections == 0
    assert canary.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 1)


@pytest.mark.django_db
def test_loopback_is_allowed_only_with_the_test_setting(canary, settings):
    settings.POSTBACK_ALLOW_PRIVATE_DESTINATIONS = True
    affiliate = PostbackEndpointFactory().affiliate

    endpoint = endpoint_create(affiliate=affiliate, url=canary.url("/pb?c={click_id}"))
    with pytest.raises(ApplicationError) as private:
        endpoint_create(affiliate=affiliate, url="http://10.0.0.1/pb")
    with pytest.raises(ApplicationError) as unspecified:
        endpoint_create(affiliate=affiliate, url=f"http://0.0.0.0:{canary.port}/pb")

    assert endpoint.url == canary.url("/pb?c={click_id}")
    assert private.value.code == unspecified.value.code == "unsafe_url"
    assert canary.connections == 0

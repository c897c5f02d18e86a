"""Schemathesis against the generated OpenAPI schema, once per role, every operation,
every check: no server error and no response that contradicts the schema.

The schema is generated in-process (drf-spectacular) and the requests go to the Django WSGI app
in-process too, inside each test's database transaction. Each role calls with a real JWT from
`POST /api/auth/login`. Examples per operation are bounded so the run stays within minutes.
"""

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.tests.factories import DEFAULT_PASSWORD
from campaigns.tests.factories import Network, network
from tracker.tests.factories import ClickFactory

pytestmark = pytest.mark.django_db

APP = get_wsgi_application()


def _schema_dict() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


schema = schemathesis.openapi.from_dict(_schema_dict())
# What `from_wsgi` does after fetching the document: every request (checks' replays included)
# goes to this app.
schema.app = APP
# Each role's own credentials go with every request (see `auth_headers`): a generated
# Authorization header would be overwritten by them, so its "invalid" variants would be false
# alarms. `ignored_auth` still checks that every secured operation refuses a missing token.
schema.config.generation.update(with_security_parameters=False)

# Who calls: `None` is anonymous; A/B tenants are the access matrix's business, not this one's.
ROLES = ("anonymous", "admin", "advertiser1", "affiliate1")


# Every check runs everywhere, except "schema-valid data must be accepted" where validity hangs
# on things a schema cannot say; each such operation still must answer a documented 4xx.
_VALIDITY_NOT_IN_SCHEMA = {
    # `advertiser_id` / `affiliate_id` / `campaign` must name an existing row the caller may use.
    "POST /api/campaigns": "references another row",
    "POST /api/partner-keys": "references another row",
    # `param_map` / `status_map` are only for the custom profile, and their targets are our names.
    "PATCH /api/partner-keys/{partner_key_id}": "depends on several parameters together",
    "POST /api/postback-endpoints": "references another row",
    # Each entry's `campaign` must be one the affiliate may run; weights and priorities have
    # rules across entries (no campaign twice, one weight above 0).
    "POST /api/smart-links": "references another row",
    "PATCH /api/smart-links/{smart_link_id}": "references another row",
    # `expires_at` must be in the future and `ip_allowlist` hold addresses or CIDR ranges.
    "POST /api/api-keys": "depends on the clock and on address syntax",
    # The URL must be an http(s) URL of a public host on an allowed port, without macros.
    "POST /api/operator-webhooks": "a URL the schema cannot describe",
    "PATCH /api/operator-webhooks/{webhook_id}": "a URL the schema cannot describe",
    # Admins must name the affiliate (`missing_affiliate_id`); affiliates must not.
    "GET /api/balance": "required for one role only",
    "GET /api/statement.csv": "required for one role only",
    # `ordering` by an amount only where the role sees it: payout (admins, affiliates), revenue
    # (admins, advertisers); the schema lists every value.
    "GET /api/conversions": "depends on the role",
    # The two currencies must differ, and a rate must be above zero and below 10^10.
    "POST /api/exchange-rates": "depends on several parameters together",
    # `targeting` holds country codes, CIDR ranges, days and hours the schema cannot describe.
    "PATCH /api/campaigns/{campaign_id}": "values the schema cannot describe",
    # A landing page's URL must be an http(s) URL whose macros we know.
    "POST /api/campaigns/{campaign_id}/landing-pages": "a URL the schema cannot describe",
    "PATCH /api/landing-pages/{landing_page_id}": "a URL the schema cannot describe",
    # The amount must be at least the minimum and within the available balance.
    "POST /api/payouts": "depends on the ledger",
    # The advertiser must exist and the period must not overlap another invoice of it.
    "POST /api/invoices": "references another row",
    # `owner_id` must name an existing affiliate or advertiser; the amount must not be zero.
    "POST /api/adjustments": "references another row",
    # Each kind takes its own fields (an IBAN with valid check digits, an address shaped for its
    # network), and `password` must be the caller's.
    "POST /api/payout-methods": "depends on several parameters together",
    "PATCH /api/payout-methods/{payout_method_id}": "depends on several parameters together",
    # `tz` must name an IANA zone; the period spans two parameters (date_from <= date_to, at
    # most 366 days); group_by and the country/sub filters name at most one dimension together.
    "GET /api/reports": "depends on several parameters together",
    "GET /api/reports/fraud": "depends on several parameters together",
    "GET /api/analytics/campaign/{campaign_id}": "depends on several parameters together",
    # The CSV file is a multipart field or a text/csv body: the JSON-only schema cannot carry it.
    "POST /api/reconciliations": "takes a file",
    # `ids` or at least one filter, not both; a campaign's date range spans two parameters.
    "POST /api/conversions/bulk": "depends on several parameters together",
}


@pytest.fixture
def net() -> Network:
    net = network()
    ClickFactory(link=net.link1, user_id="player-1")
    return net


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request (CONN_MAX_AGE=0),
    which would end the test's transaction; Django's test client unhooks the same signals
    around each of its requests (and hooks them back after)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _loopback_dns(monkeypatch) -> None:
    """Every name resolves to 127.0.0.1: generated endpoint URLs are checked and, when tested,
    refused at once on the loopback; nothing leaves the machine."""

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 80))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def auth_headers(request, net: Network) -> Iterator[dict[str, str]]:
    role = request.param
    user = net.user(role)
    if user is None:
        yield {}
        return
    response = APIClient().post(
        "/api/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    yield {"Authorization": f"Bearer {response.json()['access']}"}


@pytest.mark.parametrize("auth_headers", ROLES, indirect=True)
@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, auth_headers: dict[str, str]):
    excluded = [positive_data_acceptance] if case.operation.label in _VALIDITY_NOT_IN_SCHEMA else []
    with _test_connection_kept():
        case.call_and_validate(headers=auth_headers, excluded_checks=excluded)

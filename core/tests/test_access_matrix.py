"""The access matrix: every URL pattern x method x role answers the status in
`core/tests/access_matrix.py`, a denial changes nothing and leaks nothing, and tenant A's lists
never carry tenant B's rows. A guard fails when a URL pattern has no row."""

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from accounts.models import ApiKey, User
from accounts.tests.factories import AdminUserFactory
from core.tests.access_matrix import (
    KEY_ROLES,
    ROLES,
    ROWS,
    STAFF_ROLES,
    VARIANT_ROWS,
    Row,
    World,
    world_build,
)
from tests.support.http import Receiver

pytestmark = pytest.mark.django_db

_HANDLER_METHODS = ("get", "post", "put", "patch", "delete")
# The apps whose rows a denied request must leave exactly as they were.
_OWN_APPS = ("accounts", "campaigns", "forwarding", "tracker", "payouts", "token_blacklist")


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def project_routes() -> dict[str, set[str] | None]:
    """route -> its methods for class-based views, None for function views (any method)."""
    routes: dict[str, set[str] | None] = {}
    for route, callback in _walk(get_resolver().url_patterns):
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view_class is None:
            routes[route] = None
        else:
            routes[route] = {m.upper() for m in _HANDLER_METHODS if hasattr(view_class, m)}
    return routes


def test_every_url_pattern_and_method_has_a_row():
    """Adding a URL (or a handler method) without a row in the matrix fails here."""
    routes = project_routes()
    rows = {(row.route, row.method) for row in ROWS}

    missing = sorted(
        f"{method} {route}"
        for route, methods in routes.items()
        for method in (methods or set())
        if (route, method) not in rows
    )
    missing += sorted(
        f"(function view) {route}"
        for route, methods in routes.items()
        if methods is None and not any(r == route for r, _ in rows)
    )
    stale = sorted(f"{method} {route}" for route, method in rows if route not in routes)
    stale += sorted(
        f"{method} {route}"
        for route, method in rows
        if routes.get(route) is not None and method not in routes[route]
    )
    assert (missing, stale) == ([], [])


def test_matrix_rows_are_unique_and_complete():
    keys = [(row.route, row.method) for row in ROWS]
    assert len(keys) == len(set(keys))
    assert [row for row in ROWS if set(row.expect) != set(ROLES)] == []


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One world per test process, built inside a transaction that is rolled back when the
    module ends. Every test's own transaction is then a savepoint inside it (rolled back after
    the test), so each test still starts from the same world, without paying the build (most
    of a row's time once the world had every kind of object) for each of the matrix's rows."""
    with django_db_blocker.unblock(), Receiver() as receiver:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield world_build(receiver_url=receiver.url("/hook?cid={click_id}"))
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_module_world: World) -> World:
    return _module_world


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def _client(world: World, role: str) -> APIClient:
    """A session login: the same for the API (SessionAuthentication; APIClient skips CSRF) and
    for server-rendered pages. A key role sends its API key instead, and nothing else: read keys
    in `Authorization: Api-Key`, write keys in `X-Api-Key`."""
    client = APIClient()
    if role in KEY_ROLES:
        key = world.api_keys[role]
        if KEY_ROLES[role][1] == "read":
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        else:
            client.credentials(HTTP_X_API_KEY=key)
        return client
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


def _tenant(role: str) -> str | None:
    """ "a" or "b" for a tenant's role (a key's: its owner's), None for the others."""
    owner = KEY_ROLES[role][0] if role in KEY_ROLES else role
    if owner.endswith(("_a", "_b")):
        return owner[-1]
    return None


def _request(client: APIClient, row: Row, world: World):
    path = _fill(row.path, world.ids)
    headers = _fill(row.headers, world.ids)
    if row.body is None:
        return client.generic(row.method, path, **headers)
    if isinstance(row.body, str):  # a CSV import
        body = _fill(row.body, world.ids)
        content_type = "text/csv"
    elif row.is_page:  # an HTML form post
        body = urlencode(_fill(row.body, world.ids))
        content_type = "application/x-www-form-urlencoded"
    else:
        body = json.dumps(_fill(row.body, world.ids))
        content_type = "application/json"
    return client.generic(row.method, path, body, content_type=content_type, **headers)


# A key's last use is noted whatever the answer (at most once a minute): not a write of the
# request's. These tables are compared by value, without those columns.
_NOT_COMPARED = {"accounts.ApiKey": {"last_used_at"}}
_XACT_WRITES_SQL = (
    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
    " WHERE relname = ANY(%s)"
)


def _snapshot(*, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a denied request must not change in our apps' tables.

    For most tables, the rows this transaction has inserted, updated and deleted so far:
    PostgreSQL's own per-transaction counters (`pg_stat_xact_user_tables`), which any write
    moves, read in one query however big the world is (reading every row of every table
    before and after each request was most of the matrix's time). The tables of
    `_NOT_COMPARED` are compared by their rows' values instead, less the columns every request
    may touch.
    """
    tables: set[str] = set()
    snapshot: dict[str, Any] = {}
    for app in _OWN_APPS:
        for model in apps.get_app_config(app).get_models():
            label = model._meta.label
            if label in without or model._meta.proxy:
                continue
            if label not in _NOT_COMPARED:
                tables.add(model._meta.db_table)
                continue
            skipped = _NOT_COMPARED[label]
            columns = [f.attname for f in model._meta.concrete_fields if f.attname not in skipped]
            snapshot[label] = list(model.objects.order_by("pk").values(*columns))
    with connection.cursor() as cursor:
        cursor.execute(_XACT_WRITES_SQL, [sorted(tables)])
        snapshot["writes"] = {table: tuple(counts) for table, *counts in cursor.fetchall()}
    return snapshot


def test_snapshot_sees_a_write_of_the_transaction_and_ignores_a_key_last_use():
    user = AdminUserFactory()
    api_key = api_key_create(user=user, name="Matrix", now=timezone.now()).api_key
    with transaction.atomic():
        before = _snapshot()
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        unchanged = _snapshot()
        User.objects.filter(pk=user.pk).update(email="changed@example.test")
        changed = _snapshot()
        transaction.set_rollback(True)

    assert unchanged == before
    assert changed != before


def _body_text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _row_id(row: Row) -> str:
    return f"{row.method} {row.route}" + (f" ({row.note})" if row in VARIANT_ROWS else "")


@pytest.mark.parametrize("row", ROWS + VARIANT_ROWS, ids=_row_id)
def test_access_matrix(row: Row, world: World):
    """Each role's request runs in a savepoint rolled back afterwards: roles never see each
    other's writes, and every role starts from the same world."""
    got: dict[str, int] = {}
    problems: list[str] = []
    # Public rows (the same answer for every role) act on A's objects by design (a login, a
    # click): the tenant checks below are for the rows that authorize by role and owner.
    tenant_scoped = len(set(row.expect.values())) > 1
    unchanged = ("tracker.PostbackLog",) if row.logs_refusals else ()
    for role in ROLES:
        with transaction.atomic(), override_settings(**row.settings):
            client = _client(world, role)
            before = _snapshot(without=unchanged)
            response = _request(client, row, world)
            got[role] = response.status_code
            text = _body_text(response)
            to_login = role in row.to_login and got[role] == 302
            if to_login and "/login/?next=" not in response["Location"]:
                problems.append(f"{role}: not sent to a login page: {response['Location']}")
            denied = got[role] in (401, 403, 404) or to_login
            if denied and row.expect[role] == got[role]:
                # Pages deny with Django's HTML pages (or the login redirect), the API with JSON.
                body = {} if row.is_page else json.loads(text)
                if not row.is_page and (body.get("status") != "error" or not body.get("code")):
                    problems.append(f"{role}: denial without the error shape: {body}")
                if "MARK-" in text:
                    problems.append(f"{role}: denial leaks a tenant's data: {text[:200]}")
                if _snapshot(without=unchanged) != before:
                    problems.append(f"{role}: a denied request changed the database")
            tenant = _tenant(role)
            if tenant_scoped and tenant == "a" and "MARK-B" in text:
                problems.append(f"{role}: sees tenant B's data: {text[:300]}")
            if tenant_scoped and tenant == "b" and "MARK-A" in text:
                problems.append(f"{role}: sees tenant A's data: {text[:300]}")
            transaction.set_rollback(True)
    assert (got, problems) == (row.expect, [])


def _ids(*names: str) -> Any:
    return lambda ids: {ids[name] for name in names}


# list path -> (the key that identifies a row, role -> the rows it must see exactly).
_LISTS: dict[str, tuple[str, dict[str, Any]]] = {
    "/api/campaigns": (
        "id",
        {
            "admin": _ids(
                "campaign_a",
                "campaign_b",
                "applied_campaign_a",
                "applied_campaign_b",
                "public_campaign",
            ),
            "advertiser_a": _ids("campaign_a", "applied_campaign_a", "public_campaign"),
            "advertiser_b": _ids("campaign_b", "applied_campaign_b"),
            # Approval-only and public campaigns are listed to every affiliate (to apply to).
            "affiliate_a": _ids(
                "campaign_a", "applied_campaign_a", "applied_campaign_b", "public_campaign"
            ),
            "affiliate_b": _ids(
                "campaign_b", "applied_campaign_a", "applied_campaign_b", "public_campaign"
            ),
        },
    ),
    "/api/applications": (
        "id",
        {
            "admin": _ids("application_a", "access_a", "application_b", "access_b"),
            "advertiser_a": _ids("application_a", "access_a"),
            "advertiser_b": _ids("application_b", "access_b"),
            "affiliate_a": _ids("application_a", "access_a"),
            "affiliate_b": _ids("application_b", "access_b"),
        },
    ),
    "/api/campaigns/{campaign_a}/pricing-rules": (
        "id",
        {"admin": _ids("rule_a"), "advertiser_a": _ids("rule_a")},
    ),
    "/api/partner-keys": (
        "id",
        {
            "admin": _ids("key_a", "key_b"),
            "advertiser_a": _ids("key_a"),
            "advertiser_b": _ids("key_b"),
        },
    ),
    "/api/clicks": ("id", {}),
    "/api/conversions": ("id", {}),
    "/api/points": ("user_id", {}),
    "/api/postback-endpoints": ("id", {}),
    "/api/deliveries": ("id", {}),
    "/api/payouts": ("id", {}),
    "/clicks": ("click_id", {}),
    "/conversions": ("id", {}),
    "/api/affiliates": ("id", {"admin": _ids("affiliate_a", "affiliate_b", "pending_affiliate")}),
}

_TRAFFIC = {
    "/api/clicks": "click",
    "/api/conversions": "conversion",
    "/clicks": "click_id",
    "/conversions": "conversion",
}
_AFFILIATE_OWNED = {
    "/api/points": "player",
    "/api/postback-endpoints": "endpoint",
    "/api/deliveries": "delivery",
}


def _expected_rows(path: str, role: str, ids: dict[str, Any]) -> set[Any] | None:
    if role in KEY_ROLES:  # a key sees exactly what its owner sees
        role = KEY_ROLES[role][0]
    _key, table = _LISTS[path]
    if role in table:
        return table[role](ids)
    tenant = role.rsplit("_", 1)[-1]
    if path in _TRAFFIC:
        name = _TRAFFIC[path]
        if role == "admin":
            return {ids[f"{name}_a"], ids[f"{name}_b"]}
        return {ids[f"{name}_{tenant}"]}
    if path in _AFFILIATE_OWNED:
        name = _AFFILIATE_OWNED[path]
        if role.startswith("advertiser"):
            return None
        if role == "admin":
            return {ids[f"{name}_a"], ids[f"{name}_b"]}
        return {ids[f"{name}_{tenant}"]}
    if path == "/api/payouts":
        if role.startswith("advertiser"):
            return None
        tenants = ("a", "b") if role == "admin" else (tenant,)
        return {ids[f"{kind}_{t}"] for t in tenants for kind in ("payout", "approved_payout")}
    return None


@pytest.mark.parametrize("path", list(_LISTS))
def test_lists_hold_exactly_the_viewers_rows(path: str, world: World):
    """A's lists contain only A's objects (and all of them), also through A's API keys; the
    admin sees both tenants."""
    key, _ = _LISTS[path]
    got: dict[str, set[Any]] = {}
    want: dict[str, set[Any]] = {}
    for role in ROLES[1:]:
        if role in STAFF_ROLES:
            continue
        expected = _expected_rows(path, role, world.ids)
        if expected is None:
            continue
        body = _client(world, role).get(_fill(path, world.ids)).json()
        rows = body["results"] if "results" in body else body["data"]
        got[role] = {row[key] for row in rows}
        want[role] = expected
    assert got == want

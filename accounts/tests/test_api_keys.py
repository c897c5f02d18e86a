import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.api_keys import (
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    api_key_status,
)
from accounts.models import ApiKey, ApprovalStatus, Role
from accounts.tests.factories import (
    AdminUserFactory,
    AffiliateFactory,
    StaffUserFactory,
    UserFactory,
)
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _refusal(**kwargs) -> tuple[int, str]:
    with pytest.raises(ApplicationError) as refused:
        api_key_authenticate(**{"method": "GET", "source_ip": "192.0.2.1", "now": NOW, **kwargs})
    return refused.value.status, refused.value.code


def _create(user=None, **kwargs):
    user = user or AffiliateFactory().user
    return api_key_create(user=user, **{"name": "Script", "now": NOW, **kwargs})


def test_create_returns_the_key_once_and_stores_only_prefix_and_hash():
    issued = _create(scope="write", ip_allowlist=[" 203.0.113.7 ", "198.51.100.0/24"])

    row = ApiKey.objects.get(pk=issued.api_key.pk)
    prefix, dot, secret = issued.key.partition(".")
    assert (dot, len(prefix), len(secret)) == (".", 8, 32)
    assert (row.prefix, row.scope, row.ip_allowlist) == (
        prefix,
        "write",
        ["203.0.113.7", "198.51.100.0/24"],
    )
    assert row.hashed_key.startswith("sha512$$")
    assert issued.key not in row.hashed_key
    assert secret not in str(ApiKey.objects.filter(pk=row.pk).values().get())


def test_the_key_is_in_no_table_of_the_database():
    issued = _create(scope="write")
    prefix, _, secret = issued.key.partition(".")

    with connection.cursor() as cursor:
        holding = []
        for table in connection.introspection.table_names():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s',  # noqa: S608 - the catalogue's names
                [f"%{secret}%"],
            )
            if cursor.fetchone()[0]:
                holding.append(table)
        cursor.execute(
            'SELECT count(*) FROM "accounts_apikey" t WHERE t::text LIKE %s', [f"%{prefix}%"]
        )
        prefix_rows = cursor.fetchone()[0]

    assert (holding, prefix_rows) == ([], 1)


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"name": "  "}, "invalid", "name"),
        ({"scope": "admin"}, "invalid_scope", "scope"),
        ({"expires_at": NOW}, "invalid_expiry", "expires_at"),
        ({"ip_allowlist": ["10.0.0.300"]}, "invalid_ip_allowlist", "ip_allowlist"),
        ({"ip_allowlist": ["192.0.2.1"] * 101}, "invalid_ip_allowlist", "ip_allowlist"),
    ],
)
def test_create_refuses_bad_input(kwargs, code, field):
    with pytest.raises(ApplicationError) as refused:
        _create(**kwargs)

    assert (refused.value.status, refused.value.code, list(refused.value.fields)) == (
        400,
        code,
        [field],
    )
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize(
    "user",
    [
        lambda: AffiliateFactory(status=ApprovalStatus.PENDING).user,
        lambda: AffiliateFactory(status=ApprovalStatus.SUSPENDED).user,
        lambda: UserFactory(role=Role.ADVERTISER),  # no profile
        lambda: AffiliateFactory(user__is_active=False).user,
    ],
)
def test_only_approved_active_accounts_get_keys(user):
    with pytest.raises(ApplicationError) as refused:
        _create(user=user())

    assert (refused.value.status, refused.value.code) == (403, "account_not_approved")


def test_admins_and_staff_get_keys():
    assert _create(user=AdminUserFactory()).api_key.pk
    assert _create(user=StaffUserFactory()).api_key.pk


def test_authenticate_answers_the_key_with_its_owner():
    issued = _create()

    api_key = api_key_authenticate(key=issued.key, method="GET", source_ip=None, now=NOW)

    assert (api_key.pk, api_key.user_id) == (issued.api_key.pk, issued.api_key.user_id)


@pytest.mark.parametrize("mangle", ["unknown.prefix", "wrong-secret", "no-dot", "empty", "hash"])
def test_unknown_keys_are_invalid(mangle):
    issued = _create()
    prefix, _, secret = issued.key.partition(".")
    key = {
        "unknown.prefix": f"zzzzzzzz.{secret}",
        "wrong-secret": f"{prefix}.{'x' * 32}",
        "no-dot": prefix + secret,
        "empty": "",
        "hash": ApiKey.objects.get().hashed_key,  # a leaked hash is no key
    }[mangle]

    assert _refusal(key=key) == (401, "invalid_api_key")


def test_revoked_keys_are_refused_and_revoking_again_changes_nothing():
    issued = _create()

    first = api_key_revoke(api_key=issued.api_key, now=NOW)
    second = api_key_revoke(api_key=issued.api_key, now=NOW + dt.timedelta(hours=1))

    assert (first.revoked, first.revoked_at, second.revoked_at) == (True, NOW, NOW)
    assert _refusal(key=issued.key) == (401, "api_key_revoked")
    assert api_key_status(second, now=NOW) == "revoked"


def test_keys_expire_at_their_expiry():
    expires = NOW + dt.timedelta(days=1)
    issued = _create(expires_at=expires)

    before = api_key_authenticate(
        key=issued.key, method="GET", source_ip=None, now=expires - dt.timedelta(seconds=1)
    )

    assert before.pk == issued.api_key.pk
    assert _refusal(key=issued.key, now=expires) == (401, "api_key_expired")
    assert api_key_status(issued.api_key, now=expires) == "expired"
    assert api_key_status(issued.api_key, now=NOW) == "active"


@pytest.mark.parametrize(
    ("status", "is_active"),
    [
        (ApprovalStatus.SUSPENDED, True),
        (ApprovalStatus.REJECTED, True),
        (ApprovalStatus.APPROVED, False),
    ],
)
def test_a_key_stops_working_when_its_owner_may_no_longer_use_the_api(status, is_active):
    affiliate = AffiliateFactory()
    issued = _create(user=affiliate.user)
    affiliate.status = status
    affiliate.save()
    affiliate.user.is_active = is_active
    affiliate.user.save()

    assert _refusal(key=issued.key) == (401, "api_key_owner_inactive")


def test_ip_allowlist_admits_listed_addresses_and_ranges_only():
    issued = _create(ip_allowlist=["198.51.100.0/24", "2001:db8::1"])

    for source in ("198.51.100.200", "2001:db8::1"):
        assert api_key_authenticate(key=issued.key, method="GET", source_ip=source, now=NOW)
    assert _refusal(key=issued.key, source_ip="203.0.113.9") == (403, "ip_not_allowed")
    assert _refusal(key=issued.key, source_ip=None) == (403, "ip_not_allowed")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_read_keys_may_only_use_safe_methods(method):
    read = _create(scope="read")
    write = _create(scope="write")

    for safe in ("GET", "HEAD", "OPTIONS"):
        assert api_key_authenticate(key=read.key, method=safe, source_ip=None, now=NOW)
    assert api_key_authenticate(key=write.key, method=method, source_ip=None, now=NOW)
    assert _refusal(key=read.key, method=method) == (403, "insufficient_scope")


def test_last_use_is_written_at_most_once_a_minute():
    issued = _create()

    def use(at: dt.datetime) -> int:
        with CaptureQueriesContext(connection) as queries:
            api_key_authenticate(key=issued.key, method="GET", source_ip=None, now=at)
        return sum(query["sql"].startswith("UPDATE") for query in queries.captured_queries)

    writes = [
        use(NOW),
        use(NOW + dt.timedelta(seconds=59)),
        use(NOW + dt.timedelta(seconds=60)),
        use(NOW + dt.timedelta(seconds=61)),
    ]

    assert writes == [1, 0, 1, 0]
    assert ApiKey.objects.get().last_used_at == NOW + dt.timedelta(seconds=60)


def test_a_refused_request_does_not_count_as_a_use():
    issued = _create(scope="read")

    _refusal(key=issued.key, method="POST")

    assert ApiKey.objects.get().last_used_at is None

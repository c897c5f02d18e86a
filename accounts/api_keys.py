"""API keys: made, revoked and checked here.

A key is `<prefix>.<secret>` (djangorestframework-api-key makes it); the database keeps the
prefix, to find the row, and a SHA-512 hash of the whole key, to check it. The key itself is in
the answer to its creation and nowhere else: not in the database, not in a log.

A key authenticates as its owner, with the owner's rights, narrowed by:
- `scope`: `read` keys may only use safe methods (GET, HEAD, OPTIONS); `write` keys may do what
  their owner may;
- `ip_allowlist`: addresses or CIDR ranges the requests must come from (empty: anywhere);
- `expiry_date`: after it the key is refused (none: it never expires);
- revocation, which is final.
A key whose owner is deactivated, or whose partner account is no longer approved, stops working.
"""

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db import transaction
from django.db.models import Q

from accounts.models import (
    Advertiser,
    Affiliate,
    ApiKey,
    ApiKeyScope,
    ApprovalStatus,
    Role,
    User,
)
from core.exceptions import ApplicationError
from core.net import address_in_networks

# `last_used_at` is a hint for the owner, not an audit log: at most one UPDATE a minute per key.
LAST_USED_PRECISION = dt.timedelta(minutes=1)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_ALLOWLIST = 100


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key's row and the key itself, which the caller shows once and then forgets."""

    api_key: ApiKey
    key: str


def _ip_allowlist_clean(entries: Iterable[Any]) -> list[str]:
    cleaned: list[str] = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError as exc:
            raise ApplicationError(
                "The IP allowlist has an invalid entry.",
                code="invalid_ip_allowlist",
                fields={"ip_allowlist": [f"{entry!r} is not an IP address or CIDR range."]},
            ) from exc
        cleaned.append(str(network.network_address) if network.num_addresses == 1 else str(network))
    if len(cleaned) > _MAX_ALLOWLIST:
        raise ApplicationError(
            f"The IP allowlist has more than {_MAX_ALLOWLIST} entries.",
            code="invalid_ip_allowlist",
            fields={"ip_allowlist": [f"At most {_MAX_ALLOWLIST} entries."]},
        )
    return cleaned


def api_key_status(api_key: ApiKey, *, now: dt.datetime) -> str:
    """`revoked`, `expired` or `active`."""
    if api_key.revoked:
        return "revoked"
    if api_key.expiry_date is not None and api_key.expiry_date <= now:
        return "expired"
    return "active"


def user_may_use_api(user: User) -> bool:
    """Active admins and staff, and active partners whose account is approved."""
    if not user.is_active:
        return False
    if user.is_network_admin:
        return True
    if user.role == Role.ADVERTISER:
        return Advertiser.objects.filter(user=user, status=ApprovalStatus.APPROVED).exists()
    if user.role == Role.AFFILIATE:
        return Affiliate.objects.filter(user=user, status=ApprovalStatus.APPROVED).exists()
    return False


def api_key_create(
    *,
    user: User,
    name: str,
    scope: str = ApiKeyScope.READ,
    expires_at: dt.datetime | None = None,
    ip_allowlist: Iterable[str] = (),
    now: dt.datetime,
) -> IssuedApiKey:
    """Make a key for `user`. The returned `key` is the only copy there will ever be."""
    name = name.strip()
    if not name:
        raise ApplicationError(
            "Give the key a name.", code="invalid", fields={"name": ["This field is required."]}
        )
    if scope not in ApiKeyScope.values:
        raise ApplicationError(
            "The scope must be read or write.",
            code="invalid_scope",
            fields={"scope": ["Choose read or write."]},
        )
    if expires_at is not None and expires_at <= now:
        raise ApplicationError(
            "The expiry must be in the future.",
            code="invalid_expiry",
            fields={"expires_at": ["Must be in the future."]},
        )
    if not user_may_use_api(user):
        raise ApplicationError(
            "Only approved accounts may have API keys.", code="account_not_approved", status=403
        )
    api_key, key = ApiKey.objects.create_key(
        user=user,
        name=name,
        scope=scope,
        expiry_date=expires_at,
        ip_allowlist=_ip_allowlist_clean(ip_allowlist),
    )
    # The library's manager is typed for its abstract base; it makes rows of our model.
    return IssuedApiKey(api_key=cast("ApiKey", api_key), key=key)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, now: dt.datetime) -> ApiKey:
    """Refuse the key from now on; final. Revoking a revoked key changes nothing."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if not locked.revoked:
        locked.revoked = True
        locked.revoked_at = now
        locked.save(update_fields=["revoked", "revoked_at"])
    return locked


def _refused(message: str, code: str, status: int = 401) -> ApplicationError:
    return ApplicationError(message, code=code, status=status)


def api_key_authenticate(
    *, key: str, method: str, source_ip: str | None, now: dt.datetime
) -> ApiKey:
    """The key row for a request's `key`, its owner loaded, or a refusal:

    401 `invalid_api_key` (no such key), `api_key_revoked`, `api_key_expired`,
    `api_key_owner_inactive` (the owner is deactivated or its account no longer approved);
    403 `ip_not_allowed` (the source is outside the key's allowlist), `insufficient_scope`
    (a read key on an unsafe method). Updates `last_used_at` at most once a minute.
    """
    prefix, dot, _secret = key.partition(".")
    api_key = (
        ApiKey.objects.select_related("user", "user__affiliate", "user__advertiser")
        .filter(prefix=prefix)
        .first()
        if dot and prefix
        else None
    )
    if api_key is None or not api_key.is_valid(key):
        raise _refused("The API key is not valid.", "invalid_api_key")
    if api_key.revoked:
        raise _refused("The API key was revoked.", "api_key_revoked")
    if api_key.expiry_date is not None and api_key.expiry_date <= now:
        raise _refused("The API key has expired.", "api_key_expired")
    if not _owner_may_use_api(api_key.user):
        raise _refused("The API key's account may no longer use the API.", "api_key_owner_inactive")
    if api_key.ip_allowlist and not address_in_networks(source_ip, api_key.ip_allowlist):
        raise _refused(
            "The API key may not be used from this address.", "ip_not_allowed", status=403
        )
    if api_key.scope == ApiKeyScope.READ and method.upper() not in SAFE_METHODS:
        raise _refused(
            "This API key has the read scope: it may only read.", "insufficient_scope", status=403
        )
    _last_used_touch(api_key, now=now)
    return api_key


def _owner_may_use_api(user: User) -> bool:
    """`user_may_use_api` on the profile rows loaded with the key (no extra query)."""
    if not user.is_active:
        return False
    if user.is_network_admin:
        return True
    attribute = {Role.ADVERTISER: "advertiser", Role.AFFILIATE: "affiliate"}.get(Role(user.role))
    profile = getattr(user, attribute, None) if attribute else None
    return profile is not None and profile.is_approved


def _last_used_touch(api_key: ApiKey, *, now: dt.datetime) -> None:
    stale_before = now - LAST_USED_PRECISION
    if api_key.last_used_at is not None and api_key.last_used_at > stale_before:
        return
    # The filter makes concurrent requests of one key write once, not once each.
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    ).update(last_used_at=now)
    api_key.last_used_at = now

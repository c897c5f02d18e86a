"""Partner keys: the credential a partner's server puts in `/postback/<key>`.

A key belongs to one advertiser and can only touch clicks on that advertiser's campaigns.

Rotation: `partner_key_rotate` issues a new key and a new signing secret, and keeps the old ones
in `previous_key` and `previous_signing_secret`, valid until `now +
PARTNER_KEY_ROTATION_GRACE_HOURS`, so a partner can switch without losing postbacks. During the
grace period a signature made with either secret is accepted, whichever key the request names (a
partner may deploy the new key and the new secret in either order). A second rotation inside the
grace period drops the first old key and secret at once. A leaked secret is therefore rotated out
like a leaked key: after the grace period, signatures made with it fail.

IP allowlist: a list of addresses or CIDR ranges (IPv4 or IPv6); empty allows any source. The
source is `core.net.client_ip` (the trusted-proxy setting decides whether X-Forwarded-For counts).

Signatures (only checked when `require_signature` is on) — what the partner sends:

    X-ClickLedger-Timestamp: <unix seconds>
    X-ClickLedger-Signature: sha256=<hex HMAC-SHA256(signing_secret, message)>

    message = f"{timestamp}.".encode() + raw_query_string_bytes + b"." + raw_body_bytes

The query string is the raw bytes after `?` (percent-encoding untouched, empty when none), the
body is the raw request body (empty for GET). The timestamp must be within
POSTBACK_SIGNATURE_MAX_AGE_SECONDS of our clock, either way; digests are compared in constant
time. Example in Python:

    ts = str(int(time.time()))
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + query + b"." + body, hashlib.sha256)
    headers = {"X-ClickLedger-Timestamp": ts,
               "X-ClickLedger-Signature": "sha256=" + mac.hexdigest()}
"""

import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from accounts.models import Advertiser, User
from campaigns.models import PARTNER_KEY_MAX_LENGTH, PartnerKey
from campaigns.partner_profiles import PartnerProfile, profile_maps_clean
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.net import address_in_networks
from core.sql import execute_fetchone, model_columns, model_from_row
from core.tokens import new_partner_key, new_signing_secret

SIGNATURE_PREFIX = "sha256="
_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "ip_allowlist",
        "is_active",
        "require_signature",
        "profile",
        "param_map",
        "status_map",
    }
)


def _ip_allowlist_clean(entries: Iterable[Any]) -> list[str]:
    """Normalise every entry to a network string; refuse the first one that is not an IP/CIDR."""
    if isinstance(entries, str | bytes):
        entries = [entries]
    cleaned: list[str] = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError as exc:
            raise ApplicationError(
                f"{entry!r} is not an IP address or CIDR range.",
                code="invalid_ip_allowlist",
                fields={"ip_allowlist": [f"{entry!r} is not an IP address or CIDR range."]},
            ) from exc
        if str(network) not in cleaned:
            cleaned.append(str(network))
    return cleaned


@transaction.atomic
def partner_key_create(
    *,
    advertiser: Advertiser,
    name: str = "",
    ip_allowlist: Iterable[str] = (),
    require_signature: bool = False,
    profile: str = PartnerProfile.CLICKLEDGER,
    param_map: Any = None,
    status_map: Any = None,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> PartnerKey:
    """A new key; `profile` says whose parameter names its postbacks use
    (`campaigns.partner_profiles`), `param_map` / `status_map` only with `custom`."""
    profile, param_map, status_map = profile_maps_clean(
        profile=profile, param_map=param_map, status_map=status_map
    )
    partner_key = PartnerKey.objects.create(
        advertiser=advertiser,
        name=name,
        key=new_partner_key(),
        signing_secret=new_signing_secret(),
        ip_allowlist=_ip_allowlist_clean(ip_allowlist),
        require_signature=require_signature,
        profile=profile,
        param_map=param_map,
        status_map=status_map,
    )
    _audit(partner_key, action="create", actor=actor, source=source, before={})
    return partner_key


_AUDITED_FIELDS = (
    "advertiser",
    "name",
    "key",
    "signing_secret",
    "ip_allowlist",
    "is_active",
    "require_signature",
    "profile",
    "param_map",
    "status_map",
)


def _audit(
    partner_key: PartnerKey,
    *,
    action: str,
    actor: User | None,
    source: str,
    before: dict[str, Any],
) -> None:
    after = audit_snapshot(partner_key, _AUDITED_FIELDS)
    if before:
        after = {name: after[name] for name in before}
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj_type=PartnerKey,
        obj_id=partner_key.pk,
        obj_repr=str(partner_key),
        before=before,
        after=after,
    )


@transaction.atomic
def partner_key_update(
    *,
    partner_key: PartnerKey,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
    **fields: Any,
) -> PartnerKey:
    """Change `name`, `ip_allowlist`, `is_active`, `require_signature`, `profile`, `param_map` or
    `status_map`; anything else refused. Leaving `custom` without new maps clears its maps."""
    unknown = sorted(set(fields) - _UPDATABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            f"These fields cannot be changed: {', '.join(unknown)}.",
            code="invalid_fields",
            fields={name: ["Cannot be changed."] for name in unknown},
        )
    if "ip_allowlist" in fields:
        fields["ip_allowlist"] = _ip_allowlist_clean(fields["ip_allowlist"])
    if {"profile", "param_map", "status_map"} & set(fields):
        profile = fields.get("profile", partner_key.profile)
        keep_maps = profile == PartnerProfile.CUSTOM
        fields["profile"], fields["param_map"], fields["status_map"] = profile_maps_clean(
            profile=profile,
            param_map=fields.get("param_map", partner_key.param_map if keep_maps else {}),
            status_map=fields.get("status_map", partner_key.status_map if keep_maps else {}),
        )
    before = audit_snapshot(partner_key, fields)
    for name, value in fields.items():
        setattr(partner_key, name, value)
    if fields:
        partner_key.save(update_fields=[*fields, "updated_at"])
        _audit(partner_key, action="update", actor=actor, source=source, before=before)
    return partner_key


@transaction.atomic
def partner_key_rotate(
    *,
    partner_key: PartnerKey,
    now: dt.datetime,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> PartnerKey:
    """Issue a new key and signing secret; the current ones keep working for the grace period."""
    locked = PartnerKey.objects.select_for_update().get(pk=partner_key.pk)
    before = audit_snapshot(locked, ["key", "signing_secret"])
    locked.previous_key = locked.key
    locked.previous_signing_secret = locked.signing_secret
    locked.previous_key_expires_at = now + dt.timedelta(
        hours=settings.PARTNER_KEY_ROTATION_GRACE_HOURS
    )
    locked.key = new_partner_key()
    locked.signing_secret = new_signing_secret()
    locked.rotated_at = now
    locked.save(
        update_fields=[
            "key",
            "previous_key",
            "signing_secret",
            "previous_signing_secret",
            "previous_key_expires_at",
            "rotated_at",
            "updated_at",
        ]
    )
    _audit(locked, action="rotate", actor=actor, source=source, before=before)
    return locked


def partner_key_resolve(*, key: str, now: dt.datetime) -> PartnerKey | None:
    """The active key matching `key` (current, or rotated out less than the grace period ago).

    One prepared statement (it runs on every postback); None for unknown, disabled and expired
    keys alike.
    """
    if not key or len(key) > PARTNER_KEY_MAX_LENGTH or "\x00" in key:
        return None
    row = execute_fetchone(
        _resolve_sql(), [key, key, connection.ops.adapt_datetimefield_value(now)]
    )
    return None if row is None else model_from_row(PartnerKey, row)


@functools.cache
def _resolve_sql() -> str:
    # Table and column names come from the model; values are bound parameters.
    return (
        f"SELECT {model_columns(PartnerKey, 'pk')} FROM {PartnerKey._meta.db_table} pk "  # noqa: S608
        "WHERE pk.is_active AND (pk.key = %s OR (pk.previous_key = %s "
        "AND pk.previous_key_expires_at > %s)) ORDER BY pk.id LIMIT 1"
    )


def _forbidden(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, status=403)


def partner_key_signature(*, secret: str, timestamp: str, query: bytes, body: bytes) -> str:
    """The `X-ClickLedger-Signature` value a partner sends for this request (module docstring)."""
    message = f"{timestamp}.".encode() + query + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def partner_key_verify_request(
    *,
    partner_key: PartnerKey,
    source_ip: str | None,
    timestamp_header: str | None,
    signature_header: str | None,
    query: bytes,
    body: bytes,
    now: dt.datetime,
) -> None:
    """Raise ApplicationError 403 `ip_not_allowed` or `bad_signature`; return when allowed.

    `query` and `body` are the raw bytes the signature covers (the body empty for GET)."""
    if partner_key.ip_allowlist and not address_in_networks(source_ip, partner_key.ip_allowlist):
        raise _forbidden(
            f"Source address {source_ip or 'unknown'} is not allowed for this key.",
            "ip_not_allowed",
        )
    if not partner_key.require_signature:
        return
    timestamp = (timestamp_header or "").strip()
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise _forbidden(
            "Missing or malformed X-ClickLedger-Timestamp header (unix seconds).", "bad_signature"
        )
    if abs(now.timestamp() - int(timestamp)) > settings.POSTBACK_SIGNATURE_MAX_AGE_SECONDS:
        raise _forbidden("The signature timestamp is too old or in the future.", "bad_signature")
    signature = (signature_header or "").strip()
    if not signature.startswith(SIGNATURE_PREFIX):
        raise _forbidden(
            "Missing or malformed X-ClickLedger-Signature header (sha256=<hex>).", "bad_signature"
        )
    given = (SIGNATURE_PREFIX + signature[len(SIGNATURE_PREFIX) :].lower()).encode(
        "ascii", errors="replace"
    )
    matches = [
        hmac.compare_digest(
            partner_key_signature(
                secret=secret, timestamp=timestamp, query=query, body=body
            ).encode(),
            given,
        )
        for secret in _signing_secrets(partner_key=partner_key, now=now)
    ]
    if not any(matches):
        raise _forbidden("The signature does not match.", "bad_signature")


def _signing_secrets(*, partner_key: PartnerKey, now: dt.datetime) -> list[str]:
    """The current secret, and the previous one while its rotation grace period lasts."""
    secrets = [partner_key.signing_secret]
    expires_at = partner_key.previous_key_expires_at
    if partner_key.previous_signing_secret and expires_at is not None and expires_at > now:
        secrets.append(partner_key.previous_signing_secret)
    return secrets


def partner_key_takes_pixels(*, partner_key: PartnerKey) -> bool:
    """Whether conversion pixels (`/px/<key>.gif|.html|.js`) may use this key.

    A pixel comes from the visitor's browser: its source is the visitor's address and it carries
    no signature. A key with an IP allowlist or required signatures says only its owner's server
    may report conversions, so it takes no pixel.
    """
    return not (partner_key.require_signature or partner_key.ip_allowlist)


# The example values of the pixel snippets: macros the advertiser replaces with their own values
# (left as they are, the pixel is refused as `unreplaced_macro`, never booked).
_PIXEL_QUERY = "event={event}&transaction_id={transaction_id}&payout={payout}"


def partner_key_pixel_snippets(*, partner_key: PartnerKey) -> dict[str, str]:
    """The three conversion-pixel tags to paste in the conversion page, by form (gif, html, js).

    No click id: the visitor's `cl_cid` cookie supplies it. `&` is written `&amp;` as HTML
    attributes require.
    """
    base = f"{settings.PUBLIC_BASE_URL}/px/{partner_key.key}"
    query = _PIXEL_QUERY.replace("&", "&amp;")
    return {
        "gif": f'<img src="{base}.gif?{query}" width="1" height="1" alt="">',
        "html": f'<iframe src="{base}.html?{query}" width="1" height="1" title="" hidden></iframe>',
        "js": f'<script src="{base}.js?{query}" async></script>',
    }


def partner_key_postback_url(*, partner_key: PartnerKey) -> str:
    """The URL template to give the partner, with the macros of the partner guide
    (docs/partners.md)."""
    return (
        f"{settings.PUBLIC_BASE_URL}/postback/{partner_key.key}"
        "?click_id={click_id}&status={status}&payout={payout}&offer_id={offer_id}"
        "&transaction_id={transaction_id}"
    )

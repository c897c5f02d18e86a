"""Affiliates' payout methods: where the network sends their money.

Each kind has its own fields (`DETAIL_FIELDS`), checked here before anything is saved:

- `paypal`: `email`;
- `bank` (SEPA and other IBAN countries): `iban` (country, length, structure and check digits,
  by schwifty), `bic` (optional: taken from the IBAN's bank when schwifty knows it) and
  `account_holder`;
- `wire` (international, no IBAN): `account_holder`, `bank_name`, `account_number`,
  `swift_bic` and `bank_address`;
- `crypto`: `currency` (a ticker such as USDT), `network` (`NETWORKS`) and `address`, whose
  shape is checked for the network (a wrong character or length is caught; whether the wallet
  exists is not).

Every change (create, update, archive) needs the affiliate's current password
(`accounts.services.user_password_confirm`), is written to the audit log with account numbers
masked, and is announced to the affiliate by email after commit, so a change the affiliate did
not make does not go unnoticed.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from schwifty import BIC, IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

from accounts.models import Affiliate, User
from accounts.services import user_password_confirm
from core.audit import audit_record, audit_value
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.tasks import enqueue_on_commit
from payouts.models import PayoutMethod, PayoutMethodKind
from payouts.tasks import send_payout_method_changed_email

DETAIL_FIELDS: dict[str, tuple[str, ...]] = {
    PayoutMethodKind.PAYPAL: ("email",),
    PayoutMethodKind.BANK: ("account_holder", "iban", "bic"),
    PayoutMethodKind.WIRE: (
        "account_holder",
        "bank_name",
        "account_number",
        "swift_bic",
        "bank_address",
    ),
    PayoutMethodKind.CRYPTO: ("currency", "network", "address"),
}
ALL_DETAIL_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in DETAIL_FIELDS.values() for name in names)
)
_OPTIONAL = frozenset({"bic"})
_MAX_LENGTHS = {"account_holder": 140, "bank_name": 140, "bank_address": 300, "email": 254}

_BASE58 = "[1-9A-HJ-NP-Za-km-z]"
# network -> (label, address pattern). Shapes only: a typo in the middle of a valid-looking
# address is caught by the wallet's own checksum when the payment is made, not here.
NETWORKS: dict[str, tuple[str, re.Pattern[str]]] = {
    "bitcoin": (
        "Bitcoin",
        re.compile(rf"(?:[13]{_BASE58}{{25,34}}|bc1[02-9ac-hj-np-z]{{11,71}})"),
    ),
    "ethereum": ("Ethereum (ERC-20)", re.compile(r"0x[0-9a-fA-F]{40}")),
    "bsc": ("BNB Smart Chain (BEP-20)", re.compile(r"0x[0-9a-fA-F]{40}")),
    "polygon": ("Polygon", re.compile(r"0x[0-9a-fA-F]{40}")),
    "tron": ("Tron (TRC-20)", re.compile(rf"T{_BASE58}{{33}}")),
    "solana": ("Solana", re.compile(rf"{_BASE58}{{32,44}}")),
}
_TICKER = re.compile(r"[A-Z0-9]{2,10}")
_ACCOUNT_NUMBER = re.compile(r"[A-Z0-9]{4,34}")
_SEPARATORS = re.compile(r"[\s-]+")

ACTION_CREATED = "created"
ACTION_UPDATED = "updated"
ACTION_ARCHIVED = "archived"
ACTION_DELETED = "deleted"


def _invalid(field: str, message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]})


def _text(details: Mapping[str, Any], name: str) -> str:
    value = details.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(name, "Must be text.", "invalid_field")
    value = " ".join(value.split())
    limit = _MAX_LENGTHS.get(name, 100)
    if len(value) > limit:
        raise _invalid(name, f"At most {limit} characters.", "invalid_field")
    return value


def _iban_clean(raw: str) -> IBAN:
    try:
        return IBAN(raw)
    except InvalidChecksumDigits as exc:
        raise _invalid(
            "iban", "The IBAN's check digits are wrong: look for a typo.", "invalid_iban"
        ) from exc
    except SchwiftyException as exc:
        raise _invalid("iban", f"Not a valid IBAN ({exc}).", "invalid_iban") from exc


def _bic_clean(field: str, raw: str) -> str:
    try:
        return str(BIC(raw).compact)
    except SchwiftyException as exc:
        raise _invalid(field, f"Not a valid BIC/SWIFT code ({exc}).", "invalid_bic") from exc


def _bank_clean(values: dict[str, str]) -> dict[str, str]:
    iban = _iban_clean(values["iban"])
    bic = values["bic"]
    if bic:
        bic = _bic_clean("bic", bic)
    else:
        # Empty when schwifty's bank registry does not know the IBAN's bank: then it stays
        # optional, as SEPA payments need no BIC.
        known = iban.bic
        bic = str(known.compact) if known is not None else ""
    return {**values, "iban": str(iban.compact), "bic": bic}


def _wire_clean(values: dict[str, str]) -> dict[str, str]:
    number = _SEPARATORS.sub("", values["account_number"]).upper()
    if not _ACCOUNT_NUMBER.fullmatch(number):
        raise _invalid(
            "account_number",
            "4 to 34 letters and digits (spaces and dashes are ignored).",
            "invalid_account_number",
        )
    return {
        **values,
        "account_number": number,
        "swift_bic": _bic_clean("swift_bic", values["swift_bic"]),
    }


def _paypal_clean(values: dict[str, str]) -> dict[str, str]:
    email = values["email"].lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise _invalid("email", "Not a valid email address.", "invalid_email") from exc
    return {"email": email}


def _crypto_clean(values: dict[str, str]) -> dict[str, str]:
    currency = values["currency"].upper()
    if not _TICKER.fullmatch(currency):
        raise _invalid(
            "currency", "A ticker of 2 to 10 letters or digits, e.g. USDT.", "invalid_currency"
        )
    network = values["network"].lower()
    if network not in NETWORKS:
        raise _invalid("network", f"One of: {', '.join(NETWORKS)}.", "invalid_network")
    address = values["address"].replace(" ", "")
    label, pattern = NETWORKS[network]
    if not pattern.fullmatch(address):
        raise _invalid(
            "address", f"Not a {label} address: check it was copied whole.", "invalid_address"
        )
    return {"currency": currency, "network": network, "address": address}


_CLEANERS = {
    PayoutMethodKind.PAYPAL: _paypal_clean,
    PayoutMethodKind.BANK: _bank_clean,
    PayoutMethodKind.WIRE: _wire_clean,
    PayoutMethodKind.CRYPTO: _crypto_clean,
}


def payout_method_details_clean(*, kind: str, details: Mapping[str, Any]) -> dict[str, str]:
    """The kind's fields, normalized (IBAN and BIC compact and upper-case, email lower-case);
    ApplicationError 400 naming the field otherwise: `invalid_kind`, `unknown_field`,
    `required`, `invalid_field`, `invalid_iban`, `invalid_bic`, `invalid_email`,
    `invalid_account_number`, `invalid_currency`, `invalid_network`, `invalid_address`."""
    if kind not in PayoutMethodKind.values:
        raise _invalid("kind", f"One of: {', '.join(PayoutMethodKind.values)}.", "invalid_kind")
    names = DETAIL_FIELDS[kind]
    unknown = sorted(set(details) - set(names))
    if unknown:
        raise ApplicationError(
            f"Not a field of a {kind} payout method: {', '.join(unknown)}.",
            code="unknown_field",
            fields={name: [f"Not a field of a {kind} payout method."] for name in unknown},
        )
    values = {name: _text(details, name) for name in names}
    missing = [name for name in names if not values[name] and name not in _OPTIONAL]
    if missing:
        raise ApplicationError(
            f"Missing: {', '.join(missing)}.",
            code="required",
            fields={name: ["Required."] for name in missing},
        )
    return _CLEANERS[PayoutMethodKind(kind)](values)


# --- masking and display ------------------------------------------------------------------------

_MASK = "•" * 4


def _tail(value: str, keep: int = 4) -> str:
    return f"{_MASK}{value[-keep:]}" if len(value) > keep else _MASK


def details_masked(*, kind: str, details: Mapping[str, Any]) -> dict[str, str]:
    """The details with what would let someone else be paid shortened to its ends (IBAN,
    account number, wallet address, PayPal email's local part), for the audit log and emails."""
    masked = {name: str(value) for name, value in details.items()}
    if "iban" in masked:
        masked["iban"] = masked["iban"][:4] + _tail(masked["iban"])
    if "account_number" in masked:
        masked["account_number"] = _tail(masked["account_number"])
    if "address" in masked:
        masked["address"] = masked["address"][:6] + _tail(masked["address"])
    if "email" in masked:
        local, _, domain = masked["email"].partition("@")
        masked["email"] = f"{local[:1]}{_MASK}@{domain}"
    return masked


def payout_method_summary(
    method: PayoutMethod, *, masked: bool = True, with_label: bool = True
) -> str:
    """One line naming the method: `Main · Bank transfer (IBAN) DE89••••3000`."""
    details = details_masked(kind=method.kind, details=method.details) if masked else method.details
    key = {
        PayoutMethodKind.PAYPAL: "email",
        PayoutMethodKind.BANK: "iban",
        PayoutMethodKind.WIRE: "account_number",
        PayoutMethodKind.CRYPTO: "address",
    }[PayoutMethodKind(method.kind)]
    prefix = f"{method.label} · " if method.label and with_label else ""
    return f"{prefix}{method.get_kind_display()} {details.get(key, '')}".strip()


_DETAIL_LABELS = {
    "email": "PayPal email",
    "account_holder": "Account holder",
    "iban": "IBAN",
    "bic": "BIC",
    "bank_name": "Bank",
    "account_number": "Account number",
    "swift_bic": "SWIFT/BIC",
    "bank_address": "Bank address",
    "currency": "Currency",
    "network": "Network",
    "address": "Address",
}


def payout_method_details_text(method: PayoutMethod) -> str:
    """The full details as the payer reads them (a payout request's snapshot), one per line."""
    lines = [f"{method.get_kind_display()}" + (f" ({method.label})" if method.label else "")]
    for name in DETAIL_FIELDS[method.kind]:
        value = str(method.details.get(name, ""))
        if name == "iban" and value:
            value = str(IBAN(value, allow_invalid=True).formatted)
        if name == "network" and value in NETWORKS:
            value = NETWORKS[value][0]
        if value:
            lines.append(f"{_DETAIL_LABELS[name]}: {value}")
    return "\n".join(lines)


# --- services -----------------------------------------------------------------------------------


def _snapshot(method: PayoutMethod) -> dict[str, Any]:
    """What the audit log keeps of a method: the plain fields, and the details masked."""
    snapshot: dict[str, Any] = {
        "kind": method.kind,
        "label": method.label,
        "is_default": method.is_default,
        "archived_at": audit_value(method.archived_at),
    }
    for name, value in details_masked(kind=method.kind, details=method.details).items():
        snapshot[f"details.{name}"] = value
    return snapshot


def _audit(
    method: PayoutMethod,
    *,
    action: str,
    actor: User | None,
    source: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj_type=PayoutMethod,
        obj_id=method.pk,
        obj_repr=f"{method.affiliate_id}: {payout_method_summary(method)}",
        before=before,
        after=after,
    )


def _notify(method: PayoutMethod, *, action: str) -> None:
    enqueue_on_commit(
        send_payout_method_changed_email,
        affiliate_id=method.affiliate_id,
        action=action,
        summary=payout_method_summary(method),
        changed_at=timezone.now().isoformat(),
    )


def _label_clean(label: Any) -> str:
    if not isinstance(label, str):
        raise _invalid("label", "Must be text.", "invalid_field")
    label = " ".join(label.split())
    if len(label) > 100:
        raise _invalid("label", "At most 100 characters.", "invalid_field")
    return label


def _defaults_clear(*, affiliate_id: int, keep_id: int | None) -> None:
    defaults = PayoutMethod.objects.filter(
        affiliate_id=affiliate_id, is_default=True, archived_at__isnull=True
    )
    if keep_id is not None:
        defaults = defaults.exclude(pk=keep_id)
    defaults.update(is_default=False)


def _affiliate_lock(affiliate: Affiliate) -> None:
    # Serializes the changes of one affiliate's methods, so "first method is the default" and
    # "one default" hold under concurrent requests.
    Affiliate.objects.select_for_update().filter(pk=affiliate.pk).exists()


@transaction.atomic
def payout_method_create(
    *,
    affiliate: Affiliate,
    actor: User,
    password: str,
    kind: str,
    details: Mapping[str, Any],
    label: str = "",
    is_default: bool = False,
    source: str = AuditSource.SYSTEM,
) -> PayoutMethod:
    """Save a new method for `affiliate`, confirmed by `actor`'s current password.

    The affiliate's first active method becomes its default whatever `is_default` says; making
    one the default clears the previous one. Raises `reauthentication_required` (403) or a
    field's refusal (see `payout_method_details_clean`).
    """
    user_password_confirm(user=actor, password=password)
    cleaned = payout_method_details_clean(kind=kind, details=details)
    label = _label_clean(label)
    _affiliate_lock(affiliate)
    has_active = PayoutMethod.objects.filter(affiliate=affiliate, archived_at__isnull=True).exists()
    is_default = bool(is_default) or not has_active
    if is_default:
        _defaults_clear(affiliate_id=affiliate.pk, keep_id=None)
    now = timezone.now()
    method = PayoutMethod.objects.create(
        affiliate=affiliate,
        kind=kind,
        label=label,
        details=cleaned,
        is_default=is_default,
        created_at=now,
        updated_at=now,
    )
    _audit(method, action="create", actor=actor, source=source, before={}, after=_snapshot(method))
    _notify(method, action=ACTION_CREATED)
    return method


def _locked_active(method: PayoutMethod) -> PayoutMethod:
    locked = PayoutMethod.objects.select_for_update().get(pk=method.pk)
    if locked.is_archived:
        raise ApplicationError(
            "This payout method is archived: add a new one instead.",
            code="payout_method_archived",
            status=409,
        )
    return locked


@transaction.atomic
def payout_method_update(
    *,
    method: PayoutMethod,
    actor: User,
    password: str,
    details: Mapping[str, Any] | None = None,
    label: str | None = None,
    is_default: bool | None = None,
    source: str = AuditSource.SYSTEM,
) -> PayoutMethod:
    """Change some of a method's details (merged into the saved ones and checked again), its
    label, or make it the default (`is_default=False` is refused: make another one the default
    instead). The kind never changes: a new kind is a new method. Payout requests made before
    keep the details they were made with. Raises `reauthentication_required` (403),
    `payout_method_archived` (409) or a field's refusal.
    """
    user_password_confirm(user=actor, password=password)
    _affiliate_lock(method.affiliate)
    locked = _locked_active(method)
    before = _snapshot(locked)
    fields = ["updated_at"]
    if details:
        merged = {**locked.details, **details}
        if "iban" in details and "bic" not in details:
            merged["bic"] = ""  # the old BIC may be another bank's: found again from the IBAN
        locked.details = payout_method_details_clean(kind=locked.kind, details=merged)
        fields.append("details")
    if label is not None:
        locked.label = _label_clean(label)
        fields.append("label")
    if is_default is not None:
        if not is_default and locked.is_default:
            raise _invalid(
                "is_default",
                "Make another method the default instead.",
                "default_required",
            )
        if is_default and not locked.is_default:
            _defaults_clear(affiliate_id=locked.affiliate_id, keep_id=locked.pk)
            locked.is_default = True
            fields.append("is_default")
    after = _snapshot(locked)
    if after == before:
        return locked
    locked.updated_at = timezone.now()
    locked.save(update_fields=fields)
    _audit(locked, action="update", actor=actor, source=source, before=before, after=after)
    _notify(locked, action=ACTION_UPDATED)
    return locked


@transaction.atomic
def payout_method_archive(
    *,
    method: PayoutMethod,
    actor: User,
    password: str,
    source: str = AuditSource.SYSTEM,
) -> str:
    """Remove a method from use: archived (kept, read-only) when a payout request used it, else
    deleted. Returns `archived` or `deleted`. An archived default leaves the affiliate without a
    default until it picks one. Raises `reauthentication_required` (403) or
    `payout_method_archived` (409).
    """
    user_password_confirm(user=actor, password=password)
    locked = _locked_active(method)
    before = _snapshot(locked)
    # The row lock above is what a payout request takes before using the method: no request
    # can start using it between this check and the delete.
    if locked.payout_requests.exists():
        locked.archived_at = timezone.now()
        locked.is_default = False
        locked.updated_at = locked.archived_at
        locked.save(update_fields=["archived_at", "is_default", "updated_at"])
        _audit(
            locked,
            action="archive",
            actor=actor,
            source=source,
            before=before,
            after=_snapshot(locked),
        )
        _notify(locked, action=ACTION_ARCHIVED)
        return ACTION_ARCHIVED
    _audit(locked, action="delete", actor=actor, source=source, before=before, after={})
    _notify(locked, action=ACTION_DELETED)
    locked.delete()
    return ACTION_DELETED


def payout_method_for_request(*, affiliate: Affiliate, payout_method_id: int) -> PayoutMethod:
    """The affiliate's active method `payout_method_id`, locked until the caller's transaction
    ends (so it cannot be archived or deleted under a payout request being made); 400
    `invalid_payout_method` when it is someone else's, archived or missing."""
    method = (
        PayoutMethod.objects.select_for_update()
        .filter(pk=payout_method_id, affiliate=affiliate, archived_at__isnull=True)
        .first()
    )
    if method is None:
        raise _invalid(
            "payout_method",
            "Not one of your active payout methods.",
            "invalid_payout_method",
        )
    return method

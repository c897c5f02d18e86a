"""Inbound postbacks: a partner's server tells us about a conversion or a status change.

`postback_receive` runs the whole flow of DESIGN.md section 3 and `postback_receive_legacy` the
keyless `GET /postback` of seeds 000/001. Both always answer (never raise) and write exactly one
PostbackLog row per request: in the conversion's transaction when the postback is accepted, after
the rollback when it is refused. When the database is unreachable they answer 503 and log to the
Python logger instead.

Parameters come from the query string and the body (form-encoded, multipart or JSON); the body
wins. JSON numbers are read as Decimal so `50.00` stays exact. Known parameters and aliases:
`click_id`, `status`, `payout` (alias `revenue`; legacy `amount`), `currency`, `offer_id` /
`survey_id` / `campaign_id` (the partner's offer id), `transaction_id`, `conversion_id` (the
partner's id, stored as `external_conversion_id`), `user_id`, `affiliate_id`, `sub_id` (= sub1),
`sub_id1`..`sub_id5` (also `sub1`..`sub5`), `country`, `device_id`, `ip`, `user_agent`, `reason`.
Everything else is kept verbatim in `custom_data` (nested JSON as-is; a JSON decimal becomes a
JSON string with its exact text, so `3.50` stays `"3.50"`; whole numbers stay integers).

Currency: a postback in another currency than the campaign's is refused (400
`currency_mismatch`): there is no FX conversion here, and silently booking EUR as USD would be
worse than a clear refusal.

Identity (see the Conversion docstring): (campaign, transaction_id) when a transaction id is given,
else (click, dedupe_slot). The insert happens first (INSERT ... ON CONFLICT DO NOTHING); when it
writes nothing the conversion exists, and it is then locked and moved through the status machine.
So a repeat is a `duplicate` under any concurrency, and caps are consumed only by the insert that
won.

Cost: this is the second-hottest path. The usual postback (click id given, no caps, no
forwarding endpoint) is ten statements, all precompiled (`core.sql`): key, BEGIN, click with its
campaign and what may be skipped, conversion, history, ledger accounts, ledger transaction, ledger
entries, log, COMMIT. Caps, end-user points and forwarding add their own statements only when the
click lookup says they apply.
"""

import datetime as dt
import functools
import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.utils import timezone

from campaigns.caps import caps_consume
from campaigns.models import Campaign, Cap, PartnerKey
from campaigns.partner_keys import partner_key_resolve, partner_key_verify_request
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.money import parse_money
from core.net import address_in_networks
from core.sql import execute_fetchone, model_columns, model_from_row, model_insert
from forwarding.models import PostbackEndpoint
from tracker.models import (
    ChangeSource,
    Click,
    Conversion,
    ConversionStatus,
    PostbackLog,
    PostbackOutcome,
)
from tracker.services.conversions import (
    REASON_CAP_REACHED,
    REASON_CLICK_BLOCKED,
    REASON_OUTSIDE_ATTRIBUTION_WINDOW,
    SYSTEM_REJECT_REASONS,
    conversion_created_apply,
    conversion_transition_apply,
    conversion_transition_check,
    points_awarded_for,
)
from tracker.services.forwards import forwards_queue_for_test_postback
from tracker.services.pricing import conversion_money

logger = logging.getLogger(__name__)

SUCCESS_MESSAGE = "Postback received and distributed"
LEGACY_SUCCESS_MESSAGE = "Conversion tracked successfully"
LEGACY_NOT_FOUND_MESSAGE = "Invalid click_id or affiliate_id"
STATUS_TEST = "test"
VALID_STATUSES = (*ConversionStatus.values, STATUS_TEST)
FALLBACK_LOOKBACK = dt.timedelta(hours=1)

ENDPOINT_KEYED = "postback"
ENDPOINT_API = "api"
ENDPOINT_LEGACY = "legacy"

# canonical name -> accepted parameter names, first non-empty wins
PARAM_ALIASES: dict[str, tuple[str, ...]] = {
    "click_id": ("click_id",),
    "status": ("status",),
    "payout": ("payout", "revenue"),
    "currency": ("currency",),
    "offer_id": ("offer_id",),
    "survey_id": ("survey_id",),
    "campaign_id": ("campaign_id",),
    "transaction_id": ("transaction_id",),
    "conversion_id": ("conversion_id",),
    "user_id": ("user_id",),
    "affiliate_id": ("affiliate_id",),
    "sub1": ("sub_id1", "sub_id", "sub1"),
    "sub2": ("sub_id2", "sub2"),
    "sub3": ("sub_id3", "sub3"),
    "sub4": ("sub_id4", "sub4"),
    "sub5": ("sub_id5", "sub5"),
    "country": ("country",),
    "device_id": ("device_id",),
    "ip": ("ip",),
    "user_agent": ("user_agent",),
    "reason": ("reason",),
}
LEGACY_EXTRA_ALIASES = {"payout": ("payout", "revenue", "amount")}
OPTIONAL_PARAMS = [
    "status",
    "payout",
    "currency",
    "offer_id",
    "survey_id",
    "campaign_id",
    "transaction_id",
    "conversion_id",
    "user_id",
    "affiliate_id",
    "sub_id",
    "sub_id1",
    "sub_id2",
    "sub_id3",
    "sub_id4",
    "sub_id5",
    "country",
    "device_id",
    "ip",
    "user_agent",
    "reason",
    "+ any custom fields",
]
_MAX_LENGTH = {"ip": 64, "user_agent": 2000}
_DEFAULT_MAX_LENGTH = 255
_MAX_JSON_DEPTH = 32
# {click_id}, {{click_id}}, ${click_id}, and the same percent-encoded once more.
_MACRO_RE = re.compile(
    r"\$?\{\{?\s*[A-Za-z_][\w.\-]*\s*\}\}?|\$?%7B(?:%7B)?[A-Za-z_][\w.\-]*(?:%7D)?%7D",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PostbackInbound:
    """What the view read from the request, unparsed (the least work on the request path)."""

    endpoint: str
    method: str
    query_string: bytes
    body: bytes | None  # None: larger than the server accepts
    content_type: str
    source_ip: str | None
    path_key: str | None = None
    header_key: str = ""
    signature_timestamp: str | None = None
    signature: str | None = None
    form_data: Mapping[str, str] | None = None  # multipart bodies, parsed by Django


@dataclass(frozen=True)
class PostbackAnswer:
    status: int
    payload: dict[str, Any]


@dataclass
class PostbackFields:
    click_id: str = ""
    status: str = ConversionStatus.APPROVED
    payout: Decimal | None = None
    currency: str = ""
    offer_id: str = ""
    survey_id: str = ""
    campaign_id: str = ""
    transaction_id: str = ""
    conversion_id: str = ""
    user_id: str = ""
    affiliate_id: str = ""
    sub_ids: dict[str, str] = field(default_factory=dict)
    country: str = ""
    device_id: str = ""
    ip: str = ""
    user_agent: str = ""
    reason: str = ""
    custom_data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def partner_offer_id(self) -> str:
        return self.offer_id or self.survey_id or self.campaign_id


@dataclass
class _Outcome:
    result: str
    conversion: Conversion | None
    reason: str = ""


# --- parsing ----------------------------------------------------------------------------------


def _invalid_body(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_body", fields={"body": [message]})


def _clean_text(value: str) -> str:
    """PostgreSQL refuses NUL characters and lone surrogates; the log must store anything."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _decimal_to_json(value: Decimal) -> int | str:
    """A JSON number keeps its exact text (no float anywhere); whole numbers stay integers."""
    if value == value.to_integral_value() and "." not in str(value) and "E" not in str(value):
        return int(value)
    return str(value)


def _json_safe(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_JSON_DEPTH:
        raise _invalid_body(f"The JSON body is nested deeper than {_MAX_JSON_DEPTH} levels.")
    if isinstance(value, str):
        return _clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal):
        return _decimal_to_json(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(item, depth + 1) for item in value]
    return _clean_text(str(value))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _form_parse(raw: bytes) -> dict[str, Any]:
    try:
        return QueryDict(raw, encoding="utf-8").dict()
    except TooManyFieldsSent as exc:
        raise ApplicationError("Too many parameters.", code="too_many_parameters") from exc


def _body_parse(inbound: PostbackInbound, warnings: list[str]) -> dict[str, Any]:
    if inbound.body is None:
        raise _invalid_body("The request body is too large.")
    media_type = inbound.content_type.split(";", 1)[0].strip().lower()
    body = inbound.body
    if media_type == "multipart/form-data":
        if inbound.form_data is None:
            raise _invalid_body("The multipart body could not be parsed.")
        return dict(inbound.form_data)
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if not is_json and media_type in ("", "text/plain") and body.lstrip().startswith(b"{"):
        is_json = True
    if is_json:
        if not body.strip():
            return {}
        try:
            data = json.loads(
                body.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant
            )
        except (ValueError, RecursionError) as exc:
            raise _invalid_body("The body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise _invalid_body("The JSON body must be an object.")
        return data
    if not body:
        return {}
    if media_type in ("", "text/plain", "application/x-www-form-urlencoded"):
        return _form_parse(body)
    warnings.append(f"body of type {media_type[:60]} ignored")
    return {}


def _aliases_for(*, legacy: bool) -> dict[str, tuple[str, ...]]:
    return {**PARAM_ALIASES, **LEGACY_EXTRA_ALIASES} if legacy else PARAM_ALIASES


def postback_params_parse(
    inbound: PostbackInbound, warnings: list[str], *, legacy: bool = False
) -> dict[str, Any]:
    """Query string and body merged, every value safe to store as JSON.

    The body wins per parameter, aliases included: `revenue` in the body beats `payout` in the
    query string.
    """
    params = _form_parse(inbound.query_string)
    body = _body_parse(inbound, warnings)
    for names in _aliases_for(legacy=legacy).values():
        if any(name in body for name in names):
            for name in names:
                params.pop(name, None)
    params.update(body)
    return _json_safe(params)


def _scalar(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise ApplicationError(
            f"Parameter {name!r} must be a single value.",
            code=f"invalid_{name}",
            fields={name: ["Must be a single value."]},
        )
    text = str(value).strip()
    limit = _MAX_LENGTH.get(name, _DEFAULT_MAX_LENGTH)
    if len(text) > limit:
        raise ApplicationError(
            f"Parameter {name!r} is longer than {limit} characters.",
            code=f"invalid_{name}",
            fields={name: [f"At most {limit} characters."]},
        )
    return text


def postback_fields_parse(
    params: Mapping[str, Any],
    *,
    warnings: list[str],
    legacy: bool = False,
    consumed: frozenset[str] = frozenset(),
) -> PostbackFields:
    """Validate the known parameters; everything unknown goes to custom_data.

    Order of refusals: a value that is not a scalar or too long, an unreplaced macro, the
    status, the payout, the currency, then a missing click id.
    """
    aliases = _aliases_for(legacy=legacy)
    known_names = {name for names in aliases.values() for name in names} | consumed
    values: dict[str, str] = {}
    given_as: dict[str, str] = {}
    for canonical, names in aliases.items():
        for name in names:
            text = _scalar(name, params.get(name))
            if text:
                values[canonical] = text
                given_as[canonical] = name
                break
    macros = [given_as[c] for c, text in values.items() if _MACRO_RE.search(text)]
    if macros:
        raise ApplicationError(
            f"Unreplaced macro in {', '.join(macros)}: send the actual value, not the placeholder.",
            code="unreplaced_macro",
            fields={name: [f"Still a macro: {params.get(name)}"] for name in macros},
        )

    fields = PostbackFields(warnings=warnings)
    status = values.get("status", ConversionStatus.APPROVED).lower()
    if status not in VALID_STATUSES:
        raise ApplicationError(
            f"Unknown status {values['status']!r}.",
            code="invalid_status",
            fields={"status": [f"Choose one of: {', '.join(VALID_STATUSES)}."]},
        )
    fields.status = status
    if "payout" in values:
        try:
            fields.payout = parse_money(values["payout"])
        except ValueError as exc:
            name = given_as["payout"]
            raise ApplicationError(
                f"Invalid {name} {values['payout']!r}: a non-negative decimal with at most 4 "
                "decimal places is expected.",
                code="invalid_amount" if name == "amount" else "invalid_payout",
                fields={name: [str(exc)]},
            ) from exc
    if "currency" in values:
        currency = values["currency"].upper()
        if currency not in CURRENCY_CODES:
            raise ApplicationError(
                f"Unknown currency {values['currency']!r}: an ISO 4217 code is expected.",
                code="invalid_currency",
                fields={"currency": ["Not an ISO 4217 currency code."]},
            )
        fields.currency = currency
    for canonical in (
        "click_id",
        "offer_id",
        "survey_id",
        "campaign_id",
        "transaction_id",
        "conversion_id",
        "user_id",
        "affiliate_id",
        "device_id",
        "ip",
        "user_agent",
        "reason",
    ):
        setattr(fields, canonical, values.get(canonical, ""))
    fields.sub_ids = {f"sub{n}": values[f"sub{n}"] for n in range(1, 6) if f"sub{n}" in values}
    country = values.get("country", "")
    if len(country) == 2 and country.isascii() and country.isalpha():
        fields.country = country.upper()
    elif country:
        warnings.append(f"country {country[:20]!r} ignored: not a 2-letter code")
    if not fields.click_id and not (fields.offer_id or fields.survey_id):
        raise ApplicationError(
            "click_id is required (or offer_id / survey_id for fallback matching).",
            code="missing_click_id",
            fields={"click_id": ["This parameter is required."]},
        )
    fields.custom_data = {k: v for k, v in params.items() if k not in known_names}
    for name, value in fields.custom_data.items():
        if isinstance(value, str) and _MACRO_RE.fullmatch(value.strip()):
            warnings.append(f"custom parameter {name[:60]!r} looks like an unreplaced macro")
    return fields


# --- processing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attribution:
    """The click a postback converts, with what the rest of the request may skip.

    The hints come from the click lookup itself (same transaction, a few statements earlier);
    True means "not known, look": the fallback lookup leaves them so.
    """

    click: Click
    has_caps: bool = True  # False: the campaign has no cap, nothing to consume
    may_forward: bool = True  # False: the affiliate has no active postback endpoint


@functools.cache
def _click_by_id_sql(*, by_advertiser: bool, by_affiliate: bool) -> str:
    click, campaign = Click._meta.db_table, Campaign._meta.db_table
    scopes = ["click.click_id = %s"]
    if by_advertiser:
        scopes.append("campaign.advertiser_id = %s")
    if by_affiliate:
        scopes.append("click.affiliate_id = %s")
    # Table and column names come from our models; values are bound parameters.
    return f"""
SELECT {model_columns(Click, "click")}, {model_columns(Campaign, "campaign")},
       EXISTS (SELECT 1 FROM {Cap._meta.db_table} cap WHERE cap.campaign_id = click.campaign_id),
       EXISTS (
           SELECT 1 FROM {PostbackEndpoint._meta.db_table} endpoint
           WHERE endpoint.affiliate_id = click.affiliate_id AND endpoint.is_active
       )
FROM {click} click
JOIN {campaign} campaign ON campaign.id = click.campaign_id
WHERE {" AND ".join(scopes)}
"""  # noqa: S608


def _click_by_id(
    *, click_id: str, advertiser_id: int | None, affiliate_id: int | None
) -> _Attribution | None:
    """The click, its campaign and the hints, in one prepared statement (the usual postback).

    Scoped to the advertiser's campaigns and/or the affiliate's clicks, whichever is given."""
    scope_values = [value for value in (advertiser_id, affiliate_id) if value is not None]
    if not scope_values:
        raise ValueError("A click is only looked up within an advertiser's or affiliate's scope.")
    row = execute_fetchone(
        _click_by_id_sql(
            by_advertiser=advertiser_id is not None, by_affiliate=affiliate_id is not None
        ),
        [click_id, *scope_values],
    )
    if row is None:
        return None
    click_columns = len(Click._meta.concrete_fields)
    campaign_columns = len(Campaign._meta.concrete_fields)
    click = model_from_row(Click, row[:click_columns])
    click.campaign = model_from_row(Campaign, row[click_columns : click_columns + campaign_columns])
    has_caps, may_forward = row[click_columns + campaign_columns :]
    return _Attribution(click=click, has_caps=bool(has_caps), may_forward=bool(may_forward))


def _click_find(
    *, fields: PostbackFields, advertiser_id: int | None, affiliate_id: int | None, now: dt.datetime
) -> _Attribution | None:
    if fields.click_id:
        if len(fields.click_id) > Click._meta.get_field("click_id").max_length:
            return None
        return _click_by_id(
            click_id=fields.click_id, advertiser_id=advertiser_id, affiliate_id=affiliate_id
        )
    click = _click_fallback(fields=fields, advertiser_id=advertiser_id, now=now)
    return None if click is None else _Attribution(click=click)


def _click_fallback(
    *, fields: PostbackFields, advertiser_id: int | None, now: dt.datetime
) -> Click | None:
    """No click_id: the offer id names the campaign (DESIGN.md section 3, fallback)."""
    clicks = Click.objects.select_related("campaign")
    if advertiser_id is not None:
        clicks = clicks.filter(campaign__advertiser_id=advertiser_id)
    offer_ids = [value for value in (fields.offer_id, fields.survey_id) if value]
    if fields.transaction_id:
        # A repeated fallback postback must find its first conversion again, not a new click.
        converted = clicks.filter(
            campaign__external_offer_id__in=offer_ids,
            conversions__transaction_id=fields.transaction_id,
        ).first()
        if converted is not None:
            fields.warnings.append(
                f"no click_id: matched click {converted.click_id} by transaction_id"
            )
            fields.click_id = converted.click_id
            return converted
    # skip_locked: two concurrent fallback postbacks take two different clicks.
    click = (
        clicks.filter(
            campaign__external_offer_id__in=offer_ids,
            created_at__gte=now - FALLBACK_LOOKBACK,
            created_at__lte=now,
            blocked_reason="",
        )
        .exclude(Exists(Conversion.objects.filter(click=OuterRef("pk"))))
        .order_by("-created_at", "-id")
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )
    if click is not None:
        fields.warnings.append(
            f"no click_id: matched the most recent unconverted click {click.click_id} of the "
            f"last hour on offer {', '.join(offer_ids)}"
        )
        fields.click_id = click.click_id
    return click


def _conversion_existing_for_update(
    *, click: Click, campaign: Campaign, transaction_id: str, dedupe_slot: str
) -> Conversion | None:
    """The conversion this postback names, locked; None when there is none yet.

    A transaction id names a conversion of the campaign, but a postback may only touch the
    conversions of the click it names: one whose transaction id belongs to another click's
    conversion is refused (409 `transaction_id_conflict`), and says nothing about that conversion.
    """
    conversions = Conversion.objects.select_for_update(of=("self",)).select_related("campaign")
    if transaction_id:
        existing = conversions.filter(campaign=campaign, transaction_id=transaction_id).first()
        if existing is not None:
            if existing.click_id != click.pk:
                raise ApplicationError(
                    "This transaction_id belongs to a conversion of another click.",
                    code="transaction_id_conflict",
                    status=409,
                    fields={"transaction_id": ["Already used by another click's conversion."]},
                )
            return existing
    return conversions.filter(click=click, dedupe_slot=dedupe_slot).first()


def _partner_reason(fields: PostbackFields) -> str:
    if fields.reason:
        return fields.reason
    if fields.status in (ConversionStatus.REJECTED, ConversionStatus.REVERSED):
        return f"{fields.status}_by_partner"
    return ""


def _conversion_update(
    *,
    existing: Conversion,
    fields: PostbackFields,
    source: str,
    log_id: uuid.UUID,
    now: dt.datetime,
    has_caps: bool = True,
    may_forward: bool = True,
) -> _Outcome:
    if (
        existing.transaction_id
        and fields.transaction_id
        and existing.transaction_id != fields.transaction_id
    ):
        raise ApplicationError(
            "This click already converted under another transaction_id, and its campaign "
            "allows one conversion per click.",
            code="click_already_converted",
            status=409,
        )
    requested = fields.status
    if (
        existing.status == ConversionStatus.REJECTED
        and existing.reason in SYSTEM_REJECT_REASONS
        and requested in (ConversionStatus.PENDING, ConversionStatus.APPROVED)
    ):
        # The partner repeating a postback we refused gets the same answer again.
        return _Outcome("rejected", existing, existing.reason)
    if not conversion_transition_check(from_status=existing.status, to_status=requested):
        return _Outcome("duplicate", existing)
    if existing.status == ConversionStatus.REJECTED:
        if not fields.reason:
            raise ApplicationError(
                "Re-approving a rejected conversion needs a reason.",
                code="reason_required",
                fields={"reason": ["Required to re-approve a rejected conversion."]},
            )
        _, payout = conversion_money(
            campaign=existing.campaign,
            revenue=existing.revenue if fields.payout is None else fields.payout,
        )
        if has_caps and not caps_consume(
            campaign=existing.campaign, affiliate_id=existing.affiliate_id, payout=payout, at=now
        ):
            return _Outcome("rejected", existing, REASON_CAP_REACHED)
    conversion_transition_apply(
        conversion=existing,
        to_status=requested,
        source=source,
        actor=None,
        reason=_partner_reason(fields),
        now=now,
        revenue=fields.payout if requested == ConversionStatus.APPROVED else None,
        postback_log_id=log_id,
        may_forward=may_forward,
    )
    return _Outcome("updated", existing)


def _conversion_record(
    *,
    attribution: _Attribution,
    fields: PostbackFields,
    partner_key: PartnerKey | None,
    source: str,
    log_id: uuid.UUID,
    now: dt.datetime,
) -> _Outcome:
    """Create the conversion of this postback, or move the existing one. Inside a transaction.

    The insert decides (INSERT ... ON CONFLICT DO NOTHING, no savepoint): when it writes nothing,
    the conversion exists (PostgreSQL waited for a concurrent insert of the same identity to
    commit), and it is locked and moved through the status machine instead.
    """
    click = attribution.click
    hints = {"has_caps": attribution.has_caps, "may_forward": attribution.may_forward}
    campaign = click.campaign
    if fields.currency and fields.currency != campaign.currency:
        raise ApplicationError(
            f"This campaign is paid in {campaign.currency}, not {fields.currency}.",
            code="currency_mismatch",
            fields={"currency": [f"Must be {campaign.currency}."]},
        )
    if campaign.allow_multiple_conversions and not fields.transaction_id:
        raise ApplicationError(
            "This campaign allows several conversions per click: each needs a transaction_id.",
            code="missing_transaction_id",
            fields={"transaction_id": ["This parameter is required for this campaign."]},
        )
    if fields.affiliate_id and fields.affiliate_id != str(click.affiliate_id):
        fields.warnings.append(
            f"affiliate_id {fields.affiliate_id[:40]!r} does not match the click's affiliate"
        )
    dedupe_slot = fields.transaction_id if campaign.allow_multiple_conversions else ""
    if fields.status == ConversionStatus.REVERSED:
        existing = _conversion_existing_for_update(
            click=click,
            campaign=campaign,
            transaction_id=fields.transaction_id,
            dedupe_slot=dedupe_slot,
        )
        if existing is None:
            raise ApplicationError(
                "There is no conversion to reverse for this click.",
                code="invalid_transition",
                status=409,
            )
        return _conversion_update(
            existing=existing, fields=fields, source=source, log_id=log_id, now=now, **hints
        )

    status, reason = fields.status, _partner_reason(fields)
    if click.blocked_reason:
        status, reason = ConversionStatus.REJECTED, REASON_CLICK_BLOCKED
    elif now - click.created_at > dt.timedelta(hours=campaign.attribution_window_hours):
        status, reason = ConversionStatus.REJECTED, REASON_OUTSIDE_ATTRIBUTION_WINDOW
    revenue, payout = conversion_money(campaign=campaign, revenue=fields.payout)
    conversion = Conversion(
        click=click,
        campaign=campaign,
        affiliate_id=click.affiliate_id,
        partner_key=partner_key,
        dedupe_slot=dedupe_slot,
        transaction_id=fields.transaction_id,
        external_conversion_id=fields.conversion_id,
        offer_id=fields.partner_offer_id,
        status=status,
        reason=reason[:255],
        currency=campaign.currency,
        revenue=revenue,
        payout=payout,
        user_id=click.user_id or fields.user_id,
        country=fields.country or click.country,
        device_id=fields.device_id,
        ip=fields.ip or (click.ip or ""),
        user_agent=fields.user_agent or click.user_agent,
        sub_ids=fields.sub_ids,
        custom_data=fields.custom_data,
        created_at=now,
        updated_at=now,
        approved_at=now if status == ConversionStatus.APPROVED else None,
    )
    conversion.points_awarded = points_awarded_for(conversion=conversion, status=status)
    if not model_insert(conversion, on_conflict_do_nothing=True):
        existing = _conversion_existing_for_update(
            click=click,
            campaign=campaign,
            transaction_id=fields.transaction_id,
            dedupe_slot=dedupe_slot,
        )
        if existing is None:
            raise ApplicationError(
                "A concurrent change conflicted with this postback; send it again.",
                code="conflict",
                status=409,
            )
        return _conversion_update(
            existing=existing, fields=fields, source=source, log_id=log_id, now=now, **hints
        )
    if (
        attribution.has_caps
        and status in (ConversionStatus.PENDING, ConversionStatus.APPROVED)
        and not caps_consume(
            campaign=campaign, affiliate_id=click.affiliate_id, payout=payout, at=now
        )
    ):
        conversion.status = ConversionStatus.REJECTED
        conversion.reason = REASON_CAP_REACHED
        conversion.approved_at = None
        conversion.points_awarded = Decimal(0)
        conversion.save(update_fields=["status", "reason", "approved_at", "points_awarded"])
    conversion_created_apply(
        conversion=conversion,
        source=source,
        postback_log_id=log_id,
        now=now,
        may_forward=attribution.may_forward,
    )
    if conversion.status == ConversionStatus.REJECTED:
        return _Outcome("rejected", conversion, conversion.reason)
    return _Outcome("created", conversion)


# --- the log and the answers ------------------------------------------------------------------


def _log_text(raw: bytes, *, name: str, warnings: list[str]) -> str:
    """At most POSTBACK_LOG_MAX_BYTES of the raw query string or body, as text: what a stranger
    sends must not grow the log by more than that per request."""
    limit = settings.POSTBACK_LOG_MAX_BYTES
    if len(raw) > limit:
        warnings.append(f"{name} stored truncated: the first {limit} of {len(raw)} bytes")
        raw = raw[:limit]
    return _clean_text(raw.decode("utf-8", errors="replace"))


def _log_new(
    inbound: PostbackInbound, *, log_id: uuid.UUID, now: dt.datetime, warnings: list[str]
) -> PostbackLog:
    return PostbackLog(
        id=log_id,
        received_at=now,
        endpoint=inbound.endpoint,
        method=inbound.method[:8],
        key=_clean_text(inbound.path_key or inbound.header_key or "")[:128],
        source_ip=inbound.source_ip,
        query_string=_log_text(inbound.query_string, name="query string", warnings=warnings),
        content_type=_clean_text(inbound.content_type)[:128],
        body=_log_text(inbound.body or b"", name="body", warnings=warnings),
    )


def _log_params(inbound: PostbackInbound, params: dict[str, Any], *, legacy: bool) -> dict:
    """The parsed parameters for the log. A request larger than the log keeps of it stores only
    the parameters we know, each cut to 255 characters, so the parsed copy stays as bounded as
    the raw one."""
    size = len(inbound.query_string) + len(inbound.body or b"")
    if size <= settings.POSTBACK_LOG_MAX_BYTES:
        return params
    known = {name for names in _aliases_for(legacy=legacy).values() for name in names} | {"key"}
    return {
        name: value[:_DEFAULT_MAX_LENGTH] if isinstance(value, str) else value
        for name, value in params.items()
        if name in known and (isinstance(value, str | int | Decimal) or value is None)
    }


def _log_ids_from(log: PostbackLog, params: Mapping[str, Any]) -> None:
    for attr in ("click_id", "transaction_id"):
        value = params.get(attr)
        if isinstance(value, str | int) and not isinstance(value, bool):
            setattr(log, attr, str(value).strip()[:255])


def _log_refusal(log: PostbackLog, error: ApplicationError) -> None:
    log.outcome = PostbackOutcome.ERROR
    log.http_status = error.status
    log.code = error.code[:64]
    log.message = error.message[:500]
    log.conversion = None
    model_insert(log)


def _log_success(log: PostbackLog, outcome: _Outcome) -> None:
    log.outcome = outcome.result
    log.http_status = 200
    log.code = outcome.reason[:64] if outcome.result == "rejected" else ""
    log.message = SUCCESS_MESSAGE
    log.conversion = outcome.conversion
    model_insert(log)


def _error_payload(error: ApplicationError, log_id: uuid.UUID, *, legacy: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": "error"}
    if legacy:
        payload["success"] = False
    payload.update(message=error.message, code=error.code, log_id=str(log_id))
    if error.fields:
        payload["fields"] = error.fields
    return payload


def _unavailable(log_id: uuid.UUID, *, legacy: bool) -> PostbackAnswer:
    logger.exception("postback %s: database unavailable, request not recorded", log_id)
    error = ApplicationError(
        "The service is temporarily unavailable; retry later.", code="unavailable", status=503
    )
    return PostbackAnswer(503, _error_payload(error, log_id, legacy=legacy))


def postback_receive(*, inbound: PostbackInbound, now: dt.datetime | None = None) -> PostbackAnswer:
    """Handle one partner postback end to end; see the module docstring for the contract.

    Transaction scope: the conversion, its history, points, cap consumption and the log row
    commit together; a refusal rolls all of it back and then writes only the log row.
    """
    now = now or timezone.now()
    log_id = uuid.uuid4()
    warnings: list[str] = []
    log = _log_new(inbound, log_id=log_id, now=now, warnings=warnings)
    try:
        try:
            outcome = _postback_process(inbound, log=log, warnings=warnings, now=now)
        except ApplicationError as error:
            log.warnings = warnings
            _log_refusal(log, error)
            return PostbackAnswer(error.status, _error_payload(error, log_id, legacy=False))
    except (OperationalError, InterfaceError):
        return _unavailable(log_id, legacy=False)
    payload: dict[str, Any] = {
        "status": "success",
        "message": SUCCESS_MESSAGE,
        "log_id": str(log_id),
        "result": outcome.result,
        "conversion_id": outcome.conversion.pk if outcome.conversion else None,
    }
    if outcome.result == "rejected":
        payload["reason"] = outcome.reason
    return PostbackAnswer(200, payload)


def _postback_process(
    inbound: PostbackInbound, *, log: PostbackLog, warnings: list[str], now: dt.datetime
) -> _Outcome:
    parse_error: ApplicationError | None = None
    params: dict[str, Any] = {}
    try:
        params = postback_params_parse(inbound, warnings)
    except ApplicationError as error:
        parse_error = error
    log.params = _log_params(inbound, params, legacy=False)
    _log_ids_from(log, params)

    key = inbound.path_key
    if key is None:
        key = inbound.header_key or (
            params.get("key") if isinstance(params.get("key"), str) else ""
        )
    log.key = _clean_text(key)[:128]
    partner_key = partner_key_resolve(key=key, now=now)
    if partner_key is None:
        if parse_error is not None and not key:
            raise parse_error
        raise ApplicationError("Invalid postback key.", code="invalid_key", status=404)
    log.partner_key = partner_key
    partner_key_verify_request(
        partner_key=partner_key,
        source_ip=inbound.source_ip,
        timestamp_header=inbound.signature_timestamp,
        signature_header=inbound.signature,
        query=inbound.query_string,
        body=inbound.body or b"",
        now=now,
    )
    if parse_error is not None:
        raise parse_error
    consumed = frozenset({"key"}) if inbound.endpoint == ENDPOINT_API else frozenset()
    fields = postback_fields_parse(params, warnings=warnings, consumed=consumed)
    if fields.status == STATUS_TEST:
        log.warnings = warnings
        with transaction.atomic():
            _log_success(log, _Outcome("test", None))
            forwards_queue_for_test_postback(
                advertiser_id=partner_key.advertiser_id,
                click_id=fields.click_id,
                revenue=fields.payout,
                transaction_id=fields.transaction_id,
                user_id=fields.user_id,
                now=now,
            )
        return _Outcome("test", None)
    with transaction.atomic():
        attribution = _click_find(
            fields=fields, advertiser_id=partner_key.advertiser_id, affiliate_id=None, now=now
        )
        if attribution is None:
            raise ApplicationError("Click not found.", code="click_not_found", status=404)
        log.click_id = fields.click_id[:255]
        outcome = _conversion_record(
            attribution=attribution,
            fields=fields,
            partner_key=partner_key,
            source=ChangeSource.POSTBACK,
            log_id=log.id,
            now=now,
        )
        log.warnings = warnings
        _log_success(log, outcome)
    return outcome


def postback_receive_legacy(
    *, inbound: PostbackInbound, now: dt.datetime | None = None
) -> PostbackAnswer:
    """Seeds 000/001: `GET /postback?affiliate_id=&click_id=&amount=&currency=`, no key.

    The click must exist and belong to that affiliate; `amount` is the revenue. Same dedupe,
    caps, money and log as keyed postbacks; answers carry both `status` and `success`.
    """
    now = now or timezone.now()
    log_id = uuid.uuid4()
    warnings: list[str] = []
    log = _log_new(inbound, log_id=log_id, now=now, warnings=warnings)
    try:
        try:
            outcome = _legacy_process(inbound, log=log, warnings=warnings, now=now)
        except ApplicationError as error:
            log.warnings = warnings
            _log_refusal(log, error)
            return PostbackAnswer(error.status, _error_payload(error, log_id, legacy=True))
    except (OperationalError, InterfaceError):
        return _unavailable(log_id, legacy=True)
    conversion = outcome.conversion
    data: dict[str, Any] = {"conversion_id": None}
    if conversion is not None:
        data = {
            "conversion_id": conversion.pk,
            "click_id": conversion.click.click_id,
            "affiliate_id": conversion.affiliate_id,
            "amount": str(conversion.revenue),
            "currency": conversion.currency,
            "timestamp": conversion.created_at.astimezone(dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
    payload: dict[str, Any] = {
        "status": "success",
        "success": True,
        "message": LEGACY_SUCCESS_MESSAGE,
        "log_id": str(log_id),
        "result": outcome.result,
        "data": data,
    }
    if outcome.result == "rejected":
        payload["reason"] = outcome.reason
    return PostbackAnswer(200, payload)


def _legacy_authorize(
    inbound: PostbackInbound, *, params: Mapping[str, Any], log: PostbackLog, now: dt.datetime
) -> PartnerKey | None:
    """Who may send the keyless postback: a partner key's holder, or an allowed source address.

    With a key (`key` parameter or X-Postback-Key header) the request is held to that key's rules
    (allowlist, signature) and scope (its advertiser's campaigns), as on the keyed routes. Without
    one, only sources in LEGACY_POSTBACK_ALLOWED_IPS may use it: the seeds' requests carry nothing
    a stranger could not forge, so the network vouches for the source instead. Returns the key.
    """
    key = inbound.header_key or (params.get("key") if isinstance(params.get("key"), str) else "")
    if not key:
        if address_in_networks(inbound.source_ip, settings.LEGACY_POSTBACK_ALLOWED_IPS):
            return None
        raise ApplicationError(
            "This postback is only accepted from allowed source addresses, or with a partner key "
            "(the `key` parameter or the X-Postback-Key header).",
            code="source_not_allowed",
            status=403,
        )
    log.key = _clean_text(key)[:128]
    partner_key = partner_key_resolve(key=key, now=now)
    if partner_key is None:
        raise ApplicationError("Invalid postback key.", code="invalid_key", status=404)
    log.partner_key = partner_key
    partner_key_verify_request(
        partner_key=partner_key,
        source_ip=inbound.source_ip,
        timestamp_header=inbound.signature_timestamp,
        signature_header=inbound.signature,
        query=inbound.query_string,
        body=inbound.body or b"",
        now=now,
    )
    return partner_key


def _legacy_process(
    inbound: PostbackInbound, *, log: PostbackLog, warnings: list[str], now: dt.datetime
) -> _Outcome:
    parse_error: ApplicationError | None = None
    params: dict[str, Any] = {}
    try:
        params = postback_params_parse(inbound, warnings, legacy=True)
    except ApplicationError as error:
        parse_error = error
    log.params = _log_params(inbound, params, legacy=True)
    _log_ids_from(log, params)
    partner_key = _legacy_authorize(inbound, params=params, log=log, now=now)
    if parse_error is not None:
        raise parse_error
    fields = postback_fields_parse(
        params, warnings=warnings, legacy=True, consumed=frozenset({"key"})
    )
    if fields.status == STATUS_TEST:
        log.warnings = warnings
        _log_success(log, _Outcome("test", None))
        return _Outcome("test", None)
    not_found = ApplicationError(LEGACY_NOT_FOUND_MESSAGE, code="click_not_found", status=404)
    affiliate_id = fields.affiliate_id
    if not (fields.click_id and affiliate_id.isascii() and affiliate_id.isdigit()):
        raise not_found
    if len(affiliate_id) > 18:
        raise not_found
    with transaction.atomic():
        attribution = _click_find(
            fields=fields,
            advertiser_id=partner_key.advertiser_id if partner_key else None,
            affiliate_id=int(fields.affiliate_id),
            now=now,
        )
        if attribution is None:
            raise not_found
        outcome = _conversion_record(
            attribution=attribution,
            fields=fields,
            partner_key=partner_key,
            source=ChangeSource.LEGACY_POSTBACK,
            log_id=log.id,
            now=now,
        )
        log.warnings = warnings
        _log_success(log, outcome)
    return outcome


def postback_logs_prune(*, now: dt.datetime | None = None, batch_size: int = 5_000) -> int:
    """Delete postback log rows past their retention; returns how many went.

    Refused requests (anyone can send them, to any key) are kept
    POSTBACK_LOG_REFUSED_RETENTION_DAYS, accepted ones POSTBACK_LOG_RETENTION_DAYS (0 keeps them
    forever). Batches of `batch_size`,
    each its own transaction. Conversions keep their history either way (it names the log row by
    id only). Running twice deletes nothing more.
    """
    now = now or timezone.now()
    deleted = 0
    for outcomes, days in (
        ([PostbackOutcome.ERROR], settings.POSTBACK_LOG_REFUSED_RETENTION_DAYS),
        (
            [choice for choice in PostbackOutcome.values if choice != PostbackOutcome.ERROR],
            settings.POSTBACK_LOG_RETENTION_DAYS,
        ),
    ):
        if days <= 0:
            continue
        expired = PostbackLog.objects.filter(
            outcome__in=outcomes, received_at__lt=now - dt.timedelta(days=days)
        ).order_by()
        while True:
            with transaction.atomic():
                ids = list(expired.values_list("id", flat=True)[:batch_size])
                if not ids:
                    break
                count, _ = PostbackLog.objects.filter(id__in=ids).delete()
                deleted += count
    return deleted

"""Reading a partner postback's parameters: pure functions, no database.

Parameters come from the query string and the body (form-encoded, multipart or JSON); the body
wins. JSON numbers are read as Decimal so `50.00` stays exact. Known parameters and aliases:
`click_id`, `status`, `payout` (alias `revenue`; the keyless legacy route also reads `amount`),
`currency`, `offer_id` / `survey_id` / `campaign_id` (the partner's offer id), `transaction_id`,
`conversion_id` (the partner's id, stored as `external_conversion_id`), `user_id`,
`affiliate_id`, `sub_id` (= sub1), `sub_id1`..`sub_id5` (also `sub1`..`sub5`), `country`,
`device_id`, `ip`, `user_agent`, `reason`, `event` (aliases `goal`, `event_code`: the
conversion event's code). Everything else is kept verbatim in `custom_data`
(nested JSON as-is; a JSON decimal becomes a JSON string with its exact text, so `3.50` stays
`"3.50"`; whole numbers stay integers).

Refusals are ApplicationError 400 with a code naming the parameter (`invalid_payout`,
`unreplaced_macro`, `missing_click_id`, ...).
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict

from campaigns.models import PartnerKey
from campaigns.partner_profiles import CANONICAL_PARAMS, profile_apply
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.money import parse_money
from tracker.models import ConversionStatus

STATUS_TEST = "test"
VALID_STATUSES = (*ConversionStatus.values, STATUS_TEST)

ENDPOINT_KEYED = "postback"
ENDPOINT_API = "api"
ENDPOINT_LEGACY = "legacy"
ENDPOINT_SANDBOX = "sandbox"
ENDPOINT_PIXEL = "pixel"

# canonical name -> accepted parameter names, first non-empty wins (one table with the partner
# profiles, which map a platform's names onto these).
PARAM_ALIASES: dict[str, tuple[str, ...]] = CANONICAL_PARAMS
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
    "event",
    "goal",
    "event_code",
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
    # The sandbox's key, already authorized (its owner called the API): its allowlist and
    # signature rules are for the partner's server and are not checked.
    authorized_key: PartnerKey | None = None
    cookie_click_id: str = ""  # conversion pixels: the visitor's `cl_cid` cookie


@dataclass
class PostbackFields:
    click_id: str = ""
    # Without a `status` parameter the event's initial status applies (`status_given` False).
    status: str = ConversionStatus.APPROVED
    status_given: bool = False
    event: str = ""
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
    # The partner's raw status when its key's profile mapped it (`sale`, `1`): kept in history.
    partner_status: str = ""
    custom_data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def partner_offer_id(self) -> str:
        return self.offer_id or self.survey_id or self.campaign_id


def _invalid_body(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_body", fields={"body": [message]})


def clean_text(value: str) -> str:
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
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal):
        return _decimal_to_json(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(item, depth + 1) for item in value]
    return clean_text(str(value))


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


def aliases_for(*, legacy: bool) -> dict[str, tuple[str, ...]]:
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
    for names in aliases_for(legacy=legacy).values():
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
    aliases = aliases_for(legacy=legacy)
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
    fields.status_given = "status" in values
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
    fields.event = values.get("event", "").lower()
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


# --- reading a pasted postback URL (the partner key form's preview) -----------------------------


@dataclass
class PostbackReading:
    """How a postback URL would be read with a profile: the fields, or the refusal."""

    fields: PostbackFields | None
    error: ApplicationError | None
    renamed: dict[str, str] = field(default_factory=dict)


def postback_reading(
    *,
    profile: str,
    param_map: Mapping[str, str] | None,
    status_map: Mapping[str, str] | None,
    url: str,
) -> PostbackReading:
    """Read the query string of `url` as the postback service would with this profile (parsing,
    profile, validation), without looking anything up or writing anything: whether the click
    exists, the event is the campaign's or the currency matches is for the real postback."""
    query = urlsplit(url.strip()).query if "?" in url else url.strip()
    warnings: list[str] = []
    try:
        params = _json_safe(_form_parse(query.encode("utf-8", "replace")))
        applied = profile_apply(
            profile=profile, param_map=param_map, status_map=status_map, params=params
        )
        fields = postback_fields_parse(applied.params, warnings=warnings)
    except ApplicationError as error:
        return PostbackReading(fields=None, error=error)
    fields.partner_status = applied.partner_status
    return PostbackReading(fields=fields, error=None, renamed=applied.renamed)

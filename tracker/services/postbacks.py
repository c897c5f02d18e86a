"""Inbound postbacks: a partner's server tells us about a conversion or a status change.

`postback_receive` runs the partner postback (`/postback/<key>`, `POST /api/track/postback`),
`pixel_receive` the conversion pixel a visitor's browser loads (`/px/<key>.gif|.html|.js`) and
`postback_receive_legacy` the first integrations' keyless `GET /postback`. All return a
`PostbackResult` (never raise) and write exactly one PostbackLog row per request: in the
conversion's transaction when the postback is accepted, after the rollback when it is refused.
When the database is unreachable the result is the refusal `unavailable` (503), logged to the
Python logger instead. The views turn a result into the JSON answer (`tracker.postback_answers`).

Here: who may send (the partner key, or an allowed source for the keyless route), which click
the postback converts, and the log. Parsing is `tracker.postback_params`; the key's profile
(`campaigns.partner_profiles`: the partner platform's parameter names and status values) is
applied between reading the parameters and validating them, from the key row already read; what
recording a conversion does (identity, status machine, caps, money) is `conversion_record`.

Currency: a postback whose payout is in another currency than the campaign's is converted at
that day's exchange rate, and the conversion keeps the original amount, currency and rate
(`conversions.postback_amount_convert`); without a rate it is refused (400 `no_exchange_rate`),
since booking EUR as USD would be worse than a clear refusal.

Cost: this is the second-hottest path. The usual postback (click id given, no caps, no
forwarding endpoint) is ten statements, all precompiled (`core.sql`): key, BEGIN, click with its
campaign and what may be skipped (`tracker.sql.postbacks`), conversion, history, ledger accounts,
ledger transaction, ledger entries, log, COMMIT. Caps, end-user points and forwarding add their
own statements only when the click lookup says they apply.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from campaigns.models import PartnerKey
from campaigns.partner_keys import (
    partner_key_resolve,
    partner_key_takes_pixels,
    partner_key_verify_request,
)
from campaigns.partner_profiles import profile_apply
from core.exceptions import ApplicationError
from core.net import address_in_networks
from core.sql import model_insert
from tracker.models import (
    CLICK_ID_MAX_LENGTH,
    ChangeSource,
    Click,
    Conversion,
    PostbackLog,
    PostbackOutcome,
)
from tracker.postback_params import (
    ENDPOINT_API,
    ENDPOINT_PIXEL,
    STATUS_TEST,
    PostbackFields,
    PostbackInbound,
    aliases_for,
    clean_text,
    postback_fields_parse,
    postback_params_parse,
)
from tracker.services.conversions import ClickAttribution, conversion_record
from tracker.services.forwards import forwards_queue_for_test_postback
from tracker.sql.postbacks import click_by_id

logger = logging.getLogger(__name__)

SUCCESS_MESSAGE = "Postback received and distributed"
LEGACY_NOT_FOUND_MESSAGE = "Invalid click_id or affiliate_id"
FALLBACK_LOOKBACK = dt.timedelta(hours=1)
_SHORT_LOG_TEXT = 255


@dataclass(frozen=True)
class PostbackResult:
    """What one postback request came to.

    Accepted: `result` is `created`, `updated`, `duplicate`, `rejected` (with `reason`) or `test`,
    and `conversion` the conversion (None for a test). Refused: `error` says why (its code and
    HTTP status), and nothing changed but the log row.
    """

    log_id: uuid.UUID
    result: str = ""
    conversion: Conversion | None = None
    reason: str = ""
    error: ApplicationError | None = None


# --- who may send ------------------------------------------------------------------------------


def _partner_key_authorize(
    inbound: PostbackInbound, *, key: str, log: PostbackLog, now: dt.datetime
) -> PartnerKey:
    """The active key `key` names, once the request passes its allowlist and signature rules."""
    log.key = clean_text(key)[:128]
    partner_key = partner_key_resolve(key=key, now=now)
    if partner_key is None:
        raise ApplicationError("Invalid postback key.", code="invalid_key", status=404)
    log.partner_key = partner_key
    if inbound.authorized_key is not None and inbound.authorized_key.pk == partner_key.pk:
        return partner_key
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


def _pixel_key_authorize(*, key: str, log: PostbackLog, now: dt.datetime) -> PartnerKey:
    """The active key `key` names, if it takes pixels (`partner_key_takes_pixels`)."""
    log.key = clean_text(key)[:128]
    partner_key = partner_key_resolve(key=key, now=now)
    if partner_key is None:
        raise ApplicationError("Invalid postback key.", code="invalid_key", status=404)
    log.partner_key = partner_key
    if not partner_key_takes_pixels(partner_key=partner_key):
        raise ApplicationError(
            "This key requires signed requests or allowed source addresses, which a browser "
            "pixel cannot give: use the server postback.",
            code="pixel_not_allowed",
            status=403,
        )
    return partner_key


def _key_named(inbound: PostbackInbound, params: Mapping[str, Any]) -> str:
    """The key in the path, else the X-Postback-Key header, else a `key` parameter."""
    if inbound.path_key is not None:
        return inbound.path_key
    param = params.get("key")
    return inbound.header_key or (param if isinstance(param, str) else "")


def _legacy_authorize(
    inbound: PostbackInbound, *, params: Mapping[str, Any], log: PostbackLog, now: dt.datetime
) -> PartnerKey | None:
    """Who may send the keyless postback: a partner key's holder, or an allowed source address.

    With a key (`key` parameter or X-Postback-Key header) the request is held to that key's rules
    (allowlist, signature) and scope (its advertiser's campaigns), as on the keyed routes. Without
    one, only sources in LEGACY_POSTBACK_ALLOWED_IPS may use it: such a request carries nothing a
    stranger could not forge, so the network vouches for the source instead. Returns the key.
    """
    key = _key_named(inbound, params)
    if key:
        return _partner_key_authorize(inbound, key=key, log=log, now=now)
    if address_in_networks(inbound.source_ip, settings.LEGACY_POSTBACK_ALLOWED_IPS):
        return None
    raise ApplicationError(
        "This postback is only accepted from allowed source addresses, or with a partner key "
        "(the `key` parameter or the X-Postback-Key header).",
        code="source_not_allowed",
        status=403,
    )


# --- which click -------------------------------------------------------------------------------


def _click_find(
    *, fields: PostbackFields, advertiser_id: int | None, affiliate_id: int | None, now: dt.datetime
) -> ClickAttribution | None:
    if fields.click_id:
        if len(fields.click_id) > CLICK_ID_MAX_LENGTH:
            return None
        return click_by_id(
            click_id=fields.click_id,
            advertiser_id=advertiser_id,
            affiliate_id=affiliate_id,
            event_code=fields.event,
        )
    click = _click_fallback(fields=fields, advertiser_id=advertiser_id, now=now)
    return None if click is None else ClickAttribution(click=click)


def _click_fallback(
    *, fields: PostbackFields, advertiser_id: int | None, now: dt.datetime
) -> Click | None:
    """No click_id: the most recent unconverted click on the campaign the offer id names."""
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


# --- the log -----------------------------------------------------------------------------------


def _log_text(raw: bytes, *, name: str, warnings: list[str]) -> str:
    """At most POSTBACK_LOG_MAX_BYTES of the raw query string or body, as text: what a stranger
    sends must not grow the log by more than that per request."""
    limit = settings.POSTBACK_LOG_MAX_BYTES
    if len(raw) > limit:
        warnings.append(f"{name} stored truncated: the first {limit} of {len(raw)} bytes")
        raw = raw[:limit]
    return clean_text(raw.decode("utf-8", errors="replace"))


def _log_new(
    inbound: PostbackInbound, *, log_id: uuid.UUID, now: dt.datetime, warnings: list[str]
) -> PostbackLog:
    return PostbackLog(
        id=log_id,
        received_at=now,
        endpoint=inbound.endpoint,
        method=inbound.method[:8],
        key=clean_text(inbound.path_key or inbound.header_key or "")[:128],
        source_ip=inbound.source_ip,
        query_string=_log_text(inbound.query_string, name="query string", warnings=warnings),
        content_type=clean_text(inbound.content_type)[:128],
        body=_log_text(inbound.body or b"", name="body", warnings=warnings),
    )


def _log_params(inbound: PostbackInbound, params: dict[str, Any], *, legacy: bool) -> dict:
    """The parsed parameters for the log. A request larger than the log keeps of it stores only
    the parameters we know, each cut to 255 characters, so the parsed copy stays as bounded as
    the raw one."""
    size = len(inbound.query_string) + len(inbound.body or b"")
    if size <= settings.POSTBACK_LOG_MAX_BYTES:
        return params
    known = {name for names in aliases_for(legacy=legacy).values() for name in names} | {"key"}
    return {
        name: value[:_SHORT_LOG_TEXT] if isinstance(value, str) else value
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


def _log_success(
    log: PostbackLog, *, result: str, conversion: Conversion | None, reason: str
) -> None:
    log.outcome = result
    log.http_status = 200
    log.code = reason[:64] if result == PostbackOutcome.REJECTED else ""
    log.message = SUCCESS_MESSAGE
    log.conversion = conversion
    model_insert(log)


# --- the two routes ----------------------------------------------------------------------------


def _receive(
    inbound: PostbackInbound,
    *,
    now: dt.datetime | None,
    process: Any,
) -> PostbackResult:
    """Run `process` and log its outcome; a refusal rolls everything back, then logs alone."""
    now = now or timezone.now()
    log_id = uuid.uuid4()
    warnings: list[str] = []
    log = _log_new(inbound, log_id=log_id, now=now, warnings=warnings)
    try:
        try:
            result = process(inbound, log=log, warnings=warnings, now=now)
        except ApplicationError as error:
            log.warnings = warnings
            _log_refusal(log, error)
            return PostbackResult(log_id=log_id, error=error)
    except (OperationalError, InterfaceError):
        logger.exception("postback %s: database unavailable, request not recorded", log_id)
        unavailable = ApplicationError(
            "The service is temporarily unavailable; retry later.", code="unavailable", status=503
        )
        return PostbackResult(log_id=log_id, error=unavailable)
    return result


def postback_receive(*, inbound: PostbackInbound, now: dt.datetime | None = None) -> PostbackResult:
    """Handle one partner postback end to end (`/postback/<key>`, `POST /api/track/postback`).

    Transaction scope: the conversion, its history, points, cap consumption and the log row
    commit together; a refusal rolls all of it back and then writes only the log row.
    """
    return _receive(inbound, now=now, process=_postback_process)


def pixel_receive(*, inbound: PostbackInbound, now: dt.datetime | None = None) -> PostbackResult:
    """Handle one conversion pixel (`/px/<key>.gif|.html|.js`, `inbound.endpoint` "pixel").

    The partner postback's parameters, rules and log, except: the click id may come from the
    visitor's `cl_cid` cookie when the query string has none (never the offer-id fallback), and a
    key that requires a signature or has an IP allowlist is refused (`pixel_not_allowed`).
    """
    if inbound.endpoint != ENDPOINT_PIXEL:
        raise ValueError("pixel_receive takes pixel requests only.")
    return _receive(inbound, now=now, process=_pixel_process)


def postback_receive_legacy(
    *, inbound: PostbackInbound, now: dt.datetime | None = None
) -> PostbackResult:
    """The first integrations' keyless `GET /postback?affiliate_id=&click_id=&amount=&currency=`.

    Only from allowed sources or with a partner key (`_legacy_authorize`). The click must exist
    and belong to that affiliate; `amount` is the revenue. Same dedupe, caps, money and log as
    keyed postbacks.
    """
    return _receive(inbound, now=now, process=_legacy_process)


def _record(
    *,
    log: PostbackLog,
    warnings: list[str],
    fields: PostbackFields,
    attribution: ClickAttribution | None,
    not_found: ApplicationError,
    partner_key: PartnerKey | None,
    source: str,
    now: dt.datetime,
) -> PostbackResult:
    """Record the conversion of the click found, and its log row, in the caller's transaction."""
    if attribution is None:
        raise not_found
    log.click_id = fields.click_id[:_SHORT_LOG_TEXT]
    outcome = conversion_record(
        attribution=attribution,
        fields=fields,
        partner_key=partner_key,
        source=source,
        log_id=log.id,
        now=now,
    )
    log.warnings = warnings
    _log_success(log, result=outcome.result, conversion=outcome.conversion, reason=outcome.reason)
    return PostbackResult(
        log_id=log.id, result=outcome.result, conversion=outcome.conversion, reason=outcome.reason
    )


def _test_logged(log: PostbackLog, warnings: list[str]) -> PostbackResult:
    log.warnings = warnings
    _log_success(log, result=PostbackOutcome.TEST, conversion=None, reason="")
    return PostbackResult(log_id=log.id, result=PostbackOutcome.TEST)


def _postback_process(
    inbound: PostbackInbound, *, log: PostbackLog, warnings: list[str], now: dt.datetime
) -> PostbackResult:
    parse_error: ApplicationError | None = None
    params: dict[str, Any] = {}
    try:
        params = postback_params_parse(inbound, warnings)
    except ApplicationError as error:
        parse_error = error
    log.params = _log_params(inbound, params, legacy=False)
    _log_ids_from(log, params)
    key = _key_named(inbound, params)
    if not key and parse_error is not None:
        raise parse_error
    partner_key = _partner_key_authorize(inbound, key=key, log=log, now=now)
    if parse_error is not None:
        raise parse_error
    consumed = frozenset({"key"}) if inbound.endpoint == ENDPOINT_API else frozenset()
    reading = profile_apply(
        profile=partner_key.profile,
        param_map=partner_key.param_map,
        status_map=partner_key.status_map,
        params=params,
    )
    if reading.renamed:
        log.click_id = log.transaction_id = ""
        _log_ids_from(log, reading.params)
    fields = postback_fields_parse(reading.params, warnings=warnings, consumed=consumed)
    fields.partner_status = reading.partner_status
    return _keyed_record(
        fields=fields, partner_key=partner_key, log=log, warnings=warnings, now=now
    )


def _pixel_process(
    inbound: PostbackInbound, *, log: PostbackLog, warnings: list[str], now: dt.datetime
) -> PostbackResult:
    parse_error: ApplicationError | None = None
    params: dict[str, Any] = {}
    try:
        params = postback_params_parse(inbound, warnings)
    except ApplicationError as error:
        parse_error = error
    log.params = _log_params(inbound, params, legacy=False)
    _log_ids_from(log, params)
    partner_key = _pixel_key_authorize(key=inbound.path_key or "", log=log, now=now)
    if parse_error is not None:
        raise parse_error
    given = params.get("click_id")
    cookie = clean_text(inbound.cookie_click_id).strip()
    if not (isinstance(given, str) and given.strip()) and cookie:
        params = {**params, "click_id": cookie}
        log.click_id = cookie[:_SHORT_LOG_TEXT]
        warnings.append("click_id from the cl_cid cookie of the visitor's click")
    fields = postback_fields_parse(params, warnings=warnings)
    if not fields.click_id:
        # No fallback by offer id here: any visitor who loads the page would convert the most
        # recent click of someone else.
        raise ApplicationError(
            "click_id is required: in the pixel's query string, or the cl_cid cookie the "
            "visitor's click left.",
            code="missing_click_id",
            fields={"click_id": ["This parameter is required."]},
        )
    return _keyed_record(
        fields=fields, partner_key=partner_key, log=log, warnings=warnings, now=now
    )


def _keyed_record(
    *,
    fields: PostbackFields,
    partner_key: PartnerKey,
    log: PostbackLog,
    warnings: list[str],
    now: dt.datetime,
) -> PostbackResult:
    """The keyed routes' test or conversion, once the key is authorized and the fields read."""
    if fields.status == STATUS_TEST:
        with transaction.atomic():
            result = _test_logged(log, warnings)
            forwards_queue_for_test_postback(
                advertiser_id=partner_key.advertiser_id,
                click_id=fields.click_id,
                revenue=fields.payout,
                event_code=fields.event,
                transaction_id=fields.transaction_id,
                user_id=fields.user_id,
                now=now,
            )
        return result
    with transaction.atomic():
        return _record(
            log=log,
            warnings=warnings,
            fields=fields,
            attribution=_click_find(
                fields=fields, advertiser_id=partner_key.advertiser_id, affiliate_id=None, now=now
            ),
            not_found=ApplicationError("Click not found.", code="click_not_found", status=404),
            partner_key=partner_key,
            source=ChangeSource.POSTBACK,
            now=now,
        )


def _legacy_process(
    inbound: PostbackInbound, *, log: PostbackLog, warnings: list[str], now: dt.datetime
) -> PostbackResult:
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
        return _test_logged(log, warnings)
    not_found = ApplicationError(LEGACY_NOT_FOUND_MESSAGE, code="click_not_found", status=404)
    affiliate_id = fields.affiliate_id
    if not (fields.click_id and affiliate_id.isascii() and affiliate_id.isdigit()):
        raise not_found
    if len(affiliate_id) > 18:
        raise not_found
    with transaction.atomic():
        return _record(
            log=log,
            warnings=warnings,
            fields=fields,
            attribution=_click_find(
                fields=fields,
                advertiser_id=partner_key.advertiser_id if partner_key else None,
                affiliate_id=int(affiliate_id),
                now=now,
            ),
            not_found=not_found,
            partner_key=partner_key,
            source=ChangeSource.LEGACY_POSTBACK,
            now=now,
        )


# --- retention ---------------------------------------------------------------------------------


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

"""Pricing rules: per affiliate, event, country and sub1 overrides of an event's terms.

The most specific rule valid at the conversion's creation wins: affiliate 8 + event 4 +
country 2 + sub1 1 (an empty criterion matches everything and scores nothing); ties go to the
later `starts_at` (an open start is the earliest), then the higher id. Rules are valid from
`starts_at` (included) to `ends_at` (excluded).

Services create, edit, delete and import rules (CSV, with a dry run that answers row by row what
would change and writes nothing). Who may call them is the views' and selectors' business.
"""

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import Affiliate, User
from campaigns.models import Campaign, ConversionEvent, PayoutType, PricingRule
from campaigns.terms import (
    FieldErrors,
    Invalid,
    clean_choice,
    clean_money,
    clean_percent,
    clean_text,
    fields_clean,
)
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource

_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# --- choosing the rule ---------------------------------------------------------------------------


def pricing_rule_sort_key(rule: PricingRule) -> tuple[int, dt.datetime, int]:
    return (rule.specificity, rule.starts_at or _EPOCH, rule.pk or 0)


def pricing_rule_matches(
    rule: PricingRule,
    *,
    event_id: int,
    affiliate_id: int,
    country: str,
    sub1: str,
    at: dt.datetime,
) -> bool:
    return (
        rule.event_id in (None, event_id)
        and rule.affiliate_id in (None, affiliate_id)
        and (not rule.country or rule.country == country)
        and (not rule.sub1 or rule.sub1 == sub1)
        and (rule.starts_at is None or rule.starts_at <= at)
        and (rule.ends_at is None or at < rule.ends_at)
    )


def pricing_rules_ranked(
    rules: Iterable[PricingRule],
    *,
    event_id: int,
    affiliate_id: int,
    country: str,
    sub1: str,
    at: dt.datetime,
) -> list[PricingRule]:
    """The rules that apply to this conversion, the winner first."""
    matching = [
        rule
        for rule in rules
        if pricing_rule_matches(
            rule, event_id=event_id, affiliate_id=affiliate_id, country=country, sub1=sub1, at=at
        )
    ]
    return sorted(matching, key=pricing_rule_sort_key, reverse=True)


def pricing_rule_candidates(
    *, campaign_id: int, event_id: int, affiliate_id: int, country: str, sub1: str, at: dt.datetime
) -> list[PricingRule]:
    """The campaign's rules that apply to a conversion created at `at`, the winner first (one
    query; the criteria are matched in the database, the ranking here)."""
    rules = PricingRule.objects.filter(
        Q(event__isnull=True) | Q(event_id=event_id),
        Q(affiliate__isnull=True) | Q(affiliate_id=affiliate_id),
        Q(country="") | Q(country=country),
        Q(sub1="") | Q(sub1=sub1),
        Q(starts_at__isnull=True) | Q(starts_at__lte=at),
        Q(ends_at__isnull=True) | Q(ends_at__gt=at),
        campaign_id=campaign_id,
    )
    return pricing_rules_ranked(
        rules, event_id=event_id, affiliate_id=affiliate_id, country=country, sub1=sub1, at=at
    )


# --- editing rules -------------------------------------------------------------------------------


def _clean_country(raw: Any) -> str:
    value = raw.strip().upper() if isinstance(raw, str) else ("" if raw is None else None)
    if value is None or (value and not _COUNTRY.match(value)):
        raise Invalid("An ISO 3166-1 alpha-2 country code (GB, US, ...) or empty for all.")
    return value


def _clean_moment(raw: Any) -> dt.datetime | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        moment = raw
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            parsed = parse_datetime(text)
            day = None if parsed else parse_date(text)
        except ValueError:
            parsed = day = None
        if parsed is None and day is None:
            raise Invalid("A date (2026-12-01) or an ISO 8601 time (2026-12-01T08:00:00Z).")
        moment = parsed or dt.datetime.combine(day, dt.time())  # type: ignore[arg-type]
    else:
        raise Invalid("A date (2026-12-01) or an ISO 8601 time (2026-12-01T08:00:00Z).")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _clean_optional_money(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    return clean_money(raw)


_FIELD_CLEANERS = {
    "country": (_clean_country, "invalid_country"),
    "sub1": (clean_text(255), "invalid_sub1"),
    "starts_at": (_clean_moment, "invalid_starts_at"),
    "ends_at": (_clean_moment, "invalid_ends_at"),
    "payout_type": (clean_choice(PayoutType), "invalid_payout_type"),
    "payout_amount": (clean_money, "invalid_payout_amount"),
    "revshare_percent": (clean_percent, "invalid_revshare_percent"),
    "revenue_amount": (_clean_optional_money, "invalid_revenue_amount"),
    "note": (clean_text(200), "invalid_note"),
}
_CREATE_DEFAULTS: dict[str, Any] = {
    "event": None,
    "affiliate": None,
    "country": "",
    "sub1": "",
    "starts_at": None,
    "ends_at": None,
    "payout_amount": Decimal(0),
    "revshare_percent": Decimal(0),
    "revenue_amount": None,
    "note": "",
}


def _clean_event(campaign: Campaign, raw: Any) -> ConversionEvent | None:
    """An event of the campaign by id or code; empty: all events."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, ConversionEvent):
        if raw.campaign_id != campaign.pk:
            raise Invalid("Not an event of this campaign.")
        return raw
    events = ConversionEvent.objects.filter(campaign=campaign)
    if isinstance(raw, int) and not isinstance(raw, bool):
        event = events.filter(pk=raw).first()
    elif isinstance(raw, str) and raw.strip().isdigit():
        event = events.filter(pk=int(raw.strip())).first()
    elif isinstance(raw, str):
        event = events.filter(code=raw.strip().lower()).first()
    else:
        event = None
    if event is None:
        raise Invalid(f"Not an event of this campaign: {raw!r}.")
    return event


def _clean_affiliate(raw: Any) -> Affiliate | None:
    """An affiliate by id; empty: all affiliates."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, Affiliate):
        return raw
    pk: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        pk = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        pk = int(raw.strip())
    affiliate = None if pk is None else Affiliate.objects.filter(pk=pk).first()
    if affiliate is None:
        raise Invalid(f"Not an affiliate: {raw!r}.")
    return affiliate


def _rule_data_clean(
    data: Mapping[str, Any], *, campaign: Campaign, current: Mapping[str, Any]
) -> dict[str, Any]:
    errors = FieldErrors(summary="The pricing rule has invalid fields.")
    cleaned = fields_clean(data, _FIELD_CLEANERS, errors)
    if "event" in data:
        try:
            cleaned["event"] = _clean_event(campaign, data["event"])
        except Invalid as exc:
            errors.add("event", str(exc), "invalid_event")
    if "affiliate" in data:
        try:
            cleaned["affiliate"] = _clean_affiliate(data["affiliate"])
        except Invalid as exc:
            errors.add("affiliate", str(exc), "invalid_affiliate")
    merged = {**current, **cleaned}
    if "payout_type" not in merged and "payout_type" not in errors.fields:
        errors.add("payout_type", "This field is required.", "invalid_payout_type")
    if (
        merged.get("payout_type") == PayoutType.REVSHARE
        and "revshare_percent" not in errors.fields
        and merged.get("revshare_percent", Decimal(0)) <= 0
    ):
        errors.add(
            "revshare_percent",
            "A revenue share needs a percentage above 0 and at most 100.",
            "invalid_revshare_percent",
        )
    starts_at, ends_at = merged.get("starts_at"), merged.get("ends_at")
    if starts_at and ends_at and ends_at <= starts_at and "ends_at" not in errors.fields:
        errors.add("ends_at", "Must be after starts_at.", "invalid_ends_at")
    errors.raise_if_any()
    return cleaned


def _rule_current(rule: PricingRule) -> dict[str, Any]:
    current = {name: getattr(rule, name) for name in _FIELD_CLEANERS}
    current["event"] = rule.event
    current["affiliate"] = rule.affiliate
    return current


def pricing_rule_validate(
    *, campaign: Campaign, data: Mapping[str, Any], rule: PricingRule | None = None
) -> None:
    """Raise what creating (or updating `rule`) with `data` would raise, writing nothing."""
    current = _CREATE_DEFAULTS if rule is None else _rule_current(rule)
    _rule_data_clean(data, campaign=campaign, current=current)


@transaction.atomic
def _rule_audit(
    *,
    rule: PricingRule,
    action: str,
    actor: User | None,
    source: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj_type=PricingRule,
        obj_id=rule.pk,
        obj_repr=f"Pricing rule #{rule.pk} of campaign #{rule.campaign_id}",
        before=before,
        after=after,
    )


_AUDITED_FIELDS = ["event", "affiliate", *_FIELD_CLEANERS]


def pricing_rule_create(
    *,
    campaign: Campaign,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> PricingRule:
    """A new rule of `campaign`. `payout_type` is required; `event` (id or code) and
    `affiliate` (id) may be empty for all. Conversions already recorded keep their price."""
    cleaned = _rule_data_clean(data, campaign=campaign, current=_CREATE_DEFAULTS)
    rule = PricingRule.objects.create(campaign=campaign, **{**_CREATE_DEFAULTS, **cleaned})
    after = audit_snapshot(rule, _AUDITED_FIELDS)
    _rule_audit(rule=rule, action="create", actor=actor, source=source, before={}, after=after)
    return rule


@transaction.atomic
def pricing_rule_update(
    *,
    rule: PricingRule,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> PricingRule:
    """Change the fields present in `data`. Conversions it priced keep their price."""
    locked = PricingRule.objects.select_for_update().get(pk=rule.pk)
    cleaned = _rule_data_clean(data, campaign=locked.campaign, current=_rule_current(locked))
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    before = audit_snapshot(locked, changed)
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    after = audit_snapshot(locked, changed)
    _rule_audit(
        rule=locked, action="update", actor=actor, source=source, before=before, after=after
    )
    return locked


@transaction.atomic
def pricing_rule_delete(
    *, rule: PricingRule, actor: User | None = None, source: str = AuditSource.SYSTEM
) -> None:
    """Delete a rule that priced no conversion (409 `pricing_rule_in_use` otherwise: end it
    with `ends_at` instead, so that conversions keep naming the rule that priced them)."""
    locked = PricingRule.objects.select_for_update().get(pk=rule.pk)
    if locked.conversions.exists():
        raise ApplicationError(
            "This rule priced conversions and cannot be deleted; set ends_at to end it.",
            code="pricing_rule_in_use",
            status=409,
        )
    before = audit_snapshot(locked, _AUDITED_FIELDS)
    _rule_audit(rule=locked, action="delete", actor=actor, source=source, before=before, after={})
    locked.delete()


# --- CSV import ----------------------------------------------------------------------------------

IMPORT_MAX_BYTES = 1_000_000
IMPORT_MAX_ROWS = 5_000
IMPORT_COLUMNS = (
    "id",
    "event",
    "affiliate",
    "country",
    "sub1",
    "starts_at",
    "ends_at",
    "payout_type",
    "payout_amount",
    "revshare_percent",
    "revenue_amount",
    "note",
)


@dataclass
class ImportRow:
    """One CSV row's outcome: `create`, `update`, `unchanged` or `error` (with field errors)."""

    line: int
    action: str
    rule_id: int | None = None
    changes: dict[str, list[str]] = field(default_factory=dict)  # field -> [before, after]
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ImportResult:
    dry_run: bool
    rows: list[ImportRow]

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, ConversionEvent):
        return value.code
    if isinstance(value, Affiliate):
        return str(value.pk)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    if len(content) > IMPORT_MAX_BYTES:
        raise ApplicationError(
            f"The file is larger than {IMPORT_MAX_BYTES // 1000} kB.", code="file_too_large"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError("The file is not UTF-8 text.", code="invalid_csv") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if "payout_type" not in header:
        raise ApplicationError(
            f"The first line names the columns: {', '.join(IMPORT_COLUMNS)} (payout_type is "
            "required; the others may be left out).",
            code="invalid_csv",
        )
    unknown = [name for name in header if name not in IMPORT_COLUMNS]
    if unknown:
        raise ApplicationError(
            f"Unknown column(s): {', '.join(unknown)[:200]}.",
            code="invalid_csv",
        )
    rows: list[dict[str, str]] = []
    try:
        for raw in reader:
            if len(rows) >= IMPORT_MAX_ROWS:
                raise ApplicationError(
                    f"At most {IMPORT_MAX_ROWS} rows per file.", code="too_many_rows"
                )
            rows.append(
                {
                    (key or "").strip().lower(): (value or "").strip()
                    for key, value in raw.items()
                    if isinstance(value, str) and key
                }
            )
    except csv.Error as exc:
        raise ApplicationError(f"The file is not valid CSV: {exc}.", code="invalid_csv") from exc
    return rows


def _import_row(
    *, campaign: Campaign, line: int, raw: dict[str, str], rules: dict[int, PricingRule]
) -> tuple[ImportRow, dict[str, Any] | None]:
    # An empty cell is a value not given: the default for a new rule, unchanged for an update.
    data = {name: value for name, value in raw.items() if name != "id" and value != ""}
    rule_id_text = raw.get("id", "")
    rule: PricingRule | None = None
    if rule_id_text:
        rule = rules.get(int(rule_id_text)) if rule_id_text.isdigit() else None
        if rule is None:
            return ImportRow(
                line=line, action="error", errors={"id": ["Not a rule of this campaign."]}
            ), None
    current = _CREATE_DEFAULTS if rule is None else _rule_current(rule)
    try:
        cleaned = _rule_data_clean(data, campaign=campaign, current=current)
    except ApplicationError as exc:
        return ImportRow(
            line=line,
            action="error",
            rule_id=rule.pk if rule else None,
            errors=exc.fields or {"row": [exc.message]},
        ), None
    if rule is None:
        changes = {
            name: ["", _as_text(value)]
            for name, value in {**_CREATE_DEFAULTS, **cleaned}.items()
            if value not in (None, "")
        }
        return ImportRow(line=line, action="create", changes=changes), cleaned
    changes = {
        name: [_as_text(current[name]), _as_text(value)]
        for name, value in cleaned.items()
        if current[name] != value
    }
    action = "update" if changes else "unchanged"
    return ImportRow(line=line, action=action, rule_id=rule.pk, changes=changes), cleaned


@transaction.atomic
def pricing_rules_import(
    *,
    campaign: Campaign,
    content: bytes,
    dry_run: bool,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> ImportResult:
    """Create (rows without `id`) and update (rows with the `id` of a rule of this campaign)
    rules from a CSV file. Every row is checked first; a dry run answers, row by row, what would
    be created or changed and writes nothing. A real import writes only when no row has an
    error (all or nothing), and answers exactly what its dry run answered."""
    raw_rows = _csv_rows(content)
    rules = {
        rule.pk: rule
        for rule in PricingRule.objects.select_for_update(of=("self",))
        .filter(campaign=campaign)
        .select_related("event", "affiliate")
    }
    outcomes = [
        _import_row(campaign=campaign, line=line, raw=raw, rules=rules)
        for line, raw in enumerate(raw_rows, start=2)
    ]
    result = ImportResult(dry_run=dry_run, rows=[row for row, _ in outcomes])
    if dry_run or result.counts["error"]:
        return result
    for row, cleaned in outcomes:
        if cleaned is None or row.action == "unchanged":
            continue
        if row.action == "create":
            rule = PricingRule.objects.create(campaign=campaign, **{**_CREATE_DEFAULTS, **cleaned})
            row.rule_id = rule.pk
            after = audit_snapshot(rule, _AUDITED_FIELDS)
            _rule_audit(
                rule=rule, action="create", actor=actor, source=source, before={}, after=after
            )
        else:
            existing = rules[row.rule_id or 0]
            before = audit_snapshot(existing, _AUDITED_FIELDS)
            for name, value in cleaned.items():
                setattr(existing, name, value)
            existing.save()
            after = audit_snapshot(existing, _AUDITED_FIELDS)
            _rule_audit(
                rule=existing,
                action="update",
                actor=actor,
                source=source,
                before=before,
                after=after,
            )
    return result


def pricing_rule_describe(rule: PricingRule) -> str:
    """One line for people: `affiliate #5, event sale, GB, sub1 promo` (or `everyone`)."""
    parts = []
    if rule.affiliate_id:
        parts.append(f"affiliate #{rule.affiliate_id}")
    if rule.event is not None:
        parts.append(f"event {rule.event.code}")
    if rule.country:
        parts.append(rule.country)
    if rule.sub1:
        parts.append(f"sub1 {rule.sub1}")
    return ", ".join(parts) or "everyone"

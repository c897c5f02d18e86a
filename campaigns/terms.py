"""The terms shared by campaigns and their events: field cleaners that collect every error of a
payload, and caps (campaign-wide or per event).

A cleaner raises `Invalid` with the message shown under its field; `FieldErrors` gathers them
and raises one ApplicationError: the field's own code when only one field is wrong, else
`invalid` with every field listed.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models

from campaigns.models import (
    Campaign,
    Cap,
    CapAction,
    CapMetric,
    CapPeriod,
    CapScope,
    ConversionEvent,
)
from core.exceptions import ApplicationError
from core.money import parse_money


class Invalid(ValueError):
    """One field's value is unusable; the message is shown to the user under that field."""


@dataclass
class FieldErrors:
    """Field errors collected over a whole payload, each with the code it would raise alone."""

    summary: str = "The campaign has invalid fields."
    fields: dict[str, list[str]] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)

    def add(self, name: str, message: str, code: str) -> None:
        self.fields.setdefault(name, []).append(message)
        self.codes.append(code)

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        if len(self.codes) == 1:
            messages = next(iter(self.fields.values()))
            raise ApplicationError(messages[0], code=self.codes[0], fields=self.fields)
        raise ApplicationError(self.summary, code="invalid", fields=self.fields)


Cleaners = Mapping[str, tuple[Callable[[Any], Any], str]]


def fields_clean(
    data: Mapping[str, Any], cleaners: Cleaners, errors: FieldErrors
) -> dict[str, Any]:
    """The fields of `data` that `cleaners` (name -> (cleaner, error code)) know, cleaned; each
    refusal is added to `errors` under its field."""
    cleaned: dict[str, Any] = {}
    for name, (clean, code) in cleaners.items():
        if name not in data:
            continue
        try:
            cleaned[name] = clean(data[name])
        except Invalid as exc:
            errors.add(name, str(exc), code)
    return cleaned


def clean_text(max_length: int, *, required: bool = False) -> Callable[[Any], str]:
    def clean(raw: Any) -> str:
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise Invalid("Must be a string.")
        value = raw.strip()
        if required and not value:
            raise Invalid("This field is required.")
        if len(value) > max_length:
            raise Invalid(f"At most {max_length} characters.")
        return value

    return clean


def clean_choice(choices: type[models.TextChoices]) -> Callable[[Any], str]:
    values = [str(choice) for choice in choices.values]

    def clean(raw: Any) -> str:
        if raw not in values:
            raise Invalid(f"Choose one of: {', '.join(values)}.")
        return str(raw)

    return clean


def clean_money(raw: Any) -> Decimal:
    try:
        return parse_money(raw)
    except ValueError as exc:
        raise Invalid(f"Not a non-negative amount with at most 4 decimal places ({exc}).") from exc


def clean_percent(raw: Any) -> Decimal:
    value = clean_money(raw)
    if value > 100:
        raise Invalid("A percentage is at most 100.")
    return value


def clean_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("false", "0", "no", "off", ""):
        return False
    raise Invalid("Must be true or false.")


@dataclass(frozen=True)
class CapSpec:
    scope: str
    period: str
    metric: str
    limit: Decimal
    action: str

    @property
    def kind(self) -> tuple[str, str, str]:
        return (self.scope, self.period, self.metric)


def caps_clean(raw: Any, errors: FieldErrors, *, event_caps: bool = False) -> list[CapSpec] | None:
    """The caps of a payload (a list of objects), or None when one is wrong (errors added).

    Event caps count conversions and payout like campaign caps but cannot block clicks: a click
    does not know yet which event it will bring."""
    if raw is None:
        raw = []
    if not isinstance(raw, list | tuple):
        errors.add("caps", "Must be a list of caps.", "invalid_caps")
        return None
    specs: list[CapSpec] = []
    seen: set[tuple[str, str, str]] = set()
    ok = True
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            errors.add("caps", f"Cap {position}: must be an object.", "invalid_caps")
            ok = False
            continue
        try:
            spec = CapSpec(
                scope=clean_choice(CapScope)(item.get("scope", CapScope.CAMPAIGN)),
                period=clean_choice(CapPeriod)(item.get("period")),
                metric=clean_choice(CapMetric)(item.get("metric", CapMetric.CONVERSIONS)),
                limit=clean_money(item.get("limit")),
                action=clean_choice(CapAction)(item.get("action", CapAction.REJECT_CONVERSIONS)),
            )
        except Invalid as exc:
            errors.add("caps", f"Cap {position}: {exc}", "invalid_caps")
            ok = False
            continue
        if spec.metric == CapMetric.CONVERSIONS and spec.limit != spec.limit.to_integral_value():
            errors.add(
                "caps", f"Cap {position}: a conversion cap is a whole number.", "invalid_caps"
            )
            ok = False
            continue
        if event_caps and spec.action == CapAction.BLOCK_CLICKS:
            errors.add(
                "caps",
                f"Cap {position}: an event's cap cannot block clicks; put it on the campaign.",
                "invalid_caps",
            )
            ok = False
            continue
        if spec.kind in seen:
            errors.add(
                "caps",
                f"Cap {position}: a {spec.scope} {spec.period} {spec.metric} cap is listed twice.",
                "duplicate_cap",
            )
            ok = False
            continue
        seen.add(spec.kind)
        specs.append(spec)
    return specs if ok else None


def caps_replace(
    *, campaign: Campaign, specs: list[CapSpec], event: ConversionEvent | None = None
) -> None:
    """Make the campaign's own caps (or, with `event`, that event's caps) exactly `specs`.

    A cap of a kind that stays keeps its row (and so its counters): lowering a daily limit
    mid-day must not forget what was already used today.
    """
    existing = {
        (cap.scope, cap.period, cap.metric): cap
        for cap in Cap.objects.filter(campaign=campaign, event=event)
    }
    wanted = {spec.kind for spec in specs}
    Cap.objects.filter(
        pk__in=[cap.pk for kind, cap in existing.items() if kind not in wanted]
    ).delete()
    for spec in specs:
        cap = existing.get(spec.kind)
        if cap is None:
            Cap.objects.create(
                campaign=campaign,
                event=event,
                scope=spec.scope,
                period=spec.period,
                metric=spec.metric,
                limit=spec.limit,
                action=spec.action,
            )
        elif (cap.limit, cap.action) != (spec.limit, spec.action):
            cap.limit = spec.limit
            cap.action = spec.action
            cap.save(update_fields=["limit", "action"])

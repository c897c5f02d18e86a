"""Strict query-string filters shared by every app's FilterSets.

django-filter's stock filters read junk as "no filter" (`?is_active=maybe`), accept more than
they document (`?campaign=1e5`, `?created_after=2026-01-01`) or pass values PostgreSQL refuses
(a UTC offset of +17:40 is a 500). These accept exactly what their schema says and answer
anything else with a 400 naming the parameter; each carries its own OpenAPI schema, because
drf-spectacular cannot see through a custom form field. Endpoints that read their parameters
themselves (reports, balances, statements) refuse the ones they do not know with
`query_params_check`.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field

from core.exceptions import ApplicationError

PAGINATION_PARAMETERS = ("page", "page_size")


def query_params_check(query_params: Mapping[str, Any], *, allowed: Iterable[str]) -> None:
    """Refuse the query parameters an endpoint does not read (400 `unknown_parameter`, each one
    named in `fields`): a misspelt filter such as `?campaign=2` where `campaign_id` is meant must
    not answer unfiltered data as if it had been applied."""
    accepted = sorted(set(allowed))
    unknown = sorted(set(query_params) - set(accepted))
    if unknown:
        accepted_text = f"Accepted: {', '.join(accepted)}." if accepted else "None is accepted."
        raise ApplicationError(
            f"Unknown query parameter(s): {', '.join(unknown)}. {accepted_text}",
            code="unknown_parameter",
            fields={name: ["Unknown parameter."] for name in unknown},
        )


# RFC 3339 `date-time` (what OpenAPI's `format: date-time` means), with the UTC offset PostgreSQL
# accepts: at most 15:59 either way (`time zone displacement out of range` beyond).
DATETIME_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-](0\d|1[0-5]):[0-5]\d)$"
)
# The same grammar with its parts named (Python's group syntax is not ECMA's, hence two).
_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})"
    r"(?:\.(?P<fraction>\d+))?"
    r"(?:[Zz]|(?P<sign>[+-])(?P<off_hour>0\d|1[0-5]):(?P<off_minute>[0-5]\d))"
)
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
POSITIVE_INTEGER = re.compile(r"[1-9][0-9]*")  # ids, and the pagination parameters
_BOOLEANS = {"true": True, "false": False}


def _schema(schema: dict[str, Any], help_text: str | None) -> dict[str, Any]:
    return {**schema, "description": str(help_text)} if help_text else schema


class IsoDateTimeField(forms.Field):
    """An RFC 3339 date-time with `Z` or a UTC offset within +-15:59, as an aware datetime."""

    default_error_messages = {
        "invalid": (
            "An RFC 3339 date-time such as 2026-03-10T09:30:00Z, with a UTC offset within +-15:59."
        )
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        match = _DATETIME.fullmatch(str(value))
        if match is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        offset = dt.timedelta(0)
        if match["sign"]:
            offset = dt.timedelta(hours=int(match["off_hour"]), minutes=int(match["off_minute"]))
            if match["sign"] == "-":
                offset = -offset
        try:
            return dt.datetime.combine(
                dt.date.fromisoformat(match["date"]),
                dt.time(
                    int(match["hour"]),
                    int(match["minute"]),
                    int(match["second"]),
                    int((match["fraction"] or "0")[:6].ljust(6, "0")),
                ),
                tzinfo=dt.timezone(offset),
            )
        except ValueError as exc:  # day 31 of a 30-day month, hour 24, year 0, ...
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class IsoDateField(forms.Field):
    """A calendar day as YYYY-MM-DD, nothing looser (no `03/10/2026`, no `2026-3-10`)."""

    default_error_messages = {"invalid": "Enter a valid date."}

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if _DATE.fullmatch(str(value)) is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class IdField(forms.Field):
    """A row id: a positive integer written in plain digits."""

    default_error_messages = {"invalid": "A positive integer id."}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if POSITIVE_INTEGER.fullmatch(str(value)) is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


class BooleanField(forms.Field):
    """`true` or `false`, as JSON writes them; anything else is refused, not ignored."""

    default_error_messages = {"invalid": "Use true or false."}

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        try:
            return _BOOLEANS[str(value)]
        except KeyError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc

    def validate(self, value: bool | None) -> None:
        # forms.Field.validate treats False as missing when required; the filters never are.
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")


class IsoDateTimeFilter(django_filters.Filter):
    field_class = IsoDateTimeField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        description = " ".join(
            filter(None, [kwargs.get("help_text"), "A UTC offset within +-15:59, or Z."])
        )
        extend_schema_field(
            _schema(
                {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN},
                description,
            )
        )(self)


class IsoDateFilter(django_filters.Filter):
    field_class = IsoDateField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extend_schema_field(
            _schema(
                {"type": "string", "format": "date", "pattern": DATE_PATTERN},
                kwargs.get("help_text"),
            )
        )(self)


class IdFilter(django_filters.Filter):
    field_class = IdField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extend_schema_field(_schema({"type": "integer", "minimum": 1}, kwargs.get("help_text")))(
            self
        )


class BooleanFilter(django_filters.Filter):
    field_class = BooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extend_schema_field(_schema({"type": "boolean"}, kwargs.get("help_text")))(self)


def _utc_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


class CreatedRangeFilterSet(django_filters.FilterSet):
    """`date_from` / `date_to` (UTC calendar days, inclusive) and `created_after` (inclusive) /
    `created_before` (exclusive, RFC 3339) on a model's `created_at`."""

    date_from = IsoDateFilter(
        method="filter_date_from", help_text="First UTC day (YYYY-MM-DD), inclusive."
    )
    date_to = IsoDateFilter(
        method="filter_date_to", help_text="Last UTC day (YYYY-MM-DD), inclusive."
    )
    created_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="RFC 3339 date-time, inclusive."
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="RFC 3339 date-time, exclusive."
    )

    def filter_date_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(created_at__gte=_utc_day_start(value))

    def filter_date_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        if value == dt.date.max:  # no day after it to stop before
            return queryset
        return queryset.filter(created_at__lt=_utc_day_start(value + dt.timedelta(days=1)))

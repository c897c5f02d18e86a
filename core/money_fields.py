"""Form and API fields for amounts and percentages: plain ASCII decimals only (`core.money`).

Django's and DRF's DecimalFields read whatever Python's `Decimal()` reads (`1_000`, `1E+2`,
Arabic-Indic digits, `+5`, `.5`), and `-0` passes a `min_value` of 0. These fields first check
the text with the same rule as `core.money.parse_money`, then leave places, digits and range to
their parent.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import decimal_text, decimal_text_refusal

# A JSON number arrives as a float: its shortest repr is its text when it has at most 15
# significant digits (a double holds 15 exactly); longer amounts must be sent as strings.
_FLOAT_DIGITS = 15


def _plain_text(value: Any) -> str:
    """The amount's text; ValueError naming why when it is not a plain decimal."""
    if isinstance(value, float):
        text = repr(value)
        refusal = decimal_text_refusal(text)
        if refusal is None and len(text.replace("-", "").replace(".", "").lstrip("0")) > (
            _FLOAT_DIGITS
        ):
            refusal = f"more than {_FLOAT_DIGITS} digits: send it as a string"
    else:
        text = decimal_text(value)
        refusal = decimal_text_refusal(text)
    if refusal is not None:
        raise ValueError(refusal)
    return text


def _message(refusal: str) -> str:
    return f"Enter a plain decimal such as 12.50 ({refusal})."


def _is_negative_zero(value: Decimal) -> bool:
    return value.is_zero() and value.is_signed()


class MoneySerializerField(serializers.DecimalField):
    """DRF DecimalField that reads plain decimals only, and refuses `-0` under a minimum of 0."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sign = "" if self.min_value is not None and self.min_value >= 0 else "-?"
        places = "" if not self.decimal_places else rf"(\.[0-9]{{1,{self.decimal_places}}})?"
        schema = {
            "type": "string",
            "format": "decimal",
            "pattern": rf"^{sign}[0-9]{{1,{self.max_whole_digits}}}{places}$",
        }
        if self.help_text:
            schema["description"] = str(self.help_text)
        # drf-spectacular types this decorator for callables and classes; on a field instance
        # it does the same thing (records the schema override on the object).
        extend_schema_field(schema)(self)  # type: ignore[type-var]

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            text = _plain_text(data)
        except ValueError as exc:
            raise serializers.ValidationError(_message(str(exc)), code="invalid") from exc
        value = super().to_internal_value(text)
        if _is_negative_zero(value) and self.min_value is not None and self.min_value >= 0:
            self.fail("min_value", min_value=self.min_value)
        return value


class MoneyFormField(forms.DecimalField):
    """Django DecimalField (the admin's) that reads plain decimals only and never a sign: every
    amount and percentage typed into a form is non-negative."""

    # django-stubs derive forms.DecimalField from IntegerField and silence the narrower return
    # type of its own `to_python` the same way; at runtime Django's DecimalField returns Decimal.
    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        try:
            text = _plain_text(value)
        except ValueError as exc:
            raise ValidationError(_message(str(exc)), code="invalid") from exc
        if text.startswith("-"):
            raise ValidationError(_message("negative"), code="invalid")
        return super().to_python(text)


class SignedMoneyFormField(forms.DecimalField):
    """The plain-decimal rule of `MoneyFormField` with a leading `-` allowed: for the few amounts
    that are signed by meaning (a manual adjustment that takes money back)."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        try:
            text = _plain_text(value)
        except ValueError as exc:
            raise ValidationError(_message(str(exc)), code="invalid") from exc
        if _is_negative_zero(Decimal(text)):
            text = text.lstrip("-")
        return super().to_python(text)

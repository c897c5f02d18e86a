"""The API's and the admin's amount fields read plain decimals only, like `parse_money`."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework import serializers

from core.money_fields import MoneyFormField, MoneySerializerField


class _Input(serializers.Serializer):
    amount = MoneySerializerField(max_digits=18, decimal_places=4, min_value=0)
    signed = MoneySerializerField(max_digits=18, decimal_places=4, required=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5", "5.0000"), ("12.50", "12.5000"), (7, "7.0000"), (2.5, "2.5000"), (" 3 ", "3.0000")],
)
def test_the_serializer_field_reads_plain_decimals_and_json_numbers(raw, expected):
    serializer = _Input(data={"amount": raw})

    assert serializer.is_valid(), serializer.errors
    assert str(serializer.validated_data["amount"]) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1_000", "Enter a plain decimal such as 12.50 (not a decimal)."),
        ("\u0661\u0660\u0660", "Enter a plain decimal such as 12.50 (not a decimal)."),
        ("1E+2", "Enter a plain decimal such as 12.50 (not a decimal)."),
        (1e20, "Enter a plain decimal such as 12.50 (not a decimal)."),  # repr 1e+20
        ("+5", "Enter a plain decimal such as 12.50 (a sign is not accepted)."),
        (
            ".5",
            "Enter a plain decimal such as 12.50 (digits are needed on both sides of the point).",
        ),
        (
            "5.",
            "Enter a plain decimal such as 12.50 (digits are needed on both sides of the point).",
        ),
        (True, "Enter a plain decimal such as 12.50 (not a decimal)."),
        (
            12345678901234.5678,
            "Enter a plain decimal such as 12.50 (more than 15 digits: send it as a string).",
        ),
        ("-0", "Ensure this value is greater than or equal to 0."),
        ("-0.0000", "Ensure this value is greater than or equal to 0."),
        (-0.0, "Ensure this value is greater than or equal to 0."),
        ("-1", "Ensure this value is greater than or equal to 0."),
        ("1.00001", "Ensure that there are no more than 4 decimal places."),
    ],
)
def test_the_serializer_field_names_what_is_wrong(raw, message):
    serializer = _Input(data={"amount": raw})

    assert not serializer.is_valid()
    assert serializer.errors == {"amount": [message]}


def test_a_field_without_a_minimum_keeps_its_sign_for_the_service_to_judge():
    serializer = _Input(data={"amount": "1", "signed": "-0"})

    assert serializer.is_valid(), serializer.errors
    assert str(serializer.validated_data["signed"]) == "-0.0000"


def test_the_schema_pattern_is_the_rule():
    fields = _Input().fields

    assert fields["amount"]._spectacular_annotation["field"]["pattern"] == (
        r"^[0-9]{1,14}(\.[0-9]{1,4})?$"
    )
    assert fields["signed"]._spectacular_annotation["field"]["pattern"] == (
        r"^-?[0-9]{1,14}(\.[0-9]{1,4})?$"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1_000", "Enter a plain decimal such as 12.50 (not a decimal)."),
        ("\u0661\u0660\u0660", "Enter a plain decimal such as 12.50 (not a decimal)."),
        ("1E+2", "Enter a plain decimal such as 12.50 (not a decimal)."),
        ("-0", "Enter a plain decimal such as 12.50 (negative)."),
        (
            ".5",
            "Enter a plain decimal such as 12.50 (digits are needed on both sides of the point).",
        ),
    ],
)
def test_the_form_field_refuses_what_is_not_a_plain_non_negative_decimal(raw, message):
    field = MoneyFormField(max_digits=18, decimal_places=4)

    with pytest.raises(ValidationError) as error:
        field.clean(raw)

    assert error.value.messages == [message]


def test_the_form_field_reads_a_plain_decimal():
    assert MoneyFormField(max_digits=18, decimal_places=4).clean(" 2.5 ") == Decimal("2.5")
    assert MoneyFormField(max_digits=18, decimal_places=4, required=False).clean("") is None

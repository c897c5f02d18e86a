"""`core.api.exception_handler`: every DRF exception renders the one error shape with a plain
string `code` and `message`, whatever the shape of its `detail`. And the query parameters every
list shares (pagination, `core.filters`) refuse what their schema does not promise with a 400."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken

from campaigns.tests.factories import network
from core.api import exception_handler
from core.filters import DATETIME_PATTERN, BooleanField, IdField, IsoDateField, IsoDateTimeField
from core.tests.api_bodies import invalid_fields_body


def _render(exc: Exception) -> tuple[int, dict]:
    response = exception_handler(exc, {})
    assert response is not None
    return response.status_code, response.data


def test_a_dict_detail_gives_its_code_and_message_not_its_text():
    # given SimpleJWT's InvalidToken, whose detail is {"detail", "code", "messages"}
    exc = InvalidToken({"detail": "Token is expired", "code": "token_not_valid", "messages": []})

    assert _render(exc) == (
        401,
        {"status": "error", "code": "token_not_valid", "message": "Token is expired"},
    )


def test_a_dict_detail_without_a_code_takes_the_status_default():
    exc = exceptions.AuthenticationFailed({"detail": "Bad credentials."})

    assert _render(exc) == (
        401,
        {"status": "error", "code": "authentication_failed", "message": "Bad credentials."},
    )


def test_a_dict_detail_without_detail_uses_its_first_value():
    exc = exceptions.PermissionDenied({"reason": "Not yours."})

    assert _render(exc) == (
        403,
        {"status": "error", "code": "permission_denied", "message": "Not yours."},
    )


def test_a_list_detail_uses_its_first_message():
    exc = exceptions.NotFound(["Gone.", "Really."])

    assert _render(exc) == (404, {"status": "error", "code": "not_found", "message": "Gone."})


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            exceptions.NotAuthenticated(),
            (401, "not_authenticated", "Authentication credentials were not provided."),
        ),
        (
            exceptions.MethodNotAllowed("PUT"),
            (405, "method_not_allowed", 'Method "PUT" not allowed.'),
        ),
        (exceptions.ParseError(), (400, "parse_error", "Malformed request.")),
    ],
)
def test_plain_details_keep_their_own_code(exc, expected):
    status, code, message = expected

    assert _render(exc) == (status, {"status": "error", "code": code, "message": message})


def test_validation_errors_name_their_fields():
    exc = exceptions.ValidationError({"amount": ["A valid number is required."]})

    status, body = _render(exc)

    assert (status, body["code"], body["message"], body["fields"]) == (
        400,
        "invalid",
        "The request has invalid fields.",
        {"amount": ["A valid number is required."]},
    )


# --- strict query parameters: pagination and core.filters --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "fields"),
    [
        # DRF read these as the defaults or, for `last`, as the last page.
        ({"page_size": "ten"}, {"page_size": ["A positive integer."]}),
        ({"page_size": "0"}, {"page_size": ["A positive integer."]}),
        ({"page_size": "-5"}, {"page_size": ["A positive integer."]}),
        ({"page": "last"}, {"page": ["A positive integer."]}),
        ({"page": "0"}, {"page": ["A positive integer."]}),
        ({"page": "1.5"}, {"page": ["A positive integer."]}),
    ],
)
def test_malformed_pagination_is_a_400_naming_the_parameter(params, fields):
    net = network()

    response = net.client_as("admin").get("/api/campaigns", params)

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(fields)


@pytest.mark.django_db
def test_pagination_takes_empty_as_absent_cuts_at_500_and_404s_past_the_end():
    net = network()
    client = net.client_as("admin")

    empty = client.get("/api/campaigns", {"page": "", "page_size": ""})
    huge = client.get("/api/campaigns", {"page_size": "100000000000000000000000"})
    past_the_end = client.get("/api/campaigns", {"page": "2"})

    assert (empty.status_code, empty.json()["count"]) == (200, 2)
    assert (huge.status_code, huge.json()["next"]) == (200, None)
    assert past_the_end.status_code == 404
    assert past_the_end.json() == {
        "status": "error",
        "code": "not_found",
        "message": "Invalid page.",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-10T09:30:00Z", dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)),
        ("2026-03-10t09:30:00.5z", dt.datetime(2026, 3, 10, 9, 30, 0, 500000, tzinfo=dt.UTC)),
        (
            "0001-01-01T00:00:00.1234567+15:59",
            dt.datetime(1, 1, 1, 0, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(minutes=959))),
        ),
        (
            "9999-12-31T23:59:59-15:59",
            dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(-dt.timedelta(minutes=959))),
        ),
        ("", None),
    ],
)
def test_datetime_filter_field_takes_rfc_3339_within_the_database_offsets(text, expected):
    assert IsoDateTimeField(required=False).clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-10T09:30:00+16:00",  # PostgreSQL: "time zone displacement out of range"
        "2026-03-10T09:30:00-23:59",
        "2026-03-10T09:30:00",  # no offset
        "2026-03-10",
        "2026-03-10 09:30:00Z",
        "2026-03-10T09:30:00+05:30:15",
        "2026-02-29T09:30:00Z",
        "0000-01-01T00:00:00Z",
        "2026-03-10T24:00:00Z",
    ],
)
def test_datetime_filter_field_refuses_the_rest(text):
    with pytest.raises(ValidationError) as refused:
        IsoDateTimeField(required=False).clean(text)

    assert refused.value.messages == [
        "An RFC 3339 date-time such as 2026-03-10T09:30:00Z, with a UTC offset within +-15:59."
    ]


def test_datetime_pattern_in_the_schema_is_what_the_field_takes():
    for good in ("2026-03-10T09:30:00Z", "2026-03-10T09:30:00.123-15:59"):
        assert re.match(DATETIME_PATTERN, good)
    for bad in ("2026-03-10T09:30:00+16:00", "2026-03-10T09:30:00"):
        assert not re.match(DATETIME_PATTERN, bad)


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        (BooleanField, "true", True),
        (BooleanField, "false", False),
        (IdField, "1", 1),
        (IdField, "100000000000000000000000", 100000000000000000000000),
        (IsoDateField, "9999-12-31", dt.date(9999, 12, 31)),
    ],
)
def test_strict_filter_fields_take_what_the_schema_says(field, text, expected):
    assert field(required=False).clean(text) == expected


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        (BooleanField, "True", "Use true or false."),
        (BooleanField, "1", "Use true or false."),
        (IdField, "0", "A positive integer id."),
        (IdField, "01", "A positive integer id."),
        (IdField, " 1", "A positive integer id."),
        (IdField, "1.0", "A positive integer id."),
        (IsoDateField, "2026-3-10", "Enter a valid date."),
        (IsoDateField, "20260310", "Enter a valid date."),
        (IsoDateField, "2026-02-30", "Enter a valid date."),
    ],
)
def test_strict_filter_fields_refuse_the_rest(field, text, message):
    with pytest.raises(ValidationError) as refused:
        field(required=False).clean(text)

    assert refused.value.messages == [message]

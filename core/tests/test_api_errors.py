"""`core.api.exception_handler`: every DRF exception renders the one error shape with a plain
string `code` and `message`, whatever the shape of its `detail`."""

import pytest
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken

from core.api import exception_handler


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

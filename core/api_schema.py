"""Schema-only serializers shared by every API view's `@extend_schema(responses=...)`.

They describe what `core.api.exception_handler` renders; nothing validates with them.
"""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """`{"status": "error", "code", "message", "fields"}`: the one error shape of the API."""

    # A plain string, not an enum: a shared "status" enum would collide with resources' statuses.
    status = serializers.CharField(help_text='Always "error".')
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Offending input fields and their messages, when there are any.",
    )

    class Meta:
        ref_name = "Error"


def error_response(description: str) -> OpenApiResponse:
    """An `OpenApiResponse` carrying the shared error body, e.g. `{404: error_response("...")}`."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


ERROR_RESPONSES = {
    400: error_response("Invalid input (`code` names the problem; `fields` the inputs)."),
    401: error_response("Not authenticated."),
    403: error_response("Authenticated, but the role may not do this."),
    404: error_response("Not found, or not visible to the caller."),
}


_MORE_ERRORS = {
    409: error_response("Refused in the current state (`invalid_transition`, ...)."),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The shared error bodies for `codes`, for `@extend_schema(responses=...)`."""
    return {code: ERROR_RESPONSES.get(code) or _MORE_ERRORS[code] for code in codes}

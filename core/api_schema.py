"""Schema-only serializers shared by every API view's `@extend_schema(responses=...)`.

They describe what `core.api.exception_handler` renders; nothing validates with them.
"""

import re
from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """`{"status": "error", "code", "message", "fields"}`: the one error shape of the API."""

    # A plain string, not an enum: a shared "status" enum would collide with resources' statuses.
    status = serializers.CharField(help_text='Always "error".')
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    # DRF's metaclass moves declared fields out of the class body, so this never shadows
    # Serializer.fields at runtime; the stubs see a class attribute of another type.
    fields = serializers.DictField(  # type: ignore[assignment]
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


# --- schema post-processing (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) ----------------------

_DECIMAL_PATTERN = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


def _decimal_pattern_strict(pattern: str) -> str:
    """drf-spectacular's decimal pattern (`^-?\\d{0,N}(?:\\.\\d{0,M})?$`) also matches "" and
    "-", which DRF rejects: require at least one digit."""
    match = _DECIMAL_PATTERN.match(pattern)
    if match is None:
        return pattern
    whole, fraction = match.groups()
    return rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{fraction}}})?|\.\d{{1,{fraction}}})$"


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "decimal" and isinstance(node.get("pattern"), str):
            node["pattern"] = _decimal_pattern_strict(node["pattern"])
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def _paginated(operation: dict[str, Any]) -> None:
    """`core.pagination.StandardPagination`: `page` and `page_size` are positive integers (junk
    is a 400), a page past the end answers 404 (`Invalid page.`) and more than 500 rows per page
    means 500."""
    names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
    if "page" not in names:
        return
    for parameter in operation["parameters"]:
        if parameter.get("in") != "query":
            continue
        if parameter["name"] == "page":
            parameter["schema"] = {"type": "integer", "minimum": 1}
            parameter["description"] = "Page number, from 1."
        elif parameter["name"] == "page_size":
            parameter["schema"] = {"type": "integer", "minimum": 1}
            parameter["description"] = "Rows per page (default 50); more than 500 means 500."
    responses = operation.setdefault("responses", {})
    if "400" not in responses:
        responses["400"] = {
            "description": "`invalid`: a parameter is malformed (`fields` names it).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if "404" not in responses:
        responses["404"] = {
            "description": "`not_found`: the page is past the last one (`Invalid page.`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }


def _empty_query_params_are_absent(operation: dict[str, Any]) -> None:
    """An empty optional query parameter (`?status=`) means the parameter is not given: so
    django-filter, DRF serializers reading `request.query_params` and the pagination read it.
    Say so, or every empty value would look like invalid input that the API wrongly accepts."""
    for parameter in operation.get("parameters", []):
        if (
            parameter.get("in") == "query"
            and not parameter.get("required")
            # A multiple-choice or CSV filter refuses "" (not one of the choices).
            and parameter.get("schema", {}).get("type") != "array"
        ):
            parameter["allowEmptyValue"] = True


_NO_NUL = "^[^\\u0000]*$"


def _request_strings_without_nul(components: dict[str, Any]) -> None:
    """DRF's CharField refuses NUL characters (`Null characters are not allowed.`)."""
    for name, component in components.get("schemas", {}).items():
        if not name.endswith("Request"):
            continue
        for prop in component.get("properties", {}).values():
            targets = [prop, prop.get("items", {})] if prop.get("type") == "array" else [prop]
            for target in targets:
                if target.get("type") == "string" and not (
                    {"pattern", "format", "enum"} & target.keys()
                ):
                    target["pattern"] = _NO_NUL


def _query_strings_without_nul(operation: dict[str, Any]) -> None:
    """Django's and DRF's CharFields refuse NUL in query parameters too (django-filter's
    CharFilter, the serializers reading `request.query_params`)."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if (
            parameter.get("in") == "query"
            and schema.get("type") == "string"
            and not ({"pattern", "format", "enum"} & schema.keys())
        ):
            schema["pattern"] = _NO_NUL


def postprocess_api_schema(result: dict[str, Any], generator, **kwargs) -> dict[str, Any]:
    """Make the generated document describe exactly what the API accepts and answers."""
    _request_strings_without_nul(result.get("components", {}))
    _walk(result.get("components", {}))
    _walk(result.get("paths", {}))
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                _paginated(operation)
                _query_strings_without_nul(operation)
                if method == "get":
                    _empty_query_params_are_absent(operation)
    return result

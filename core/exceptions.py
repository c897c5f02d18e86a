"""The one domain error type. Services raise it; views and the API handler map it to HTTP."""

from typing import Any


class ApplicationError(Exception):
    """A refusal the caller can act on: machine-readable `code`, human `message`, HTTP status.

    `fields` names the offending input fields (`{"payout": ["not a decimal"]}`) when there are any.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int = 400,
        fields: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.fields = fields or {}
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "error", "code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        body.update(self.extra)
        return body


class NotFoundError(ApplicationError):
    """Missing and forbidden look the same from outside."""

    def __init__(self, message: str = "Not found.", *, code: str = "not_found") -> None:
        super().__init__(message, code=code, status=404)

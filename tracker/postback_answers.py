"""The JSON answers of the postback routes, built from a `PostbackResult`.

Keyed routes answer `{"status": "success", "message", "log_id", "result", "conversion_id"}`
(plus `reason` when rejected); refusals `{"status": "error", "message", "code", "log_id"}` (plus
`fields` when the refusal names parameters). The first integrations' keyless `GET /postback`
answers the same with a `success` boolean beside `status`, its own success message, and the
conversion's `data`. The views and the advertiser's postback tester answer with these, so the
tester shows exactly what a partner would receive.
"""

import datetime as dt
from typing import Any

from core.exceptions import ApplicationError
from tracker.services.postbacks import SUCCESS_MESSAGE, PostbackResult

LEGACY_SUCCESS_MESSAGE = "Conversion tracked successfully"


def _refusal(error: ApplicationError, result: PostbackResult, *, legacy: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": "error"}
    if legacy:
        payload["success"] = False
    payload.update(message=error.message, code=error.code, log_id=str(result.log_id))
    if error.fields:
        payload["fields"] = error.fields
    return payload


def postback_answer(result: PostbackResult) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of `/postback/<key>` and `POST /api/track/postback`."""
    if result.error is not None:
        return result.error.status, _refusal(result.error, result, legacy=False)
    payload: dict[str, Any] = {
        "status": "success",
        "message": SUCCESS_MESSAGE,
        "log_id": str(result.log_id),
        "result": result.result,
        "conversion_id": result.conversion.pk if result.conversion else None,
    }
    if result.result == "rejected":
        payload["reason"] = result.reason
    return 200, payload


def _legacy_timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def postback_answer_legacy(result: PostbackResult) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of the keyless `GET /postback`."""
    if result.error is not None:
        return result.error.status, _refusal(result.error, result, legacy=True)
    conversion = result.conversion
    data: dict[str, Any] = {"conversion_id": None}
    if conversion is not None:
        data = {
            "conversion_id": conversion.pk,
            "click_id": conversion.click.click_id,
            "affiliate_id": conversion.affiliate_id,
            "amount": str(conversion.revenue),
            "currency": conversion.currency,
            "timestamp": _legacy_timestamp(conversion.created_at),
        }
    payload: dict[str, Any] = {
        "status": "success",
        "success": True,
        "message": LEGACY_SUCCESS_MESSAGE,
        "log_id": str(result.log_id),
        "result": result.result,
        "data": data,
    }
    if result.result == "rejected":
        payload["reason"] = result.reason
    return 200, payload

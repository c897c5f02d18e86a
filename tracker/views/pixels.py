"""Conversion pixels: `/px/<key>.gif`, `/px/<key>.html` and `/px/<key>.js`.

For advertisers whose servers cannot call the postback: their conversion page loads one of these
(an image, an iframe or a script) with the postback's parameters in the query string; the click id
may be left out, the visitor's `cl_cid` cookie then supplies it (`tracker.click_cookie`). The
request is recorded by the postback service (`pixel_receive`, logged with endpoint `pixel`).

The answer is always 200 with the pixel itself, whatever the outcome (a refusal is only in the
postback log): the visitor's page must never show a broken image, a frame error or a script
error because of us, and a stranger learns nothing about keys or clicks from it. `no-store`, so
every load reaches us. HEAD gets the same answer and records nothing: browsers load pixels with
GET, and HEAD must stay free of side effects.

Limits are the postback's: no body is read, the log keeps at most POSTBACK_LOG_MAX_BYTES of the
query string, and refusals leave the log after POSTBACK_LOG_REFUSED_RETENTION_DAYS.
"""

from django.http import HttpRequest, HttpResponse

from core.net import client_ip
from tracker.click_cookie import CLICK_ID_COOKIE
from tracker.postback_params import ENDPOINT_PIXEL, PostbackInbound
from tracker.services.postbacks import pixel_receive
from tracker.views.postbacks import raw_query

# A 1x1 transparent GIF (GIF89a, one-colour palette, transparency extension): 43 bytes.
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
HTML = b'<!doctype html><meta charset="utf-8"><title>ClickLedger pixel</title>\n'
JS = b""
_ANSWERS = {
    "gif": (GIF, "image/gif"),
    "html": (HTML, "text/html; charset=utf-8"),
    "js": (JS, "application/javascript"),
}
# The iframe form is framed by the advertiser's page, which the site-wide policy
# (`frame-ancestors 'none'`) forbids; it has nothing to run or load either.
_HTML_POLICY = "default-src 'none'; frame-ancestors *"
_METHODS = ("GET", "HEAD")


def _answer(form: str) -> HttpResponse:
    body, content_type = _ANSWERS[form]
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    if form == "html":
        response["Content-Security-Policy"] = _HTML_POLICY
    return response


def pixel(request: HttpRequest, key: str, form: str) -> HttpResponse:
    """`GET /px/<key>.<gif|html|js>`: record the conversion, answer the pixel."""
    if request.method not in _METHODS:
        response = HttpResponse("Use GET.\n", status=405, content_type="text/plain; charset=utf-8")
        response["Allow"] = ", ".join(_METHODS)
        return response
    if request.method == "GET":
        pixel_receive(
            inbound=PostbackInbound(
                endpoint=ENDPOINT_PIXEL,
                method="GET",
                query_string=raw_query(request),
                body=b"",
                content_type="",
                source_ip=client_ip(request),
                path_key=key,
                cookie_click_id=request.COOKIES.get(CLICK_ID_COOKIE, ""),
            )
        )
    return _answer(form)

"""The `cl_cid` cookie: the click id the redirect leaves in the visitor's browser, for conversion
pixels that come without a click id (`tracker.views.pixels`).

One cookie per browser on the network's host, so the last click that can convert wins. Its
attributes decide whether a pixel on the advertiser's page sends it back:

- over https: `Secure; SameSite=None`, so the pixel request (an image, frame or script on the
  advertiser's site, another origin) carries it. Browsers only take SameSite=None with Secure.
- over plain http (development, tests): `SameSite=Lax`, which only comes back on requests from
  the network's own site: a landing page on another origin gets no attribution from a pixel.

Always HttpOnly: only our server reads it (the JS pixel runs on the advertiser's page, which
could not read a cookie of our host anyway). Path `/`, Max-Age the campaign's attribution window.
"""

import functools
from http.cookies import Morsel

from django.http import HttpRequest, HttpResponse

CLICK_ID_COOKIE = "cl_cid"


@functools.cache
def _attributes_text(*, secure: bool, max_age: int) -> str:
    return f"; HttpOnly; Max-Age={max_age}; Path=/; SameSite={'None; Secure' if secure else 'Lax'}"


class _ClickIdMorsel(Morsel):
    """The cookie with its `Set-Cookie` text built once per (scheme, lifetime).

    Django's `set_cookie` (which also computes an Expires date) and the standard library's
    Morsel output were the dearest part of setting this cookie on every click; Max-Age alone is
    what every current browser reads. The attributes are in the mapping too, as on any Morsel,
    for whoever reads them (the test client's cookie jar).
    """

    def OutputString(self, attrs: object = None) -> str:
        return f"{self.key}={self.coded_value}" + _attributes_text(
            secure=bool(self["secure"]), max_age=self["max-age"]
        )


def click_cookie_set(
    response: HttpResponse, *, request: HttpRequest, click_id: str, max_age: int
) -> None:
    """Put the click id in the `cl_cid` cookie of `response` (click ids need no quoting)."""
    secure = request.is_secure()
    morsel = _ClickIdMorsel()
    morsel.set(CLICK_ID_COOKIE, click_id, click_id)
    dict.update(
        morsel,
        {
            "max-age": max_age,
            "path": "/",
            "httponly": True,
            "secure": secure,
            "samesite": "None" if secure else "Lax",
        },
    )
    dict.__setitem__(response.cookies, CLICK_ID_COOKIE, morsel)

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

from django.http import HttpRequest, HttpResponse

CLICK_ID_COOKIE = "cl_cid"


def click_cookie_set(
    response: HttpResponse, *, request: HttpRequest, click_id: str, max_age: int
) -> None:
    secure = request.is_secure()
    response.set_cookie(
        CLICK_ID_COOKIE,
        click_id,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )

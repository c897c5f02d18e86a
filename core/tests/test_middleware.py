"""The tracking fast path: tracking endpoints skip the browser-session middleware, nothing else."""

import pytest

from campaigns.tests.factories import (
    SmartLinkEntryFactory,
    SmartLinkFactory,
    TrackingLinkFactory,
)
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["click-redirect", "smart-link-redirect"])
def test_click_redirect_skips_session_middleware_but_keeps_security_headers(client, settings, kind):
    settings.SECURE_CONTENT_TYPE_NOSNIFF = True
    link = TrackingLinkFactory()
    path = f"/c/{link.token}"
    if kind == "smart-link-redirect":
        smart_link = SmartLinkFactory(affiliate=link.affiliate)
        SmartLinkEntryFactory(smart_link=smart_link, campaign=link.campaign)
        path = f"/s/{smart_link.token}"

    response = client.get(path, HTTP_COOKIE="sessionid=whatever")

    assert response.status_code == 302
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Neither the session nor the auth middleware ran: no user, no Vary: Cookie, no cookie set
    # but the view's own click-id cookie.
    assert not hasattr(response.wsgi_request, "user")
    assert not hasattr(response.wsgi_request, "session")
    assert "Vary" not in response.headers
    assert list(response.cookies) == ["cl_cid"]
    assert response.wsgi_request.resolver_match.url_name == kind


def test_other_paths_still_run_the_whole_stack(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.wsgi_request.user.is_anonymous
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    ["/c/", "/c/a/b", "/s/", "/s/a/b", "/postback/", "/api/track/click/", "/px/", "/px/key.png"],
)
def test_unknown_paths_under_tracking_prefixes_answer_the_project_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == {"status": "error", "code": "not_found", "message": "Not found."}


def test_postback_by_key_post_needs_no_csrf_token(client):
    world = postback_world()
    world.campaign()
    click = world.click()
    client.handler.enforce_csrf_checks = True

    response = client.post(world.postback_path, {"click_id": click.click_id})

    assert response.status_code == 200
    assert response.json()["result"] == "created"


def test_the_pixel_skips_the_session_and_framing_middleware(client):
    response = client.get("/px/some-key.html", HTTP_COOKIE="sessionid=whatever")

    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session")
    assert "X-Frame-Options" not in response.headers
    assert response.cookies == {}
    assert response.wsgi_request.resolver_match.url_name == "pixel"

"""Outside the HTML pages (portal, admin), every error answer is the JSON error shape
`{"status": "error", "code", "message"}`: Django's own refusals (upload limit, CSRF, 405, 404 in
debug mode, 500) included. The portal and the admin keep their HTML pages."""

import json

import pytest
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.test import Client, RequestFactory

from core import api

pytestmark = pytest.mark.django_db


def _error(code: str, message: str) -> dict:
    return {"status": "error", "code": code, "message": message}


def test_an_api_body_over_the_upload_limit_is_a_json_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"email": "' + "x" * 2000 + '", "password": "p"}'

    response = client.post("/api/auth/login", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == _error(
        "body_too_large", "The request body is larger than 1000 bytes."
    )


def test_a_form_over_the_upload_limit_outside_drf_is_a_json_413(settings):
    # given CSRF checks on, with a cookie, so the middleware reads the oversized form
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32

    response = client.post("/api/analytics/postback/test", {"padding": "x" * 2000})

    assert response.status_code == 413
    assert response.json() == _error(
        "body_too_large", "The request body is larger than 1000 bytes."
    )


def test_a_csrf_failure_on_a_json_path_is_a_json_403():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/analytics/postback/test")

    assert response.status_code == 403
    assert response.json() == _error("csrf_failed", "CSRF check failed: CSRF cookie not set.")


def test_a_csrf_failure_on_a_portal_page_keeps_the_html_page():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/portal/login/", {"username": "a@b.test", "password": "x"})

    assert response.status_code == 403
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"CSRF verification failed" in response.content


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("post", "/healthz", "GET"),
        ("delete", "/healthz", "GET"),
        ("post", "/api/docs/", "GET, HEAD, OPTIONS"),
        ("put", "/api/schema/", "GET, HEAD, OPTIONS"),
    ],
)
def test_a_refused_method_is_a_json_405_with_allow(client, method, path, allow):
    response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == allow
    assert response.json() == _error(
        "method_not_allowed", f'Method "{method.upper()}" not allowed.'
    )


def test_options_on_the_api_docs_answers_json_not_a_500(client):
    response = client.options("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == "Api Docs"


def test_the_api_docs_page_itself_is_still_html(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b'<div id="swagger-ui"></div>' in response.content


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/campaigns/-1", "/postback/a/b"])
def test_an_unknown_api_url_is_a_json_404_in_debug_mode_too(client, settings, debug, path):
    settings.DEBUG = debug

    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == _error("not_found", "Not found.")


def test_an_unknown_portal_url_keeps_the_html_404(client, settings):
    settings.DEBUG = False

    response = client.get("/portal/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("debug", [False, True])
def test_an_unhandled_exception_on_a_json_path_is_a_json_500(settings, monkeypatch, debug):
    # given a database cursor that fails under /healthz
    settings.DEBUG = debug

    class BrokenConnection:
        def cursor(self):
            raise RuntimeError("boom")

    monkeypatch.setattr("core.views.connection", BrokenConnection())
    client = Client(raise_request_exception=False)

    response = client.get("/healthz")

    assert response.status_code == 500
    assert response.json() == _error("server_error", "Server error.")


@pytest.mark.parametrize(
    ("exception", "status", "body"),
    [
        (SuspiciousOperation("odd"), 400, _error("bad_request", "Bad request.")),
        (
            RequestDataTooBig("big"),
            413,
            _error("body_too_large", "The request body is larger than 2621440 bytes."),
        ),
    ],
)
def test_handler400_answers_json_outside_the_pages(exception, status, body):
    response = api.bad_request(RequestFactory().get("/api/x"), exception)

    assert (response.status_code, json.loads(response.content)) == (status, body)
    page = api.bad_request(RequestFactory().get("/portal/x"), exception)
    assert (page.status_code, page["Content-Type"]) == (400, "text/html; charset=utf-8")


def test_handler403_answers_json_outside_the_pages():
    response = api.permission_denied(RequestFactory().get("/api/x"), PermissionDenied())
    page = api.permission_denied(RequestFactory().get("/admin/x"), PermissionDenied())

    assert (response.status_code, json.loads(response.content)) == (
        403,
        _error("permission_denied", "You do not have permission to perform this action."),
    )
    assert (page.status_code, page["Content-Type"]) == (403, "text/html; charset=utf-8")


def test_handler500_answers_json_outside_the_pages():
    response = api.server_error(RequestFactory().get("/postback/key"))
    page = api.server_error(RequestFactory().get("/portal/"))

    assert (response.status_code, json.loads(response.content)) == (
        500,
        _error("server_error", "Server error."),
    )
    assert (page.status_code, page["Content-Type"]) == (500, "text/html; charset=utf-8")


def test_a_click_on_an_unknown_link_keeps_its_plain_text_404(client):
    response = client.get("/api/track/click/no-such-token")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"Not found.\n"

"""OpenAPI 3 by drf-spectacular at /api/schema/, Swagger UI at /api/docs/ with no CDN,
every operation described with its request, responses and errors."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def test_schema_generation_has_no_warnings_and_validates(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn` in its own process: the warning
    counters of drf-spectacular are process-wide, so an in-process run could see stale ones."""
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "schema.yaml"),
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    problems = [line for line in result.stderr.splitlines() if "Warning" in line or "Error" in line]
    assert (result.returncode, problems) == (0, [])
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.0.3")


def test_schema_is_served_as_openapi_3():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    body = response.json()
    assert (response.status_code, body["openapi"], body["info"]["title"]) == (
        200,
        "3.0.3",
        "ClickLedger API",
    )


def test_every_operation_documents_its_request_responses_and_errors():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            codes = {str(code) for code in operation["responses"]}
            if not operation.get("summary"):
                problems.append(f"{label}: no summary")
            if not any(code[0] in "23" for code in codes):
                problems.append(f"{label}: no success response")
            errors = sorted(code for code in codes if code[0] == "4")
            if not errors:
                problems.append(f"{label}: no error responses")
            for code in errors:
                content = operation["responses"][code].get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if not ref.endswith("/Error"):
                    problems.append(f"{label}: {code} is not the shared Error body")
            if operation.get("security") and "401" not in codes:
                problems.append(f"{label}: needs a login but documents no 401")
    assert problems == []


def test_write_operations_document_their_request_body_when_they_take_one():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    bodies = {
        f"{method.upper()} {path}": sorted(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }
    # JSON only (SPECTACULAR_SETTINGS["PARSER_WHITELIST"]), and the inputs are there.
    assert set(map(tuple, bodies.values())) == {("application/json",)}
    for label in (
        "POST /api/auth/register",
        "POST /api/auth/login",
        "POST /api/campaigns",
        "PATCH /api/campaigns/{campaign_id}",
        "POST /api/campaigns/{campaign_id}/invite",
        "POST /api/partner-keys",
        "POST /api/conversions/{conversion_id}/status",
        "POST /api/postback-endpoints",
        "POST /api/payouts",
        "POST /api/payouts/{payout_id}/mark-paid",
    ):
        assert label in bodies


_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_swagger_ui_uses_only_local_assets_and_they_are_served():
    client = Client()
    page = client.get("/api/docs/")
    html = page.content.decode()

    assets = _ASSET.findall(html)
    served = {asset: client.get(asset).status_code for asset in assets}
    # The start-up script comes from the page's own URL (no inline script: the CSP forbids it).
    script = client.get("/api/docs/?script=")

    assert page.status_code == 200
    assert re.findall(r"""(?:https?:)?//[\w.-]+""", html) == []  # no CDN, no absolute URL
    assert assets  # the bundle, the preset, the stylesheets, the icon and the start-up script
    assert all(asset.startswith(("/static/", "/api/docs/?script=")) for asset in assets)
    assert served == dict.fromkeys(assets, 200)
    assert script["Content-Type"] == "application/javascript"
    # Swagger UI's default online validator would fetch validator.swagger.io: switched off.
    assert '"validatorUrl": null' in script.content.decode()


def test_an_unknown_api_url_answers_the_json_error_shape():
    """Needs `handler404 = "core.api.page_not_found"` in config/urls.py."""
    response = Client().get("/api/campaigns/-1")

    assert (response.status_code, response["Content-Type"], response.json()) == (
        404,
        "application/json",
        {"status": "error", "code": "not_found", "message": "Not found."},
    )

"""Accessibility basics in the markup of every page: labelled inputs, headings in order, visible
focus styles, our own stylesheet."""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from campaigns.tests.factories import network
from forwarding.tests.factories import PostbackEndpointFactory
from portal.tests.factories import ADVERTISER_PAGES, AFFILIATE_PAGES, portal_client


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[str] = []
        self.unlabelled: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self.labels.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") not in (
            "hidden",
            "submit",
        ):
            if attributes.get("id"):
                self.controls.append(attributes["id"])
            elif not attributes.get("aria-label"):
                self.unlabelled.append(f"{tag} {attributes.get('name')}")
        if tag in ("h1", "h2", "h3", "h4"):
            self.headings.append(int(tag[1]))


def _audit(html: str) -> _Audit:
    audit = _Audit()
    audit.feed(html)
    return audit


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url"),
    [("advertiser1", url) for url in ADVERTISER_PAGES]
    + [("affiliate1", url) for url in AFFILIATE_PAGES]
    + [("anonymous", "/portal/login/"), ("anonymous", "/portal/signup/")]
    + [("anonymous", "/portal/auth/password_reset/")],
)
def test_every_input_has_a_label_and_headings_are_in_order(role, url):
    net = network()
    PostbackEndpointFactory(affiliate=net.affiliate1)

    audit = _audit(portal_client(net, role).get(url).content.decode())

    assert audit.unlabelled == []
    assert [control for control in audit.controls if control not in audit.labels] == []
    assert audit.headings[0] == 1
    assert audit.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(audit.headings, audit.headings[1:], strict=False))


def test_focus_styles_are_visible():
    css = (Path(__file__).parents[1] / "static" / "portal" / "portal.css").read_text()

    assert ":focus-visible { outline: 3px solid var(--focus)" in css


@pytest.mark.django_db
def test_stylesheet_is_served_from_our_static_files():
    response = Client().get("/static/portal/portal.css")

    assert response.status_code == 200

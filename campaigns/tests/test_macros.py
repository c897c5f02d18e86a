from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.macros import (
    LANDING_MACROS,
    TemplateError,
    template_fill,
    template_macros,
    template_validate,
)


def _refusal(template: str) -> str:
    with pytest.raises(TemplateError) as excinfo:
        template_validate(template, allowed=LANDING_MACROS)
    return str(excinfo.value)


def test_template_validate_accepts_macros_in_path_query_and_fragment():
    template_validate(
        "https://adv.example:8443/lp/{campaign_id}?cid={click_id}&s1={sub1}#{country}",
        allowed=LANDING_MACROS,
    )


def test_template_validate_refuses_unknown_macros_naming_each():
    message = _refusal("https://adv.example/?a={clickid}&b={payout}&c={click_id}&d={payout}")

    assert message == "Unknown macro(s): {clickid}, {payout}."


@pytest.mark.parametrize(
    "template",
    ["javascript:alert(1)", "ftp://adv.example/x", "//adv.example/x", "adv.example/{click_id}"],
)
def test_template_validate_refuses_schemes_other_than_http_and_https(template):
    assert _refusal(template) == (
        f"The URL must start with http:// or https:// (got {template!r})."
    )


@pytest.mark.parametrize(
    "template",
    [
        "https://{sub1}.adv.example/",
        "https://adv.example:{sub1}/",
        "https://{sub1}@adv.example/",
        "https://adv{country}/",
    ],
)
def test_template_validate_refuses_macros_in_the_host_or_port(template):
    assert _refusal(template) == "Macros may not be used in the host or port."


def test_template_validate_refuses_a_url_without_host_or_with_a_bad_port():
    assert _refusal("https:///path") == "The URL has no host."
    assert _refusal("https://adv.example:99999/") == (
        "The URL's port is not a number between 1 and 65535."
    )


def test_template_macros_lists_macros_in_order():
    assert template_macros("https://a.example/{sub1}?x={click_id}&y={sub1}") == [
        "sub1",
        "click_id",
        "sub1",
    ]


def test_template_fill_percent_encodes_every_reserved_character():
    filled = template_fill(
        "https://adv.example/lp/{sub2}?cid={click_id}&s={sub1}&u={user_id}",
        {
            "click_id": "abc_-.~",
            "sub1": "a&b=c?d#e@f:g/h",
            "sub2": "../admin",
            "user_id": None,
        },
    )

    assert filled == (
        "https://adv.example/lp/..%2Fadmin?cid=abc_-.~&s=a%26b%3Dc%3Fd%23e%40f%3Ag%2Fh&u="
    )


def test_template_fill_leaves_macros_without_a_value_untouched():
    assert template_fill("https://a.example/?c={click_id}", {}) == "https://a.example/?c={click_id}"


PATH_TEMPLATE = "https://adv.example:8443/offers/{sub2}/lp?cid={click_id}&s1={sub1}#{sub3}"


@given(click_id=st.text(), sub1=st.text(), sub2=st.text(min_size=1), sub3=st.text())
def test_template_fill_never_changes_scheme_host_port_or_path_shape(click_id, sub1, sub2, sub3):
    values = {"click_id": click_id, "sub1": sub1, "sub2": sub2, "sub3": sub3}

    parts = urlsplit(template_fill(PATH_TEMPLATE, values))

    assert parts.scheme == "https"
    assert parts.netloc == "adv.example:8443"
    assert parts.hostname == "adv.example"
    segments = parts.path.split("/")
    assert len(segments) == 4
    assert (segments[0], segments[1], segments[3]) == ("", "offers", "lp")
    assert unquote(segments[2]) == sub2
    assert parts.query.split("&")[0].split("=", 1)[0] == "cid"
    assert len(parts.query.split("&")) == 2
    assert unquote(parts.query.split("&")[1].split("=", 1)[1]) == sub1
    assert unquote(parts.fragment) == sub3

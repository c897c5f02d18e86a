import pytest

from campaigns.targeting import targeting_clean, targeting_summary
from campaigns.terms import Invalid


def test_targeting_clean_normalizes_every_part():
    cleaned = targeting_clean(
        {
            "countries": {"include": ["ca", " US", "CA"]},
            "device_types": {"include": ["Tablet", "mobile"]},
            "os": {"exclude": ["windows", "Tizen  OS"]},
            "browsers": {"include": ["chrome", "SAFARI"]},
            "ip_allow": ["10.1.2.3/24", "2001:db8::1", "192.0.2.7"],
            "ip_deny": [" 2001:DB8::/32 "],
            "schedule": {"days": [4, 0, 1, 1], "hours": [19, 8, 9]},
        }
    )

    assert cleaned == {
        "countries": {"include": ["CA", "US"]},
        "device_types": {"include": ["mobile", "tablet"]},
        "os": {"exclude": ["Tizen OS", "Windows"]},
        "browsers": {"include": ["Chrome", "Safari"]},
        "ip_allow": ["10.1.2.0/24", "192.0.2.7/32", "2001:db8::1/128"],
        "ip_deny": ["2001:db8::/32"],
        "schedule": {"days": [0, 1, 4], "hours": [8, 9, 19]},
    }


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"countries": {"include": []}},
        {"os": {"exclude": []}, "ip_allow": [], "ip_deny": []},
        {"schedule": {}},
        {"schedule": {"days": [0, 1, 2, 3, 4, 5, 6], "hours": list(range(24))}},
        {"schedule": {"days": [], "hours": []}},
    ],
)
def test_targeting_clean_stores_no_rule_as_an_empty_object(raw):
    assert targeting_clean(raw) == {}


def test_targeting_clean_drops_only_the_part_that_covers_everything():
    assert targeting_clean({"schedule": {"days": list(range(7)), "hours": [8]}}) == {
        "schedule": {"hours": [8]}
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "targeting: must be an object"),
        ({"country": {}}, "targeting: unknown part(s) country; known: countries, device_types"),
        ({"countries": ["US"]}, 'targeting.countries: must be {"include": [...]} or'),
        ({"countries": {"include": ["US"], "exclude": ["CA"]}}, "targeting.countries: must be"),
        ({"countries": {"only": ["US"]}}, "targeting.countries: must be"),
        ({"countries": {"include": "US"}}, "targeting.countries.include: must be a list"),
        ({"countries": {"include": ["USA"]}}, "targeting.countries.include: not a 2-letter"),
        ({"device_types": {"include": ["phone"]}}, "targeting.device_types.include: unknown"),
        ({"os": {"include": [""]}}, "targeting.os.include: not a name of 1 to 64"),
        ({"browsers": {"exclude": ["x" * 65]}}, "targeting.browsers.exclude: not a name"),
        ({"ip_allow": "10.0.0.0/8"}, "targeting.ip_allow: must be a list"),
        ({"ip_allow": ["10.0.0.0/33"]}, "targeting.ip_allow: not an IPv4 or IPv6 address"),
        ({"ip_deny": ["example.com"]}, "targeting.ip_deny: not an IPv4 or IPv6 address"),
        ({"ip_deny": [7]}, "targeting.ip_deny: not an IPv4 or IPv6 address"),
        ({"schedule": []}, "targeting.schedule: must be"),
        ({"schedule": {"weeks": [1]}}, "targeting.schedule: must be"),
        ({"schedule": {"days": [7]}}, "targeting.schedule.days: whole numbers from 0 to 6"),
        ({"schedule": {"hours": [24]}}, "targeting.schedule.hours: whole numbers from 0 to 23"),
        ({"schedule": {"hours": ["8"]}}, "targeting.schedule.hours: whole numbers"),
        ({"schedule": {"hours": [True]}}, "targeting.schedule.hours: whole numbers"),
        ({"ip_allow": ["10.0.0.1"] * 1001}, "targeting.ip_allow: at most 1000 entries"),
    ],
)
def test_targeting_clean_names_the_part_that_is_wrong(raw, message):
    with pytest.raises(Invalid) as error:
        targeting_clean(raw)

    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("targeting", "summary"),
    [
        ({}, "everyone, any time"),
        (
            {
                "device_types": {"include": ["mobile"]},
                "os": {"include": ["Android", "iOS"]},
                "countries": {"include": ["CA", "US"]},
                "schedule": {"days": [0, 1, 2, 3, 4], "hours": list(range(8, 20))},
            },
            "mobile Android/iOS in CA, US; weekdays 08\u201320 local",
        ),
        ({"countries": {"exclude": ["CN", "RU"]}}, "outside CN, RU"),
        (
            {"device_types": {"exclude": ["bot"]}, "browsers": {"include": ["Chrome"]}},
            "non-bot Chrome",
        ),
        ({"schedule": {"days": [5, 6]}}, "weekends"),
        ({"schedule": {"days": [0, 2, 3, 4, 6]}}, "Mon, Wed\u2013Fri, Sun"),
        (
            {"schedule": {"hours": [0, 1, 22, 23]}},
            "every day 00\u201302, 22\u201324 local",
        ),
        (
            {"ip_allow": ["10.0.0.0/8"], "ip_deny": ["10.1.0.0/16", "10.2.0.0/16"]},
            "IPs in 1 range; 2 ranges denied",
        ),
    ],
)
def test_targeting_summary(targeting, summary):
    assert targeting_summary(targeting) == summary

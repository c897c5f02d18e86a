import datetime as dt

import pytest

from tracker.targeting import targeting_block_reason

# Wednesday 2026-03-04 23:30 UTC is Thursday 00:30 in Berlin (UTC+1) and Wednesday 15:30 in Los
# Angeles (UTC-8).
NOW = dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC)
CLICK = {
    "country": "US",
    "device_type": "mobile",
    "os": "Android",
    "browser": "Chrome",
    "ip": "203.0.113.9",
    "now": NOW,
    "timezone": "UTC",
}


def _reason(targeting, **overrides):
    return targeting_block_reason(targeting, **{**CLICK, **overrides})


@pytest.mark.parametrize(
    ("targeting", "overrides", "reason"),
    [
        ({}, {}, None),
        ({"countries": {"include": ["US", "CA"]}}, {}, None),
        ({"countries": {"include": ["CA"]}}, {}, "countries"),
        ({"countries": {"include": ["US"]}}, {"country": ""}, "countries"),
        ({"countries": {"exclude": ["US"]}}, {}, "countries"),
        ({"countries": {"exclude": ["US"]}}, {"country": ""}, None),
        ({"device_types": {"include": ["desktop"]}}, {}, "device_types"),
        ({"device_types": {"exclude": ["bot"]}}, {}, None),
        ({"device_types": {"exclude": ["bot"]}}, {"device_type": "bot"}, "device_types"),
        ({"os": {"include": ["iOS"]}}, {}, "os"),
        ({"os": {"include": ["android"]}}, {}, None),
        ({"os": {"include": ["Android"]}}, {"os": ""}, "os"),
        ({"os": {"exclude": ["Windows"]}}, {"os": ""}, None),
        ({"browsers": {"include": ["Safari"]}}, {}, "browsers"),
        ({"browsers": {"exclude": ["Chrome"]}}, {}, "browsers"),
        ({"ip_allow": ["203.0.113.0/24"]}, {}, None),
        ({"ip_allow": ["198.51.100.0/24"]}, {}, "ip_allow"),
        ({"ip_allow": ["203.0.113.0/24"]}, {"ip": None}, "ip_allow"),
        ({"ip_allow": ["203.0.113.0/24"]}, {"ip": "::ffff:203.0.113.9"}, None),
        ({"ip_allow": ["2001:db8::/32"]}, {"ip": "2001:db8:1::7"}, None),
        ({"ip_allow": ["2001:db8::/32"]}, {"ip": "2001:db9::7"}, "ip_allow"),
        ({"ip_allow": ["2001:db8::/32"]}, {}, "ip_allow"),
        ({"ip_deny": ["203.0.113.9/32"]}, {}, "ip_deny"),
        ({"ip_deny": ["203.0.113.0/24"]}, {"ip": "not an ip"}, None),
        ({"ip_deny": ["2001:db8::/32"]}, {"ip": "2001:db8::1"}, "ip_deny"),
        ({"ip_allow": ["203.0.0.0/16"], "ip_deny": ["203.0.113.0/24"]}, {}, "ip_deny"),
        ({"schedule": {"days": [2]}}, {}, None),
        ({"schedule": {"days": [2]}}, {"timezone": "Europe/Berlin"}, "schedule"),
        ({"schedule": {"days": [3], "hours": [0]}}, {"timezone": "Europe/Berlin"}, None),
        ({"schedule": {"hours": [15]}}, {"timezone": "America/Los_Angeles"}, None),
        ({"schedule": {"hours": [23]}}, {"timezone": "America/Los_Angeles"}, "schedule"),
        (
            {"countries": {"include": ["CA"]}, "schedule": {"days": [0]}},
            {},
            "countries",
        ),
    ],
)
def test_targeting_block_reason(targeting, overrides, reason):
    assert _reason(targeting, **overrides) == reason

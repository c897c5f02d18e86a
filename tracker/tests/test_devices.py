import pytest

from campaigns.targeting import DEVICE_TYPES
from tracker.devices import MAX_AGENT_LENGTH, DeviceInfo, _device_parse_cached, device_parse
from tracker.models import DeviceType

# Real user agents, as browsers, crawlers and tools send them.
AGENTS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/120.0.0.0 Safari/537.36",
        ("desktop", "Windows", "Chrome"),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/17.1 Safari/605.1.15",
        ("desktop", "macOS", "Safari"),
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        ("desktop", "Linux", "Firefox"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        ("mobile", "iOS", "Safari"),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/16.6 Mobile/15E148 Safari/604.1",
        ("tablet", "iOS", "Safari"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/120.0.6099.144 Mobile Safari/537.36",
        ("mobile", "Android", "Chrome"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko)"
        " SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        ("mobile", "Android", "Samsung Internet"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/120.0.0.0 Safari/537.36",
        ("tablet", "Android", "Chrome"),
    ),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ("bot", "", "Googlebot"),
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        ("bot", "", "bingbot"),
    ),
    ("curl/8.4.0", ("bot", "", "curl")),
    ("python-requests/2.31.0", ("bot", "", "Python Requests")),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " HeadlessChrome/120.0.0.0 Safari/537.36",
        ("bot", "Linux", "HeadlessChrome"),
    ),
    ("", ("other", "", "")),
    ("SomeApp/1.0", ("other", "", "")),
]


@pytest.mark.parametrize(("agent", "expected"), AGENTS)
def test_device_parse_names_device_type_os_and_browser(agent, expected):
    assert device_parse(agent) == DeviceInfo(*expected)


def test_device_parse_cuts_long_agents_before_caching():
    chrome = AGENTS[0][0]
    _device_parse_cached.cache_clear()

    padded = chrome + " x" * MAX_AGENT_LENGTH
    first = device_parse(padded + " one ending")
    second = device_parse(padded + " another, megabytes long" * 10_000)

    assert first == second == DeviceInfo("desktop", "Windows", "Chrome")
    info = _device_parse_cached.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)


def test_device_parse_cache_is_bounded():
    assert _device_parse_cached.cache_info().maxsize == 4096


def test_targeting_device_types_are_the_click_device_types():
    assert list(DEVICE_TYPES) == list(DeviceType.values)

"""A click's device type, operating system and browser, from its user agent.

Parsed by `ua-parser` (the maintained Python port of the uap-core rules that most analytics tools
share), with its native matcher `ua-parser-rs` when installed: the pure-Python matcher tries the
rules one by one and costs milliseconds on an agent it has not seen, the native one a tenth of a
millisecond. Real traffic repeats a few thousand agents, so results are kept in a bounded LRU
cache; an agent is cut to `MAX_AGENT_LENGTH` characters before it is parsed or cached, so one
visitor sending megabytes of header cannot make the cache hold them.

The names are ua-parser's families, with a few folded so targeting lists stay short: the
mobile builds of a browser carry the browser's name (`Mobile Safari` -> `Safari`, `Chrome Mobile`
-> `Chrome`), since `device_type` already says mobile, and `Mac OS X` is `macOS`.
"""

import functools
import re
from typing import NamedTuple

import ua_parser

from tracker.models import DeviceType

MAX_AGENT_LENGTH = 512
CACHE_SIZE = 4096

# Crawlers ua-parser tags as device family "Spider" are bots; these catch HTTP tools and
# headless browsers it leaves untagged.
_TOOL_PATTERN = re.compile(
    r"\b(?:curl|wget|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java/"
    r"|libwww-perl|scrapy|axios|node-fetch|headlesschrome|phantomjs)",
    re.IGNORECASE,
)
# Applied only when ua-parser recognised no device, so a phone model such as "CUBOT X19" is not
# taken for a bot.
_BOT_WORDS = re.compile(r"bot\b|crawl|spider|slurp", re.IGNORECASE)

_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Symbian OS", "Firefox OS"}
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Chrome OS",
        "Fedora",
        "Debian",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)
_TABLET_FAMILIES = frozenset({"iPad", "Kindle"})

_OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
_BROWSER_NAMES = {
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
}


class DeviceInfo(NamedTuple):
    device_type: str  # a tracker.models.DeviceType value
    os: str  # "" when unknown
    browser: str  # "" when unknown


_UNKNOWN = DeviceInfo(DeviceType.OTHER.value, "", "")
_FIELD_LENGTH = 64  # Click.os and Click.browser


@functools.cache
def _parser() -> ua_parser.Parser:
    """Without ua-parser's own cache: `device_parse` caches whole answers."""
    native = ua_parser.RegexResolver is not None or ua_parser.Re2Resolver is not None
    matchers = ua_parser.load_lazy_builtins() if native else ua_parser.load_builtins()
    return ua_parser.Parser(ua_parser.BestAvailableResolver(matchers))


def device_parser_warm() -> None:
    """Compile the rules now (about half a second) rather than on a web worker's first click."""
    _parser().parse("Mozilla/5.0")


def _family(value: object) -> str:
    family = getattr(value, "family", "") or ""
    return "" if family == "Other" else family


def device_parse(user_agent: str) -> DeviceInfo:
    """(device_type, os, browser) of `user_agent`; an empty agent is `other` with no names."""
    if not user_agent:
        return _UNKNOWN
    return _device_parse_cached(user_agent[:MAX_AGENT_LENGTH])


@functools.lru_cache(maxsize=CACHE_SIZE)
def _device_parse_cached(user_agent: str) -> DeviceInfo:
    result = _parser().parse(user_agent)
    os_family = _family(result.os)
    browser_family = _family(result.user_agent)
    device_family = _family(result.device)
    os_name = _OS_NAMES.get(os_family, os_family)[:_FIELD_LENGTH]
    browser = _BROWSER_NAMES.get(browser_family, browser_family)[:_FIELD_LENGTH]
    if (
        device_family == "Spider"
        or _TOOL_PATTERN.search(user_agent)
        or (not device_family and _BOT_WORDS.search(user_agent))
    ):
        return DeviceInfo(DeviceType.BOT.value, os_name, browser)
    return DeviceInfo(
        _device_type(
            user_agent=user_agent,
            os_family=os_family,
            device_family=device_family,
            device_brand=getattr(result.device, "brand", "") or "",
        ),
        os_name,
        browser,
    )


def _device_type(*, user_agent: str, os_family: str, device_family: str, device_brand: str) -> str:
    if (
        device_family in _TABLET_FAMILIES
        or "Tablet" in device_brand
        or "Tablet" in user_agent
        # Android browsers say "Mobile" on phones and leave it out on tablets.
        or (os_family == "Android" and "Mobile" not in user_agent)
    ):
        return DeviceType.TABLET.value
    if os_family in _MOBILE_OS or "Mobi" in user_agent:
        return DeviceType.MOBILE.value
    if os_family in _DESKTOP_OS:
        return DeviceType.DESKTOP.value
    return DeviceType.OTHER.value

"""URL templates with `{macro}` placeholders: linted when saved, filled with percent-encoding.

Every value is percent-encoded with no safe characters, so a value can never add a `/`, `?`,
`#`, `@` or `:` and change the scheme, host, port or path of the template it is put into.
"""

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit

MACRO_PATTERN = re.compile(r"\{([A-Za-z0-9_]+)\}")

LANDING_MACROS = frozenset(
    {
        "click_id",
        "affiliate_id",
        "campaign_id",
        "offer_id",
        "sub1",
        "sub2",
        "sub3",
        "sub4",
        "sub5",
        "user_id",
        "country",
    }
)


class TemplateError(ValueError):
    """A template that cannot be saved; the message names what is wrong."""


def template_macros(template: str) -> list[str]:
    return MACRO_PATTERN.findall(template)


def template_validate(template: str, *, allowed: Iterable[str]) -> None:
    """Refuse unknown macros, non-http(s) schemes, and macros outside path/query/fragment."""
    allowed_set = set(allowed)
    unknown = sorted({name for name in template_macros(template) if name not in allowed_set})
    if unknown:
        raise TemplateError(
            "Unknown macro(s): " + ", ".join("{" + name + "}" for name in unknown) + "."
        )
    skeleton = MACRO_PATTERN.sub("x", template)
    parts = urlsplit(skeleton)
    if parts.scheme not in ("http", "https"):
        raise TemplateError(f"The URL must start with http:// or https:// (got {template!r}).")
    if not parts.hostname:
        raise TemplateError("The URL has no host.")
    original = urlsplit(template)
    if MACRO_PATTERN.search(original.netloc):
        raise TemplateError("Macros may not be used in the host or port.")
    try:
        _ = parts.port
    except ValueError as exc:
        raise TemplateError("The URL's port is not a number between 1 and 65535.") from exc


def template_fill(template: str, values: Mapping[str, object]) -> str:
    """Replace each known `{macro}` by its percent-encoded value ("" when missing)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return quote("" if value is None else str(value), safe="")

    return MACRO_PATTERN.sub(replace, template)

"""Template filters for numbers people read, in the request's locale (`core.formatting`).

Installed as a template builtin (settings `TEMPLATES` → `builtins`), so every template has them
without `{% load %}`:

    {{ conversion.payout|money:conversion.currency }}   $1,234.50 · 1.234,50 € · ¥1,235
    {{ campaign.revshare_percent|percent }}             80.00% (the value is in percent)
    {{ summary.clicks|number }}                         12,345
    {{ row.points|number:2 }}                           4.78

An empty value (None or "") reads as an en dash, like every other empty cell.
"""

from decimal import Decimal

from django import template

from core.formatting import format_money, format_number, format_percent

register = template.Library()

EMPTY = "\N{EN DASH}"


def _is_empty(value: object) -> bool:
    return value is None or value == ""


@register.filter(is_safe=False)
def money(amount: Decimal | int | None, currency: str) -> str:
    return EMPTY if _is_empty(amount) else format_money(amount, currency)


@register.filter(is_safe=False)
def percent(value: Decimal | int | None) -> str:
    return EMPTY if _is_empty(value) else format_percent(value)


@register.filter(is_safe=False)
def number(value: Decimal | int | None, places: int = 0) -> str:
    return EMPTY if _is_empty(value) else format_number(value, places=int(places))

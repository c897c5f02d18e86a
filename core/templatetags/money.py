"""Template filters for numbers people read, in the request's locale (`core.formatting`).

Installed as a template builtin (settings `TEMPLATES` → `builtins`), so every template has them
without `{% load %}`:

    {{ conversion.payout|money:conversion.currency }}   $1,234.50 · 1.234,50 € · ¥1,235
    {{ campaign.revshare_percent|percent }}             80.00% (the value is in percent)
    {{ summary.clicks|number }}                         12,345
    {{ row.points|number:2 }}                           4.78

An empty value (None or "") reads as an en dash, like every other empty cell.
"""

from django import template

from core.formatting import Number, format_money, format_number, format_percent

register = template.Library()

EMPTY = "\N{EN DASH}"


@register.filter(is_safe=False)
def money(amount: Number | None, currency: str) -> str:
    if amount is None or amount == "":
        return EMPTY
    return format_money(amount, currency)


@register.filter(is_safe=False)
def percent(value: Number | None) -> str:
    if value is None or value == "":
        return EMPTY
    return format_percent(value)


@register.filter(is_safe=False)
def number(value: Number | None, places: int = 0) -> str:
    if value is None or value == "":
        return EMPTY
    return format_number(value, places=int(places))

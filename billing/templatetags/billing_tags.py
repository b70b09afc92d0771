from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


@register.filter
def money(cents: int | None, currency: str = "usd") -> str:
    """1990_00 cents → "$1,990"; amounts with cents keep them ("$12.50")."""
    if cents is None:
        return "—"
    symbol = CURRENCY_SYMBOLS.get((currency or "usd").lower(), "")
    whole, rest = divmod(int(cents), 100)
    text = intcomma(whole) if not rest else f"{intcomma(whole)}.{rest:02d}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


@register.filter
def entitlement_label(name: str) -> str:
    """`priority_support` → "Priority support"."""
    return name.replace("_", " ").capitalize()

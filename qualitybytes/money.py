"""The one money formatter: amounts are integer cents, as Stripe charges them.

(The Stripe simulator keeps its own: it is a separate package that does not import the project.)
"""

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def money(cents: int | float | None, currency: str = "usd", *, always_cents: bool = False) -> str:
    """1990_00 → "$1,990", 1250 → "$12.50", 500 CHF → "5 CHF"; `always_cents` keeps ".00" (figures)."""
    if cents is None:
        return "—"
    currency = currency or "usd"
    whole, rest = divmod(round(cents), 100)
    text = f"{whole:,}.{rest:02d}" if rest or always_cents else f"{whole:,}"
    symbol = CURRENCY_SYMBOLS.get(currency.lower(), "")
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def decimal_amount(cents: int) -> str:
    """12000 → "120.00": for files a program reads (the CSV export), no symbol, no separators."""
    return f"{cents / 100:.2f}"

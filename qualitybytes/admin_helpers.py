"""Small pieces the apps' admin pages share: read-only tables, times, Stripe dashboard links."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html, format_html_join


def html_table(headers: list[str], rows: list[tuple], empty: str):
    if not rows:
        return format_html('<p class="qb-empty">{}</p>', empty)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows)
    )
    return format_html(
        '<table class="qb-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body
    )


def local_time(value: datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "—"


def stripe_dashboard_url(kind: str, stripe_id: str, *, livemode: bool | None = None) -> str:
    """A link into the Stripe dashboard; test-mode objects live under /test/."""
    if livemode is None:
        livemode = settings.STRIPE_LIVE_MODE
    return f"https://dashboard.stripe.com/{'' if livemode else 'test/'}{kind}/{stripe_id}"

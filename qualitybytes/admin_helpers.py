"""Small pieces the apps' admin pages share: read-only tables and inlines, badges, option filters,
correlated counts, times, Stripe dashboard links."""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, IntegerField, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
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
    """The time in the site's one format (DATETIME_FORMAT: "3 Mar 2026, 14:05"), or a dash."""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "—"


def stripe_dashboard_url(kind: str, stripe_id: str, *, livemode: bool | None = None) -> str:
    """A link into the Stripe dashboard; test-mode objects live under /test/."""
    if livemode is None:
        livemode = settings.STRIPE_LIVE_MODE
    return f"https://dashboard.stripe.com/{'' if livemode else 'test/'}{kind}/{stripe_id}"


def badge(label: str, tone: str):
    """A coloured pill (`qb-badge-<tone>`: ok, warn, bad, off, info, or warning for a flag)."""
    return format_html('<span class="qb-badge qb-badge-{}">{}</span>', tone, label)


def count_of(queryset, group: str):
    """A correlated COUNT(*) of `queryset` (filtered on the outer row through `group`), 0 when empty."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class OptionsFilter(admin.SimpleListFilter):
    """A list filter whose `options` map each value to (label, condition): a Q, or a function of the
    queryset that narrows it (for conditions computed per request, such as "now")."""

    options: dict[str, tuple[str, Q | Callable]] = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.options.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.options:
            return queryset
        condition = self.options[self.value()][1]
        return queryset.filter(condition) if isinstance(condition, Q) else condition(queryset)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under an object, never added or deleted here: every field is read-only but those in
    `editable`; `select` is their select_related."""

    extra = 0
    can_delete = False
    editable: list[str] = []
    select: list[str] = []

    def get_readonly_fields(self, request, obj=None):
        return [name for name in self.fields if name not in self.editable]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.select)

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written elsewhere (a log, a service with rules): staff look, nobody adds, edits or deletes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

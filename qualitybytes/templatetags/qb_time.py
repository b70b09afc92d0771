"""Times as people say them: "just now", "5 minutes ago", then the date ("3 Mar 2026, 14:05")."""

from datetime import datetime, timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()

JUST_NOW = timedelta(minutes=1)
RECENT = timedelta(days=1)


@register.filter
def ago(value: datetime | None, never: str = "never") -> str:
    """How long ago `value` was: "just now" under a minute, naturaltime under a day, else the date
    and time in the site's format; `never` (the argument) for no time at all."""
    if value is None or value == "":
        return never
    elapsed = timezone.now() - value
    if elapsed < JUST_NOW:
        return "just now"
    if elapsed < RECENT:
        return naturaltime(value)
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")

"""The validation log and daily usage: written by the validation path, read-only here (staff look,
nobody edits)."""

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html

from licensing.admin.common import KeyColumns
from licensing.models import (
    VALID_CODES,
    UsageDaily,
    ValidationCode,
    ValidationEvent,
)
from qualitybytes.admin_helpers import (
    OptionsFilter,
    ReadOnlyAdmin,
)


class FailuresFilter(OptionsFilter):
    title = "outcome"
    parameter_name = "outcome"
    options = {
        "failed": ("Failed (not valid)", ~Q(code__in=VALID_CODES)),
        "valid": ("Valid or grace", Q(code__in=VALID_CODES)),
    }


class CodeFilter(admin.SimpleListFilter):
    """Filters by the code itself ("TOO_MANY_DEVICES"), as the API and the client log it; the
    field's choices would list the sentences instead. The parameter stays `code__exact`, which the
    admin dashboard's failure table links with."""

    title = "code"
    parameter_name = "code__exact"

    def lookups(self, request, model_admin):
        return [(code.value, code.value) for code in ValidationCode]

    def queryset(self, request, queryset):
        return queryset.filter(code=self.value()) if self.value() else queryset


@admin.register(ValidationEvent)
class ValidationEventAdmin(KeyColumns, ReadOnlyAdmin):
    list_display = ["created_at", "code_column", "masked_key", "holder", "fingerprint", "ip"]
    list_filter = [FailuresFilter, CodeFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["key__holder"]
    search_fields = ["^key__prefix", "key__holder__email", "=fingerprint", "=ip"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="code", ordering="code")
    def code_column(self, event):
        return format_html('<code title="{}">{}</code>', event.get_code_display(), event.code)

    def lookup_allowed(self, lookup, value, request=None):
        # The license page links here with its validations.
        return lookup == "key__license__id__exact" or super().lookup_allowed(lookup, value, request)


@admin.register(UsageDaily)
class UsageDailyAdmin(KeyColumns, ReadOnlyAdmin):
    list_display = ["day", "masked_key", "holder", "feature", "count"]
    list_filter = ["feature", ("day", admin.DateFieldListFilter)]
    list_select_related = ["key__holder"]
    search_fields = ["^key__prefix", "key__holder__email", "=feature"]
    date_hierarchy = "day"
    show_full_result_count = False

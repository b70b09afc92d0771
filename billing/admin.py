from django.contrib import admin

from billing.models import Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "access_level",
        "seats",
        "devices_per_seat",
        "monthly_amount",
        "yearly_amount",
        "grace_days",
        "is_public",
        "sort_order",
    ]
    list_editable = ["is_public", "sort_order"]
    list_filter = ["access_level", "is_public"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

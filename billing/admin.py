from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from billing.models import Plan
from licensing.models import License, LicenseStatus


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "access_level",
        "seats",
        "devices_per_seat",
        "monthly_price",
        "yearly_price",
        "grace_days",
        "subscriptions",
        "is_public",
        "sort_order",
    ]
    list_editable = ["is_public", "sort_order"]
    list_filter = ["access_level", "is_public"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        live = (
            License.objects.filter(
                plan=OuterRef("pk"),
                stripe_subscription_id__isnull=False,
                status__in=[LicenseStatus.ACTIVE, LicenseStatus.GRACE],
            )
            .order_by()
            .values("plan")
            .annotate(n=Count("pk", filter=Q(revoked_at__isnull=True)))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(subscription_count=Coalesce(Subquery(live, output_field=IntegerField()), 0))
        )

    @admin.display(description="monthly", ordering="monthly_amount")
    def monthly_price(self, obj: Plan) -> str:
        return f"{obj.monthly_amount / 100:,.2f} {obj.currency.upper()}"

    @admin.display(description="yearly", ordering="yearly_amount")
    def yearly_price(self, obj: Plan) -> str:
        return f"{obj.yearly_amount / 100:,.2f} {obj.currency.upper()}"

    @admin.display(description="live subscriptions", ordering="subscription_count")
    def subscriptions(self, obj: Plan) -> int:
        return obj.subscription_count

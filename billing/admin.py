import stripe
from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from billing.models import Plan, PlanPrice
from billing.services import BillingError, plan_sync
from licensing.models import License, LicenseStatus

# What Stripe charges: a change to any of these must reach Stripe before it is shown.
STRIPE_FIELDS = (
    "name",
    "currency",
    "monthly_amount",
    "yearly_amount",
    "monthly_lookup_key",
    "yearly_lookup_key",
)


class PlanForm(forms.ModelForm):
    """Saving a new price syncs it to Stripe first; if Stripe cannot be reached nothing is saved,
    so /pricing/ never shows an amount Checkout would not charge."""

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.instance.pk is None or not set(STRIPE_FIELDS) & set(self.changed_data):
            return
        try:
            self.synced = plan_sync(plan=self.instance)
        except (stripe.StripeError, BillingError) as exc:
            message = getattr(exc, "user_message", None) or str(exc)
            self.add_error(
                None,
                f"Stripe did not take the new price, so nothing was saved: {message} "
                "Try again, or save without changing the price.",
            )


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 0
    can_delete = False
    fields = ["interval", "stripe_price_id", "unit_amount", "currency", "created_at"]
    readonly_fields = fields
    verbose_name = "Stripe price (every price ever this plan's own)"
    verbose_name_plural = "Stripe prices (every price ever this plan's own; subscribers may stay on old ones)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    inlines = [PlanPriceInline]
    actions = ["sync_with_stripe"]
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            if getattr(form, "synced", None):
                created = [price.price_id for price in form.synced if price.created]
                if created:
                    messages.info(
                        request, f"Stripe now charges the new price ({', '.join(created)}) to new buyers."
                    )
            return
        try:
            plan_sync(plan=obj)
        except (stripe.StripeError, BillingError) as exc:
            messages.warning(
                request,
                f"{obj.name} is saved but not on Stripe yet, so nobody can buy it: {exc}. "
                "Select it in the list and run “Sync with Stripe”.",
            )

    @admin.action(description="Sync with Stripe (create the product and any changed price)")
    def sync_with_stripe(self, request, queryset):
        for plan in queryset:
            try:
                synced = plan_sync(plan=plan)
            except (stripe.StripeError, BillingError) as exc:
                self.message_user(request, f"{plan.name}: Stripe refused: {exc}", messages.ERROR)
                continue
            created = sum(1 for price in synced if price.created)
            self.message_user(request, f"{plan.name}: in sync ({created} new price(s)).", messages.SUCCESS)

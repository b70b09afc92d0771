import logging
from datetime import UTC, datetime

import stripe
from django import forms
from django.contrib import admin, messages
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join

from billing import (
    admin_users,  # noqa: F401 - registers the User admin
    payments,
)
from billing.models import PaymentEvent, PaymentEventKind, Plan
from billing.services import BillingError, plan_sync, stripe_options
from licensing.admin import LicenseAdmin
from licensing.models import License, LicenseQuerySet
from licensing.services import LicensingError, license_revoke
from qualitybytes.admin_actions import ReasonForm, StaffAction
from qualitybytes.admin_helpers import OptionsFilter, badge, html_table, local_time
from qualitybytes.money import money
from teams.services import team_create_for_license

# What Stripe charges: a change to any of these must reach Stripe before it is shown. (A new
# name reaches the Stripe product with the "Sync with Stripe" action or `sync_plans`.)
STRIPE_FIELDS = ("currency", "monthly_amount", "yearly_amount", "monthly_lookup_key", "yearly_lookup_key")


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


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    readonly_fields = ["stripe_prices"]
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
            License.objects.billed()
            .filter(plan=OuterRef("pk"))
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
        return money(obj.monthly_amount, obj.currency)

    @admin.display(description="yearly", ordering="yearly_amount")
    def yearly_price(self, obj: Plan) -> str:
        return money(obj.yearly_amount, obj.currency)

    @admin.display(description="live subscriptions", ordering="subscription_count")
    def subscriptions(self, obj: Plan) -> int:
        return obj.subscription_count

    @admin.display(description="Stripe prices")
    def stripe_prices(self, obj: Plan):
        """Every price that was ever this plan's own: subscribers may stay on an old one for years."""
        if obj.pk is None:
            return "—"
        return html_table(
            ["Interval", "Price", "Amount", "Recorded"],
            [
                (
                    price.get_interval_display(),
                    price.stripe_price_id,
                    money(price.unit_amount, price.currency),
                    local_time(price.created_at),
                )
                for price in obj.prices.all()
            ],
            "None yet: sync the plan with Stripe.",
        )

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


logger = logging.getLogger(__name__)


# --- licenses: what staff need about money ------------------------------------------------------
# The license admin lives in licensing; billing extends it with what reaches Stripe (billing may
# depend on licensing, never the other way round).


def _billed_twice():
    others = License.objects.billed().filter(owner=OuterRef("owner")).exclude(pk=OuterRef("pk"))
    return LicenseQuerySet.billed_q() & Q(Exists(others))


class BilledTwiceFilter(OptionsFilter):
    title = "billed twice"
    parameter_name = "billed_twice"
    options = {
        "yes": ("Owner has another live subscription", lambda licenses: licenses.filter(_billed_twice()))
    }


def _payment_events(**kinds):
    """Licenses with a payment event of `kinds`, for the money-back filter."""
    return lambda licenses: licenses.filter(
        Exists(PaymentEvent.objects.filter(license=OuterRef("pk"), **kinds))
    )


def _open_disputes(licenses):
    closed = PaymentEvent.objects.filter(
        stripe_id=OuterRef("stripe_id"),
        kind__in=[PaymentEventKind.DISPUTE_WON, PaymentEventKind.DISPUTE_LOST],
    )
    opened = PaymentEvent.objects.filter(license=OuterRef("pk"), kind=PaymentEventKind.DISPUTE_OPENED)
    return licenses.filter(Exists(opened.exclude(Exists(closed))))


class MoneyBackFilter(OptionsFilter):
    title = "money back"
    parameter_name = "money_back"
    options = {
        "refunded": ("Refunded in full", _payment_events(kind=PaymentEventKind.REFUND, full=True)),
        "disputed": ("Disputed (open)", _open_disputes),
        "lost": ("Dispute lost", _payment_events(kind=PaymentEventKind.DISPUTE_LOST)),
    }


class CancelForm(ReasonForm):
    when = forms.ChoiceField(
        choices=[
            ("now", "Now: access ends at once, no refund"),
            ("period_end", "At the end of the paid period"),
        ],
        widget=forms.RadioSelect,
        initial="now",
    )
    field_order = ["when", "reason"]


class RevokeForm(ReasonForm):
    subscription = forms.ChoiceField(
        label="Stripe subscription",
        choices=[
            ("cancel_now", "Cancel it now (no refund)"),
            ("cancel_period_end", "Cancel it at the end of the paid period"),
            ("keep", "Keep billing (the customer can still cancel it from their billing page)"),
        ],
        widget=forms.RadioSelect,
        initial="cancel_now",
        required=False,  # not chosen (e.g. a scripted post): the subscription keeps billing
        help_text="Comp licenses have no subscription; this is ignored for them.",
    )
    field_order = ["subscription", "reason"]


def _stripe_step(step):
    """Run a Stripe step of a staff action; a refusal becomes the admin's warning, not a 500."""
    try:
        return step()
    except (BillingError, stripe.StripeError) as exc:
        message = getattr(exc, "user_message", None) or str(exc)
        raise LicensingError(message) from exc


def _revoke_and_cancel(license_, data, user):
    license_revoke(license=license_, reason=data["reason"], by=user)
    choice = data.get("subscription") or "keep"
    if choice == "keep" or not license_.stripe_subscription_id:
        return f"Revoked the license; the subscription keeps billing. Reason: {data['reason']}"
    at_end = choice == "cancel_period_end"
    _stripe_step(
        lambda: payments.subscription_cancel_by_staff(
            license=license_, at_period_end=at_end, reason=data["reason"]
        )
    )
    when = "at period end" if at_end else "now"
    return f"Revoked the license and canceled its subscription {when}. Reason: {data['reason']}"


def _cancel(license_, data, user):
    at_end = data["when"] == "period_end"
    _stripe_step(
        lambda: payments.subscription_cancel_by_staff(
            license=license_, at_period_end=at_end, reason=data["reason"]
        )
    )
    return f"Canceled the subscription {'at period end' if at_end else 'now'}. Reason: {data['reason']}"


def _refund(license_, data, user):
    event = _stripe_step(lambda: payments.last_payment_refund(license=license_, reason=data["reason"]))
    return f"Refunded {money(event.amount, event.currency)} ({event.stripe_id}). Reason: {data['reason']}"


def _cancel_and_refund(license_, data, user):
    _stripe_step(
        lambda: payments.subscription_cancel_by_staff(
            license=license_, at_period_end=False, reason=data["reason"]
        )
    )
    event = _stripe_step(lambda: payments.last_payment_refund(license=license_, reason=data["reason"]))
    return (
        f"Canceled the subscription now and refunded {money(event.amount, event.currency)} "
        f"({event.stripe_id}). Reason: {data['reason']}"
    )


STRIPE_ACTIONS = [
    StaffAction(
        name="revoke",
        title="Revoke licenses",
        intro="Revocation is final: every key of these licenses answers REVOKED from the next validation "
        "on, and no Stripe event brings them back. Choose what happens to the Stripe subscription: "
        "a revoked license that keeps billing is still shown to its owner, who can cancel it.",
        button="Revoke",
        done="Revoked",
        apply=_revoke_and_cancel,
        form_class=RevokeForm,
        danger=True,
    ),
    StaffAction(
        name="cancel_subscription",
        title="Cancel Stripe subscriptions",
        intro="Stripe cancels the subscriptions (now, or at the end of the paid period). Nothing is "
        "refunded: use “Refund the last payment” for that. The customer is emailed when it ends.",
        button="Cancel subscriptions",
        done="Canceled the subscription of",
        apply=_cancel,
        form_class=CancelForm,
        danger=True,
    ),
    StaffAction(
        name="refund_last_payment",
        title="Refund the last payment",
        intro="Stripe refunds the most recent paid invoice of each subscription in full (once, however "
        "often this is pressed). The license is unchanged: revoke or cancel it separately.",
        button="Refund",
        done="Refunded the last payment of",
        apply=_refund,
        danger=True,
    ),
    StaffAction(
        name="cancel_and_refund",
        title="Cancel and refund (billed twice)",
        intro="For a customer billed by two subscriptions: Stripe cancels this one now and refunds its "
        "last payment in full. Their other subscription is untouched.",
        button="Cancel and refund",
        done="Canceled and refunded",
        apply=_cancel_and_refund,
        danger=True,
    ),
]


class BillingLicenseAdmin(LicenseAdmin):
    list_filter = [*LicenseAdmin.list_filter, BilledTwiceFilter, MoneyBackFilter]
    staff_actions = [
        *(action for action in LicenseAdmin.staff_actions if action.name != "revoke"),
        *STRIPE_ACTIONS,
    ]
    fieldsets = [
        *LicenseAdmin.fieldsets[:3],
        ("Payments", {"fields": ["payment_history"]}),
        *LicenseAdmin.fieldsets[3:],
    ]
    change_form_template = "admin/billing/license/change_form.html"

    def get_queryset(self, request):
        events = PaymentEvent.objects.filter(license=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                billed_twice=ExpressionWrapper(_billed_twice(), output_field=BooleanField()),
                refunded_in_full=Exists(events.filter(kind=PaymentEventKind.REFUND, full=True)),
                disputed=Exists(events.filter(kind=PaymentEventKind.DISPUTE_OPENED)),
            )
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.seats_total > 1:
            # A comp license with seats gets its team, by the one route every license takes.
            team_create_for_license(license=obj)

    @admin.display(description="status")
    def state(self, obj: License):
        flags = {"billed_twice": "billed twice", "refunded_in_full": "refunded", "disputed": "disputed"}
        badges = [super().state(obj)]
        badges += [badge(label, "warning") for flag, label in flags.items() if getattr(obj, flag, False)]
        return format_html_join(" ", "{}", ((badge,) for badge in badges))

    @admin.display(description="payment history")
    def payment_history(self, obj: License):
        if not obj.stripe_subscription_id:
            return "— (comp license: no payments)"
        money_back = [
            (
                local_time(event.happened_at),
                event.get_kind_display()
                + (" (full)" if event.kind == PaymentEventKind.REFUND and event.full else ""),
                money(event.amount, event.currency),
                event.reason or "—",
                event.stripe_id,
            )
            for event in obj.payment_events.all()[:50]
        ]
        try:
            invoices = stripe.Invoice.list(
                subscription=obj.stripe_subscription_id, limit=24, **stripe_options()
            ).data
        except Exception as exc:  # noqa: BLE001 - a panel must not take the license page down
            logger.warning(
                "Invoices of %s could not be read from Stripe: %s", obj.stripe_subscription_id, exc
            )
            invoice_table = format_html("<p>Stripe could not be reached for the invoices: {}</p>", exc)
        else:
            invoice_table = html_table(
                ["Invoice", "Date", "Status", "Due", "Paid", ""],
                [
                    (
                        invoice.get("number") or invoice["id"],
                        local_time(datetime.fromtimestamp(invoice["created"], tz=UTC)),
                        invoice["status"],
                        money(invoice["amount_due"], invoice["currency"]),
                        money(invoice["amount_paid"], invoice["currency"]),
                        format_html(
                            '<a href="{}" rel="noopener noreferrer">open</a>', invoice["hosted_invoice_url"]
                        )
                        if invoice.get("hosted_invoice_url")
                        else "",
                    )
                    for invoice in invoices
                ],
                "No invoices.",
            )
        refunds_table = html_table(
            ["When", "What", "Amount", "Reason", "Stripe id"], money_back, "No refunds or disputes."
        )
        return format_html(
            '<p class="qb-subhead">Invoices</p>{}<p class="qb-subhead">Refunds and disputes</p>{}',
            invoice_table,
            refunds_table,
        )


admin.site.unregister(License)
admin.site.register(License, BillingLicenseAdmin)

"""Licenses: the list with its state, ending and billing filters, the page with its panels, and
the staff actions revoke, suspend, reinstate and extend."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from licensing import services
from licensing.admin.common import FullKeySearch, LicensingStaffActions, devices_table
from licensing.admin.keys import KeyInline
from licensing.exports import licenses_csv_write
from licensing.models import (
    Device,
    License,
    LicenseKey,
    LicenseKeyStatus,
    LicenseQuerySet,
    LicenseState,
    LicenseStatus,
    UsageDaily,
    ValidationEvent,
    stale_cutoff,
)
from qualitybytes.admin_actions import ReasonForm, StaffAction
from qualitybytes.admin_helpers import (
    OptionsFilter,
    badge,
    count_of,
    html_table,
    local_time,
    stripe_dashboard_url,
)

RECENT_EVENTS = 20
USAGE_DAYS = 30


class ExtendForm(ReasonForm):
    valid_through = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The license works until the end of this day (UTC).",
    )
    field_order = ["valid_through", "reason"]

    def clean_valid_through(self):
        value = self.cleaned_data["valid_through"]
        if value < timezone.now().date():
            raise forms.ValidationError("Pick today or a later date.")
        return value


def _revoke(license_, data, user):
    services.license_revoke(license=license_, reason=data["reason"], by=user)
    return f"Revoked the license. Reason: {data['reason']}"


def _suspend(license_, data, user):
    services.license_suspend(license=license_, reason=data["reason"], by=user)
    return f"Suspended the license. Reason: {data['reason']}"


def _reinstate(license_, data, user):
    services.license_reinstate(license=license_)
    return f"Reinstated the license (suspension lifted). Reason: {data['reason']}"


def _extend(license_, data, user):
    before = local_time(license_.expires_at)
    extended = services.license_extend_comp(license=license_, through=data["valid_through"])
    after = local_time(extended.expires_at)
    return f"Extended the comp license from {before} to {after}. Reason: {data['reason']}"


class LicenseStateFilter(OptionsFilter):
    title = "status"
    parameter_name = "state"
    options = {
        state.value: (state.label, lambda licenses, state=state: licenses.in_state(state, timezone.now()))
        for state in LicenseState
    }


def _ending_within(days: int):
    def narrow(licenses):
        now = timezone.now()
        ending = LicenseQuerySet.ended_q(now + timedelta(days=days)) & ~LicenseQuerySet.ended_q(now)
        not_renewing = (
            Q(stripe_subscription_id__isnull=True)
            | Q(cancel_at_period_end=True)
            | Q(status=LicenseStatus.GRACE)
        )
        return licenses.filter(ending & not_renewing, revoked_at__isnull=True)

    return narrow


class EndingFilter(OptionsFilter):
    """Licenses that stop working soon: comp licenses, subscriptions set to cancel, past-due grace.

    A subscription that renews is not ending, so it is not listed even when its period ends.
    """

    title = "ending (won't renew)"
    parameter_name = "ending"
    options = {
        "7": ("In the next 7 days", _ending_within(7)),
        "30": ("In the next 30 days", _ending_within(30)),
    }


class BillingFilter(OptionsFilter):
    title = "billing"
    parameter_name = "billing"
    options = {
        "stripe": ("Stripe subscription", Q(stripe_subscription_id__isnull=False)),
        "comp": ("Comp (issued by hand)", Q(stripe_subscription_id__isnull=True)),
    }


class LicenseKeyInline(KeyInline):
    fields = ["masked_key", "holder", "status", "revoked_reason", "created_at", "last_validated_at"]
    select = ["holder"]


@admin.register(License)
class LicenseAdmin(FullKeySearch, LicensingStaffActions, admin.ModelAdmin):
    digest_lookup = "keys__digest"
    list_display = [
        "masked_key",
        "owner_email",
        "plan_billing",
        "state",
        "ends",
        "device_use",
        "key_use",
        "last_validated",
    ]
    list_display_links = ["masked_key"]
    list_filter = [LicenseStateFilter, "plan", EndingFilter, BillingFilter, "billing_interval"]
    list_select_related = ["owner", "plan"]
    search_fields = [
        "^keys__prefix",
        "owner__email",
        "owner__name",
        "keys__holder__email",
        "=stripe_subscription_id",
        "=public_id",
    ]
    raw_id_fields = ["owner"]
    inlines = [LicenseKeyInline]
    actions = ["export_csv"]
    staff_actions = [
        StaffAction(
            name="revoke",
            title="Revoke licenses",
            intro="Revocation is final: every key of these licenses answers REVOKED from the next "
            "validation on, and no Stripe event brings them back.",
            button="Revoke",
            done="Revoked",
            apply=_revoke,
            danger=True,
        ),
        StaffAction(
            name="suspend",
            title="Suspend licenses",
            intro="Every key of these licenses answers SUSPENDED from the next validation on, "
            "until staff reinstate them. Stripe events do not lift a suspension.",
            button="Suspend",
            done="Suspended",
            apply=_suspend,
            danger=True,
        ),
        StaffAction(
            name="reinstate",
            title="Reinstate licenses",
            intro="Lift the suspension: the keys validate again from the next call, by their billing state.",
            button="Reinstate",
            done="Reinstated",
            apply=_reinstate,
        ),
        StaffAction(
            name="extend",
            title="Extend comp licenses",
            intro="Set a new end for licenses issued by hand (no Stripe subscription); an expired "
            "one becomes active again. Licenses billed through Stripe are skipped.",
            button="Extend",
            done="Extended",
            apply=_extend,
            form_class=ExtendForm,
        ),
    ]
    fieldsets = [
        (None, {"fields": ["public_id", "owner", "plan", "seats", "expires_at"]}),
        (
            "Billing",
            {
                "fields": [
                    "validates_as",
                    "status",
                    "billing_interval",
                    "grace_ends_at",
                    "cancel_at_period_end",
                    "stripe_subscription",
                ]
            },
        ),
        (
            "Staff holds",
            {
                "fields": [
                    "suspended_at",
                    "suspended_reason",
                    "suspended_by",
                    "revoked_at",
                    "revoked_reason",
                    "revoked_by",
                ]
            },
        ),
        ("Devices", {"fields": ["devices_panel"]}),
        ("Recent validations", {"fields": ["validations_panel"]}),
        ("Usage, last 30 days", {"fields": ["usage_panel"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"fields": ["owner", "plan", "seats", "expires_at"]})]
    change_form_template = "admin/licensing/license/change_form.html"

    def get_queryset(self, request):
        now = timezone.now()
        keys_of = LicenseKey.objects.filter(license=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                key_prefix=Subquery(keys_of.order_by("status", "created_at").values("prefix")[:1]),
                devices_used=count_of(
                    Device.objects.filter(
                        key__license=OuterRef("pk"),
                        key__status=LicenseKeyStatus.ACTIVE,
                        last_heartbeat_at__gte=stale_cutoff(now),
                    ),
                    "key__license",
                ),
                last_validated_at=Subquery(
                    keys_of.order_by(F("last_validated_at").desc(nulls_last=True)).values(
                        "last_validated_at"
                    )[:1]
                ),
            )
            .with_seats_used(now)
        )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = {"seats"}
        return [name for _, options in self.fieldsets for name in options["fields"] if name not in editable]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # A license typed in here is a comp license: its owner gets a key (shown in their dashboard).
            services.license_key_issue(license=obj, holder=obj.owner)

    @admin.display(description="key", ordering="key_prefix")
    def masked_key(self, obj: License):
        label = f"{obj.key_prefix}-…" if obj.key_prefix else f"(no key) {str(obj.public_id)[:8]}"
        return format_html('<span class="qb-key">{}</span>', label)

    @admin.display(description="holder", ordering="owner__email")
    def owner_email(self, obj: License) -> str:
        return obj.owner.email

    @admin.display(description="plan", ordering="plan__name")
    def plan_billing(self, obj: License) -> str:
        if not obj.stripe_subscription_id:
            return f"{obj.plan.name} · comp"
        return f"{obj.plan.name} · {obj.get_billing_interval_display().lower()}"

    @admin.display(description="status")
    def state(self, obj: License):
        state = LicenseState.of(obj)
        return badge(state.label, state.tone)

    @admin.display(description="validates as")
    def validates_as(self, obj: License):
        code = obj.state(timezone.now())
        return format_html("{} {}", badge(code, LicenseState.from_code(code).tone), code.label.rstrip("."))

    @admin.display(description="ends", ordering="expires_at")
    def ends(self, obj: License) -> str:
        if obj.status == LicenseStatus.GRACE and obj.grace_ends_at:
            return f"grace to {timezone.localtime(obj.grace_ends_at):%Y-%m-%d}"
        return f"{timezone.localtime(obj.expires_at):%Y-%m-%d}" if obj.expires_at else "no end"

    @admin.display(description="devices", ordering="devices_used")
    def device_use(self, obj: License) -> str:
        return f"{obj.devices_used} / {obj.plan.devices_per_seat * obj.seats_total}"

    @admin.display(description="seats used", ordering="seats_used")
    def key_use(self, obj: License) -> str:
        """Keys plus pending invitations, the one seat rule (`seats_used_sql`)."""
        return f"{obj.seats_used} / {obj.seats_total}"

    @admin.display(description="last validated", ordering="last_validated_at")
    def last_validated(self, obj: License) -> str:
        return local_time(obj.last_validated_at)

    @admin.display(description="Stripe subscription")
    def stripe_subscription(self, obj: License):
        if not obj.stripe_subscription_id:
            return "— (comp license, issued by hand)"
        return format_html(
            '<a href="{}" rel="noopener noreferrer">{}</a>',
            stripe_dashboard_url("subscriptions", obj.stripe_subscription_id),
            obj.stripe_subscription_id,
        )

    @admin.display(description="devices")
    def devices_panel(self, obj: License):
        devices = (
            Device.objects.filter(key__license=obj)
            .select_related("key__holder")
            .order_by("key_id", "first_seen_at")
        )
        return devices_table(devices, empty="No devices activated.")

    @admin.display(description="outcomes")
    def validations_panel(self, obj: License):
        events = ValidationEvent.objects.filter(key__license=obj).select_related("key")[:RECENT_EVENTS]
        rows = [
            (local_time(e.created_at), e.code, e.key.masked, e.fingerprint[:24] or "—", e.ip or "—")
            for e in events
        ]
        link = reverse("admin:licensing_validationevent_changelist") + f"?key__license__id__exact={obj.pk}"
        table = html_table(["When", "Outcome", "Key", "Fingerprint", "IP"], rows, "No validations logged.")
        return format_html('{}<p><a href="{}">All validations of this license</a></p>', table, link)

    @admin.display(description="usage")
    def usage_panel(self, obj: License):
        since = timezone.localdate() - timedelta(days=USAGE_DAYS - 1)
        totals = (
            UsageDaily.objects.filter(key__license=obj, day__gte=since)
            .values("feature")
            .annotate(total=Sum("count"), days=Count("day", distinct=True))
            .order_by("feature")
        )
        rows = [
            ("validations" if t["feature"] == UsageDaily.VALIDATIONS else t["feature"], t["total"], t["days"])
            for t in totals
        ]
        return html_table(["Feature", "Count", "Days used"], rows, "No usage recorded.")

    @admin.action(description="Export selected licenses as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="licenses-{timezone.now():%Y%m%d-%H%M}.csv"'
        licenses_csv_write(response, License.objects.filter(pk__in=queryset.values("pk")))
        return response

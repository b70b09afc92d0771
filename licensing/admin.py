"""The operator panel for licenses, keys, devices, the validation log and usage.

Staff actions call the licensing services. Each asks for a reason on a confirmation page, then
records the change in the admin history (LogEntry) with who did it and why. Validation reads
the license state from the database on every call, so a change holds from the next validation.
Lists annotate their counts with subqueries: the query count of a page does not depend on how
many rows it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from licensing import keys, services
from licensing.exports import licenses_csv_write
from licensing.models import (
    Device,
    License,
    LicenseKey,
    LicenseKeyStatus,
    LicenseStatus,
    UsageDaily,
    ValidationCode,
    ValidationEvent,
    stale_cutoff,
)
from qualitybytes.admin_helpers import html_table, local_time, stripe_dashboard_url

RECENT_EVENTS = 20
# What a license validates as, in a word or two for the lists.
SHORT_STATE = {
    ValidationCode.VALID: "Active",
    ValidationCode.GRACE: "Past due",
    ValidationCode.INACTIVE: "Inactive",
    ValidationCode.EXPIRED: "Expired",
    ValidationCode.SUSPENDED: "Suspended",
    ValidationCode.REVOKED: "Revoked",
}
USAGE_DAYS = 30


def search_by_full_key(queryset, search_term: str, digest_lookup: str):
    """A pasted full key is found by its digest; anything else falls through to search_fields."""
    try:
        digest = keys.digest(search_term)
    except keys.InvalidKey:
        return None
    return queryset.filter(**{digest_lookup: digest})


def _ended(now: datetime) -> Q:
    return Q(status=LicenseStatus.GRACE, grace_ends_at__lte=now) | (
        ~Q(status=LicenseStatus.GRACE) & Q(expires_at__lte=now)
    )


def _count(queryset, group: str):
    """A correlated COUNT(*) of `queryset` (filtered on the outer row through `group`), 0 when empty."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- staff actions with a reason ---------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the change and in the admin history. Customers never see it.",
    )


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


@dataclass(frozen=True)
class StaffAction:
    """An action that asks for a reason; `apply` returns the history message or raises LicensingError."""

    name: str
    title: str
    intro: str
    button: str
    done: str
    apply: Callable
    form_class: type[forms.Form] = ReasonForm
    danger: bool = False


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


def _revoke_key(key, data, user):
    services.license_key_revoke(key=key, reason=data["reason"])
    return f"Revoked the key and removed its devices. Reason: {data['reason']}"


class StaffActionsMixin:
    """Changelist actions and per-object buttons for `staff_actions`, behind a reason form."""

    staff_actions: list[StaffAction] = []

    def get_urls(self):
        opts = self.model._meta
        urls = [
            path(
                "<path:object_id>/staff/<slug:name>/",
                self.admin_site.admin_view(self.staff_action_view),
                name=f"{opts.app_label}_{opts.model_name}_staff_action",
            )
        ]
        return urls + super().get_urls()

    def _staff_action(self, name: str) -> StaffAction:
        for action in self.staff_actions:
            if action.name == name:
                return action
        raise PermissionDenied

    def staff_action_view(self, request, object_id, name):
        action = self._staff_action(name)
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        opts = self.model._meta
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = self.run_staff_action(
            request, self.get_queryset(request).filter(pk=obj.pk), action, cancel_url=change_url
        )
        return response or HttpResponseRedirect(change_url)

    def run_staff_action(self, request, queryset, action: StaffAction, *, cancel_url: str, selected=False):
        form = action.form_class(request.POST if request.POST.get("confirm") else None)
        if form.is_bound and form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    message = action.apply(obj, form.cleaned_data, request.user)
                except services.LicensingError as exc:
                    self.message_user(request, f"{obj}: {exc}", messages.WARNING)
                    continue
                self.log_change(request, obj, message)
                done += 1
            if done:
                noun = self.model._meta.verbose_name if done == 1 else self.model._meta.verbose_name_plural
                self.message_user(request, f"{action.done} {done} {noun}.", messages.SUCCESS)
            return None
        objects = list(queryset[:50])
        context = {
            **self.admin_site.each_context(request),
            "title": action.title,
            "opts": self.model._meta,
            "action": action,
            "form": form,
            "objects": objects,
            "more": max(queryset.count() - len(objects), 0) if len(objects) == 50 else 0,
            "selected_ids": list(queryset.values_list("pk", flat=True)) if selected else [],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/licensing/staff_action.html", context)

    def _changelist_action(self, name: str):
        def run(modeladmin, request, queryset):
            opts = modeladmin.model._meta
            cancel = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            return modeladmin.run_staff_action(
                request, queryset, modeladmin._staff_action(name), cancel_url=cancel, selected=True
            )

        return run

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for action in self.staff_actions:
                actions[action.name] = (self._changelist_action(action.name), action.name, f"{action.title}…")
        return actions


# --- licenses ------------------------------------------------------------------------------------


class LicenseStateFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("active", "Active"),
            ("grace", "Past due (grace)"),
            ("inactive", "Inactive"),
            ("expired", "Expired"),
            ("suspended", "Suspended"),
            ("revoked", "Revoked"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        live = queryset.filter(revoked_at__isnull=True, suspended_at__isnull=True)
        match self.value():
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
            case "suspended":
                return queryset.filter(revoked_at__isnull=True, suspended_at__isnull=False)
            case "expired":
                return live.filter(_ended(now))
            case "active" | "grace" | "inactive" as status:
                return live.exclude(_ended(now)).filter(status=status)
        return queryset


class EndingFilter(admin.SimpleListFilter):
    """Licenses that stop working soon: comp licenses, subscriptions set to cancel, past-due grace.

    A subscription that renews is not ending, so it is not listed even when its period ends.
    """

    title = "ending (won't renew)"
    parameter_name = "ending"

    def lookups(self, request, model_admin):
        return [("7", "In the next 7 days"), ("30", "In the next 30 days")]

    def queryset(self, request, queryset):
        if self.value() not in ("7", "30"):
            return queryset
        now = timezone.now()
        until = now + timedelta(days=int(self.value()))
        window = Q(status=LicenseStatus.GRACE, grace_ends_at__gt=now, grace_ends_at__lte=until) | (
            ~Q(status=LicenseStatus.GRACE) & Q(expires_at__gt=now, expires_at__lte=until)
        )
        not_renewing = (
            Q(stripe_subscription_id__isnull=True)
            | Q(cancel_at_period_end=True)
            | Q(status=LicenseStatus.GRACE)
        )
        return queryset.filter(window & not_renewing, revoked_at__isnull=True)


class BillingFilter(admin.SimpleListFilter):
    title = "billing"
    parameter_name = "billing"

    def lookups(self, request, model_admin):
        return [("stripe", "Stripe subscription"), ("comp", "Comp (issued by hand)")]

    def queryset(self, request, queryset):
        if self.value() == "stripe":
            return queryset.filter(stripe_subscription_id__isnull=False)
        if self.value() == "comp":
            return queryset.filter(stripe_subscription_id__isnull=True)
        return queryset


class LicenseKeyInline(admin.TabularInline):
    model = LicenseKey
    extra = 0
    can_delete = False
    fields = ["masked_key", "holder", "status", "revoked_reason", "created_at", "last_validated_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("holder")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="key")
    def masked_key(self, obj):
        return obj.masked


@admin.register(License)
class LicenseAdmin(StaffActionsMixin, admin.ModelAdmin):
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
                key_count=_count(keys_of.filter(status=LicenseKeyStatus.ACTIVE), "license"),
                devices_used=_count(
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

    def get_search_results(self, request, queryset, search_term):
        found = search_by_full_key(queryset, search_term, "keys__digest")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)

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
        code = obj.state(timezone.now())
        return format_html('<span class="qb-badge qb-badge-{}">{}</span>', code.lower(), SHORT_STATE[code])

    @admin.display(description="validates as")
    def validates_as(self, obj: License):
        code = obj.state(timezone.now())
        return format_html(
            '<span class="qb-badge qb-badge-{}">{}</span> {}', code.lower(), code, code.label.rstrip(".")
        )

    @admin.display(description="ends", ordering="expires_at")
    def ends(self, obj: License) -> str:
        if obj.status == LicenseStatus.GRACE and obj.grace_ends_at:
            return f"grace to {timezone.localtime(obj.grace_ends_at):%Y-%m-%d}"
        return f"{timezone.localtime(obj.expires_at):%Y-%m-%d}" if obj.expires_at else "no end"

    @admin.display(description="devices", ordering="devices_used")
    def device_use(self, obj: License) -> str:
        return f"{obj.devices_used} / {obj.plan.devices_per_seat * obj.seats_total}"

    @admin.display(description="keys", ordering="key_count")
    def key_use(self, obj: License) -> str:
        return f"{obj.key_count} / {obj.seats_total}"

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
        cutoff = stale_cutoff()
        devices = (
            Device.objects.filter(key__license=obj)
            .select_related("key__holder")
            .order_by("key_id", "first_seen_at")
        )
        rows = [
            (
                d.name or d.fingerprint[:16],
                d.key.masked,
                d.key.holder.email,
                d.platform,
                d.app_version,
                local_time(d.first_seen_at),
                local_time(d.last_heartbeat_at),
                "counts" if d.last_heartbeat_at >= cutoff else "stale",
            )
            for d in devices[:100]
        ]
        return html_table(
            ["Device", "Key", "Holder", "Platform", "Version", "First seen", "Last heartbeat", ""],
            rows,
            "No devices activated.",
        )

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


# --- keys ----------------------------------------------------------------------------------------


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = [
        "name",
        "fingerprint",
        "platform",
        "app_version",
        "first_seen_at",
        "last_heartbeat_at",
        "last_ip",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LicenseKey)
class LicenseKeyAdmin(StaffActionsMixin, admin.ModelAdmin):
    list_display = [
        "masked_key",
        "holder",
        "license_owner",
        "plan",
        "status",
        "device_count",
        "created_at",
        "last_validated_at",
    ]
    list_display_links = ["masked_key"]
    list_filter = ["status", "license__plan"]
    list_select_related = ["holder", "license__owner", "license__plan"]
    search_fields = ["^prefix", "holder__email", "holder__name", "license__owner__email"]
    fields = [
        "masked_key",
        "license",
        "holder",
        "status",
        "revoked_at",
        "revoked_reason",
        "created_at",
        "last_validated_at",
    ]
    readonly_fields = fields
    inlines = [DeviceInline]
    staff_actions = [
        StaffAction(
            name="revoke_keys",
            title="Revoke keys",
            intro="These keys answer REVOKED from the next validation on and their devices are "
            "removed. The license and its other keys are not touched.",
            button="Revoke",
            done="Revoked",
            apply=_revoke_key,
            danger=True,
        )
    ]
    change_form_template = "admin/licensing/licensekey/change_form.html"

    def get_queryset(self, request):
        devices = Device.objects.filter(key=OuterRef("pk"), last_heartbeat_at__gte=stale_cutoff())
        return super().get_queryset(request).annotate(device_count=_count(devices, "key"))

    def has_add_permission(self, request):
        # Keys are issued by the billing flow, teams, or a comp license, never typed in.
        return False

    def get_search_results(self, request, queryset, search_term):
        found = search_by_full_key(queryset, search_term, "digest")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="key", ordering="prefix")
    def masked_key(self, obj: LicenseKey):
        return format_html('<span class="qb-key">{}</span>', obj.masked)

    @admin.display(description="owner", ordering="license__owner__email")
    def license_owner(self, obj: LicenseKey):
        return obj.license.owner

    @admin.display(description="plan", ordering="license__plan")
    def plan(self, obj: LicenseKey):
        return obj.license.plan

    @admin.display(description="devices", ordering="device_count")
    def device_count(self, obj: LicenseKey) -> str:
        return f"{obj.device_count} / {obj.license.plan.devices_per_seat}"


# --- devices, the validation log, usage ----------------------------------------------------------


class CountingFilter(admin.SimpleListFilter):
    title = "counted against the limit"
    parameter_name = "counting"

    def lookups(self, request, model_admin):
        return [("yes", "Yes (recent heartbeat)"), ("no", "No (stale)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(last_heartbeat_at__gte=stale_cutoff())
        if self.value() == "no":
            return queryset.filter(last_heartbeat_at__lt=stale_cutoff())
        return queryset


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "masked_key",
        "holder",
        "plan",
        "platform",
        "app_version",
        "first_seen_at",
        "last_heartbeat_at",
        "counting",
        "last_ip",
    ]
    list_select_related = ["key__holder", "key__license__plan"]
    list_filter = [CountingFilter, "platform", "key__license__plan"]
    search_fields = [
        "^key__prefix",
        "key__holder__email",
        "key__license__owner__email",
        "=fingerprint",
        "name",
    ]
    raw_id_fields = ["key"]
    readonly_fields = ["public_id", "key", "fingerprint", "first_seen_at", "last_heartbeat_at", "last_ip"]

    def has_add_permission(self, request):
        # Devices come from the activation API, which enforces the plan's limit.
        return False

    @admin.display(description="key", ordering="key__prefix")
    def masked_key(self, obj: Device) -> str:
        return obj.key.masked

    @admin.display(description="holder", ordering="key__holder__email")
    def holder(self, obj: Device) -> str:
        return obj.key.holder.email

    @admin.display(description="plan", ordering="key__license__plan__name")
    def plan(self, obj: Device) -> str:
        return obj.key.license.plan.name

    @admin.display(description="counts", boolean=True)
    def counting(self, obj: Device) -> bool:
        return obj.last_heartbeat_at >= stale_cutoff()


class FailuresFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("failed", "Failed (not valid)"), ("valid", "Valid or grace")]

    def queryset(self, request, queryset):
        valid = [ValidationCode.VALID, ValidationCode.GRACE]
        if self.value() == "failed":
            return queryset.exclude(code__in=valid)
        if self.value() == "valid":
            return queryset.filter(code__in=valid)
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Logs written by the validation path: staff look, nobody edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ValidationEvent)
class ValidationEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "code", "masked_key", "holder", "fingerprint", "ip"]
    list_filter = [FailuresFilter, "code", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["key__holder"]
    search_fields = ["^key__prefix", "key__holder__email", "=fingerprint", "=ip"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def lookup_allowed(self, lookup, value, request=None):
        # The license page links here with its validations.
        return lookup == "key__license__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="key", ordering="key__prefix")
    def masked_key(self, obj: ValidationEvent) -> str:
        return obj.key.masked

    @admin.display(description="holder", ordering="key__holder__email")
    def holder(self, obj: ValidationEvent) -> str:
        return obj.key.holder.email


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin):
    list_display = ["day", "masked_key", "holder", "feature", "count"]
    list_filter = ["feature", ("day", admin.DateFieldListFilter)]
    list_select_related = ["key__holder"]
    search_fields = ["^key__prefix", "key__holder__email", "=feature"]
    date_hierarchy = "day"
    show_full_result_count = False

    @admin.display(description="key", ordering="key__prefix")
    def masked_key(self, obj: UsageDaily) -> str:
        return obj.key.masked

    @admin.display(description="holder", ordering="key__holder__email")
    def holder(self, obj: UsageDaily) -> str:
        return obj.key.holder.email

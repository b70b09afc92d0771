"""The customer API: the dashboard's data and actions as JSON, for the signed-in user only.

Authenticated by session (with CSRF) or a personal API token. Every object is fetched through
`licensing.selectors`, scoped to the user, so another account's objects answer 404.
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from licensing import selectors
from licensing.api.serializers import DeviceBlock
from licensing.models import KeyEndReason
from qualitybytes.api.views import APIView


class MyKeyOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    prefix = serializers.CharField()
    masked = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_validated_at = serializers.DateTimeField(allow_null=True)
    devices_used = serializers.IntegerField()
    max_devices = serializers.IntegerField(source="license.max_devices_per_key")
    revoked_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.SerializerMethodField(
        help_text="Why the key does not work (null while it does): removed, left, staff, suspended, "
        "subscription_ended."
    )
    end_reason_text = serializers.SerializerMethodField(
        help_text='The same in words, e.g. "removed from the team".'
    )

    @extend_schema_field(serializers.ChoiceField(choices=KeyEndReason.choices, allow_null=True))
    def get_end_reason(self, key) -> str | None:
        reason = key.end_reason()
        return reason.value if reason else None

    def get_end_reason_text(self, key) -> str | None:
        reason = key.end_reason()
        return reason.label if reason else None


class MyLicenseOutput(serializers.Serializer):
    id = serializers.UUIDField(source="license.public_id")
    plan = serializers.CharField(source="license.plan.slug")
    plan_name = serializers.CharField(source="license.plan.name")
    status = serializers.CharField(source="license.status")
    state = serializers.SerializerMethodField()
    billing_interval = serializers.CharField(source="license.billing_interval")
    expires_at = serializers.DateTimeField(source="license.expires_at", allow_null=True)
    grace_ends_at = serializers.DateTimeField(source="license.grace_ends_at", allow_null=True)
    cancel_at_period_end = serializers.BooleanField(source="license.cancel_at_period_end")
    seats = serializers.IntegerField(source="license.seats_total")
    seats_used = serializers.IntegerField(
        help_text="Seats in use: active keys on the license (owner included) plus pending invitations."
    )
    is_owner = serializers.SerializerMethodField()
    key = MyKeyOutput(source="*")

    def get_state(self, key) -> str:
        return key.state(timezone.now())

    def get_is_owner(self, key) -> bool:
        return key.license.owner_id == self.context["request"].user.pk


class MyRevealOutput(serializers.Serializer):
    key = serializers.CharField()


class MyUsageDayOutput(serializers.Serializer):
    day = serializers.DateField()
    validations = serializers.IntegerField()


class MyFeatureUsageOutput(serializers.Serializer):
    feature = serializers.CharField()
    count = serializers.IntegerField()


class MyUsageOutput(serializers.Serializer):
    days = MyUsageDayOutput(many=True)
    features = MyFeatureUsageOutput(many=True)


def customer_operation(operation_id: str, summary: str, **kwargs):
    return extend_schema(operation_id=operation_id, summary=summary, tags=["customer"], **kwargs)


class MyListView(APIView):
    """A list of the user's own objects: `read(user)` fetches them scoped, `output` renders them."""

    output: type[serializers.Serializer]
    read: staticmethod

    def get(self, request):
        rows = self.read(request.user)
        return Response(self.output(rows, many=True, context={"request": request}).data)


@extend_schema_view(
    get=customer_operation("me_licenses", "My licenses and keys", responses=MyLicenseOutput(many=True))
)
class MyLicensesView(MyListView):
    output = MyLicenseOutput
    read = staticmethod(selectors.keys_held_by)


@extend_schema_view(
    get=customer_operation("me_devices", "Devices on my keys", responses=DeviceBlock(many=True))
)
class MyDevicesView(MyListView):
    output = DeviceBlock
    read = staticmethod(selectors.devices_of)


class RevealKeyView(APIView):
    @customer_operation(
        "me_keys_reveal", "Show one of my keys in full", request=None, responses=MyRevealOutput
    )
    def post(self, request, public_id):
        key = get_object_or_404(selectors.keys_held_by(request.user).active(), public_id=public_id)
        response = Response({"key": key.reveal()})
        add_never_cache_headers(response)  # the full key: no browser or proxy may keep it
        return response


class MyDeviceView(APIView):
    @customer_operation("me_devices_remove", "Remove a device and free its slot", responses={204: None})
    def delete(self, request, public_id):
        device = get_object_or_404(selectors.devices_of(request.user), public_id=public_id)
        device.delete()
        return Response(status=204)


class MyUsageView(APIView):
    @customer_operation(
        "me_usage",
        "Validations per day and feature usage on my keys",
        parameters=[OpenApiParameter("days", int, description="Window in days, 1-90 (default 30).")],
        responses=MyUsageOutput,
    )
    def get(self, request):
        try:
            days = int(request.query_params.get("days", 30))
        except ValueError:
            days = 0
        if not 1 <= days <= 90:
            raise serializers.ValidationError({"days": ["Give a whole number of days from 1 to 90."]})
        return Response(MyUsageOutput(selectors.usage_summary(request.user, days=days)).data)

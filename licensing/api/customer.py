"""The customer API: the dashboard's data and actions as JSON, for the signed-in user only.

Authenticated by session (with CSRF) or a personal API token. Every object is fetched through
`licensing.access`, so another account's objects answer 404.
"""

from datetime import timedelta

from django.db.models import Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing import access
from licensing.models import UsageDaily


class MyDeviceOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    key_prefix = serializers.CharField(source="key.prefix")
    name = serializers.CharField()
    platform = serializers.CharField()
    app_version = serializers.CharField()
    first_seen_at = serializers.DateTimeField()
    last_heartbeat_at = serializers.DateTimeField()


class MyKeyOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    prefix = serializers.CharField()
    masked = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_validated_at = serializers.DateTimeField(allow_null=True)
    devices_used = serializers.IntegerField()
    max_devices = serializers.IntegerField(source="license.max_devices_per_key")


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
    seats_used = serializers.IntegerField()
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


def usage_summary(user, *, days: int = 30) -> dict:
    """Validations per day (every day of the window, zeros included) and feature totals."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    rows = UsageDaily.objects.filter(key__holder=user, day__gte=start)
    per_day = dict(
        rows.filter(feature=UsageDaily.VALIDATIONS)
        .values_list("day")
        .annotate(total=Sum("count"))
        .values_list("day", "total")
    )
    features = (
        rows.exclude(feature=UsageDaily.VALIDATIONS)
        .values("feature")
        .annotate(count=Sum("count"))
        .order_by("-count", "feature")
    )
    series = [
        {"day": start + timedelta(days=n), "validations": per_day.get(start + timedelta(days=n), 0)}
        for n in range(days)
    ]
    return {"days": series, "features": list(features)}


class MyLicensesView(APIView):
    @extend_schema(
        operation_id="me_licenses",
        summary="My licenses and keys",
        responses=MyLicenseOutput(many=True),
        tags=["customer"],
    )
    def get(self, request):
        keys = access.keys_held_by(request.user)
        return Response(MyLicenseOutput(keys, many=True, context={"request": request}).data)


class RevealKeyView(APIView):
    @extend_schema(
        operation_id="me_keys_reveal",
        summary="Show one of my keys in full",
        request=None,
        responses=MyRevealOutput,
        tags=["customer"],
    )
    def post(self, request, public_id):
        key = get_object_or_404(access.keys_held_by(request.user).active(), public_id=public_id)
        response = Response({"key": key.reveal()})
        add_never_cache_headers(response)  # the full key: no browser or proxy may keep it
        return response


class MyDevicesView(APIView):
    @extend_schema(
        operation_id="me_devices",
        summary="Devices on my keys",
        responses=MyDeviceOutput(many=True),
        tags=["customer"],
    )
    def get(self, request):
        return Response(MyDeviceOutput(access.devices_of(request.user), many=True).data)


class MyDeviceView(APIView):
    @extend_schema(
        operation_id="me_devices_remove",
        summary="Remove a device and free its slot",
        responses={204: None},
        tags=["customer"],
    )
    def delete(self, request, public_id):
        device = get_object_or_404(access.devices_of(request.user), public_id=public_id)
        device.delete()
        return Response(status=204)


class MyUsageView(APIView):
    @extend_schema(
        operation_id="me_usage",
        summary="Validations per day and feature usage on my keys",
        parameters=[OpenApiParameter("days", int, description="Window in days, 1-90 (default 30).")],
        responses=MyUsageOutput,
        tags=["customer"],
    )
    def get(self, request):
        try:
            days = int(request.query_params.get("days", 30))
        except ValueError:
            days = 0
        if not 1 <= days <= 90:
            raise serializers.ValidationError({"days": ["Give a whole number of days from 1 to 90."]})
        return Response(MyUsageOutput(usage_summary(request.user, days=days)).data)

"""The licensing API used by the QualityBytes app. The key is the credential: no session, no CSRF.

One view per operation: parse with the input serializer, apply the per-key rate limit, call the
service, render with the output serializer.
"""

from functools import lru_cache

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from licensing import services, throttling
from licensing.api import examples, serializers
from licensing.models import ValidationCode
from qualitybytes.api.errors import ErrorOutput
from qualitybytes.api.parsers import SafeJSONParser
from qualitybytes.api.views import APIView
from qualitybytes.db_router import reads_from_replica
from qualitybytes.http import client_ip

HTTP_STATUS_FOR_REFUSAL = {
    ValidationCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ValidationCode.TOO_MANY_DEVICES: status.HTTP_409_CONFLICT,
}


class AnyContentTypeIsJSON(DefaultContentNegotiation):
    """The app's HTTP client may send any Content-Type; the body is read as JSON regardless."""

    def select_parser(self, request, parsers):
        return parsers[0]


@lru_cache(maxsize=8)
def _rate(text: str) -> throttling.Rate | None:
    return throttling.Rate.parse(text)


class LicensingView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [SafeJSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyContentTypeIsJSON
    throttle_classes: list = []
    input_serializer: type[serializers.serializers.Serializer]

    def before_parsing(self, request):
        request.client_ip = client_ip(request)
        throttling.hit("ip", request.client_ip or "unknown", _rate(settings.LICENSE_RATE_LIMIT_IP))

    def parse_input(self, request) -> dict:
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The key field yields a keys.ParsedKey: this digest is the one the lookup uses, computed once.
        throttling.hit("key", data["key"].digest[:32], _rate(settings.LICENSE_RATE_LIMIT_KEY))
        return data


ERRORS = {
    400: OpenApiResponse(ErrorOutput, description="Malformed input.", examples=[examples.BAD_REQUEST]),
    413: OpenApiResponse(ErrorOutput, description="Body too large.", examples=[examples.TOO_LARGE]),
    429: OpenApiResponse(
        ErrorOutput,
        description="Rate limited; see Retry-After.",
        examples=[examples.RATE_LIMITED],
    ),
}


def answers(output, *statuses: int) -> dict:
    """The schema's responses: `output` for each of `statuses`, and the error answers."""
    return {**dict.fromkeys(statuses, output), **ERRORS}


def refusal_status(code: str) -> int:
    return HTTP_STATUS_FOR_REFUSAL.get(code, status.HTTP_403_FORBIDDEN)


class ValidateLicenseView(LicensingView):
    input_serializer = serializers.ValidateInput

    @extend_schema(
        operation_id="licenses_validate",
        summary="Validate a license key",
        description=(
            "A well-formed request always answers 200 with `valid` and a `code`, checked in this order: "
            + ", ".join(ValidationCode.values)
            + ". `GRACE` and `VALID` are valid and carry a signed `token`."
        ),
        request=serializers.ValidateInput,
        responses=answers(serializers.ValidationOutput, 200),
        examples=[examples.VALIDATE_REQUEST, *examples.VALIDATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        # Scale-out: validation only reads, so it may read from the replica (qualitybytes/db_router.py).
        with reads_from_replica():
            outcome = services.license_validate(
                key=data["key"],
                fingerprint=data.get("fingerprint") or None,
                entitlements=data["entitlements"],
                nonce=data.get("nonce"),
                ip=request.client_ip,
            )
        return Response(serializers.ValidationOutput(outcome).data)


@extend_schema_view(
    post=extend_schema(operation_id="validate_license", summary="Validate a license key (alias)")
)
class ValidateLicenseAliasView(ValidateLicenseView):
    """`POST /validate-license`, kept for clients that know the short path."""


class ActivateDeviceView(LicensingView):
    input_serializer = serializers.ActivateInput

    @extend_schema(
        operation_id="licenses_activate",
        summary="Activate a device on a key",
        description=(
            "Idempotent for a fingerprint that is already active (200); a new device answers 201. "
            "Refusals: 404 `NOT_FOUND`, 403 `REVOKED` / `SUSPENDED` / `EXPIRED` / `INACTIVE`, "
            "409 `TOO_MANY_DEVICES` when the key has as many devices as the plan allows."
        ),
        request=serializers.ActivateInput,
        responses=answers(serializers.ActivationOutput, 200, 201, 403, 404, 409),
        examples=[examples.ACTIVATE_REQUEST, *examples.ACTIVATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.device_activate(
            key=data["key"],
            fingerprint=data["fingerprint"],
            name=data["name"],
            platform=data["platform"],
            app_version=data["app_version"],
            ip=request.client_ip,
        )
        if outcome.valid:
            http_status = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        else:
            http_status = refusal_status(outcome.code)
        return Response(serializers.ActivationOutput(outcome).data, status=http_status)


class DeactivateDeviceView(LicensingView):
    input_serializer = serializers.DeactivateInput

    @extend_schema(
        operation_id="licenses_deactivate",
        summary="Deactivate a device",
        description=(
            "Frees the device's slot whatever the license state. 200 with `DEACTIVATED`, or "
            "`DEVICE_NOT_ACTIVATED` when the fingerprint was not on the key; 404 `NOT_FOUND`."
        ),
        request=serializers.DeactivateInput,
        responses=answers(serializers.DeactivationOutput, 200, 404),
        examples=[examples.DEACTIVATE_REQUEST, *examples.DEACTIVATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.device_deactivate(key=data["key"], fingerprint=data["fingerprint"])
        http_status = (
            status.HTTP_404_NOT_FOUND if outcome.code == ValidationCode.NOT_FOUND else status.HTTP_200_OK
        )
        return Response(serializers.DeactivationOutput(outcome).data, status=http_status)


class HeartbeatView(LicensingView):
    input_serializer = serializers.HeartbeatInput

    @extend_schema(
        operation_id="licenses_heartbeat",
        summary="Heartbeat from an activated device",
        description=(
            "A validation with a required fingerprint that also keeps the device counted. Same "
            "answer and codes as validate; a stale device gets `DEVICE_NOT_ACTIVATED` and must "
            "activate again."
        ),
        request=serializers.HeartbeatInput,
        responses=answers(serializers.ValidationOutput, 200),
        examples=[examples.HEARTBEAT_REQUEST, *examples.VALIDATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.device_heartbeat(
            key=data["key"],
            fingerprint=data["fingerprint"],
            app_version=data["app_version"],
            entitlements=data["entitlements"],
            nonce=data.get("nonce"),
            ip=request.client_ip,
        )
        return Response(serializers.ValidationOutput(outcome).data)


class UsageReportView(LicensingView):
    input_serializer = serializers.UsageInput

    @extend_schema(
        operation_id="licenses_usage",
        summary="Report feature use",
        description=(
            "Adds `count` to today's counter of `feature` for the key. 200 `RECORDED`; 404 `NOT_FOUND`; "
            "403 with the license's code, or `DEVICE_NOT_ACTIVATED` when the fingerprint is not active."
        ),
        request=serializers.UsageInput,
        responses=answers(serializers.UsageOutput, 200, 403, 404),
        examples=[examples.USAGE_REQUEST, *examples.USAGE_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.usage_report(
            key=data["key"], fingerprint=data["fingerprint"], feature=data["feature"], count=data["count"]
        )
        http_status = status.HTTP_200_OK if outcome.code == "RECORDED" else refusal_status(outcome.code)
        return Response(serializers.UsageOutput(outcome).data, status=http_status)

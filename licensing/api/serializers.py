"""Input and output serializers of the licensing API. Inputs only validate; outputs only render."""

import copy

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from licensing import keys
from licensing.models import LicenseState, ValidationCode
from licensing.services import Outcome

NO_CONTROL_CHARACTERS = RegexValidator(
    r"^[^\x00-\x1f\x7f]*$", "Control characters are not allowed.", code="control_characters"
)
FEATURE_NAME = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
    "Use 1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit.",
    code="invalid_feature",
)


class LicenseKeyField(serializers.CharField):
    """A license key in any accepted spelling, returned as a `keys.ParsedKey` (canonical form and
    digest) that the rate limiter, the service and the query share. Errors never echo it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 4 * keys.DISPLAY_LENGTH)
        kwargs.setdefault(
            "help_text", "The license key, e.g. QB-7K3MX-9QW2D-… (case and dashes do not matter)."
        )
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)  # the text's own checks (length) first
        try:
            return keys.parse(value)
        except keys.InvalidKey as exc:
            raise serializers.ValidationError(str(exc), code="invalid_key") from None


def text_field(max_length: int, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, validators=[NO_CONTROL_CHARACTERS], **kwargs)


def fingerprint_field(**kwargs) -> serializers.CharField:
    kwargs.setdefault(
        "help_text", "A stable, app-computed identifier of the device (e.g. a hash of its machine id)."
    )
    return text_field(200, **kwargs)


def entitlements_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=64, validators=[NO_CONTROL_CHARACTERS]),
        max_length=50,
        required=False,
        default=list,
        help_text='Entitlements that must all be in the plan, e.g. ["core", "sso"].',
    )


def nonce_field() -> serializers.CharField:
    return text_field(
        128, required=False, allow_null=True, help_text="Any client value; echoed back and put in the token."
    )


class InputSerializer(serializers.Serializer):
    """DRF deep-copies every declared field for each serializer instance; on the validation hot
    path that cost as much as the validation itself. A shallow copy per instance is enough: each
    copy is bound to its serializer, and validating never changes a field."""

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class ValidateInput(InputSerializer):
    key = LicenseKeyField()
    fingerprint = fingerprint_field(required=False, allow_null=True)
    entitlements = entitlements_field()
    nonce = nonce_field()


class DeviceInput(InputSerializer):
    """A key and one of its devices: deactivate takes just these; the device operations add theirs."""

    key = LicenseKeyField()
    fingerprint = fingerprint_field()


class ActivateInput(DeviceInput):
    name = text_field(100, required=False, allow_blank=True, default="")
    platform = text_field(50, required=False, allow_blank=True, default="")
    app_version = text_field(50, required=False, allow_blank=True, default="")


class DeactivateInput(DeviceInput):
    pass


class HeartbeatInput(DeviceInput):
    app_version = text_field(50, required=False, allow_blank=True, default="")
    entitlements = entitlements_field()
    nonce = nonce_field()


class UsageInput(DeviceInput):
    feature = serializers.CharField(max_length=64, validators=[FEATURE_NAME])
    count = serializers.IntegerField(min_value=1, max_value=100_000, default=1)


# --- outputs -------------------------------------------------------------------------------


class LicenseBlock(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=LicenseState.choices)
    expires_at = serializers.DateTimeField(allow_null=True)
    grace_ends_at = serializers.DateTimeField(allow_null=True)
    seats = serializers.IntegerField()
    seats_used = serializers.IntegerField(
        help_text="Seats in use: active keys on the license (owner included) plus pending invitations."
    )
    devices = serializers.IntegerField(help_text="Devices counted on this key.")
    max_devices = serializers.IntegerField(help_text="Devices allowed per key.")


class UserBlock(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()


class PlanBlock(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    access_level = serializers.CharField()
    entitlements = serializers.ListField(child=serializers.CharField())


def license_status(outcome: Outcome) -> str:
    return LicenseState.of(outcome.license, outcome.checked_at).value


_DATETIME = serializers.DateTimeField()


def _datetime(value):
    return _DATETIME.to_representation(value) if value else None


def license_block(outcome: Outcome) -> dict | None:
    license_ = outcome.license
    if license_ is None:
        return None
    return {
        "id": str(license_.public_id),
        "status": license_status(outcome),
        "expires_at": _datetime(license_.expires_at),
        "grace_ends_at": _datetime(license_.grace_ends_at),
        "seats": license_.seats_total,
        "seats_used": outcome.seats_used,
        "devices": outcome.devices_used,
        "max_devices": license_.max_devices_per_key,
    }


def user_block(outcome: Outcome) -> dict | None:
    if outcome.key is None:
        return None
    holder = outcome.key.holder
    return {"id": str(holder.public_id), "email": holder.email, "name": holder.name}


def plan_block(outcome: Outcome) -> dict | None:
    if outcome.license is None:
        return None
    plan = outcome.license.plan
    return {
        "slug": plan.slug,
        "name": plan.name,
        "access_level": plan.access_level,
        "entitlements": list(plan.entitlements),
    }


class OutcomeOutput(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    ts = serializers.DateTimeField(source="checked_at")
    license = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()
    plan = serializers.SerializerMethodField()

    @extend_schema_field(LicenseBlock(allow_null=True))
    def get_license(self, outcome: Outcome):
        return license_block(outcome)

    @extend_schema_field(UserBlock(allow_null=True))
    def get_user(self, outcome: Outcome):
        return user_block(outcome)

    @extend_schema_field(PlanBlock(allow_null=True))
    def get_plan(self, outcome: Outcome):
        return plan_block(outcome)


class ValidationOutput(OutcomeOutput):
    """The validation answer. Rendered by hand: this is the hot path, and DRF's per-request
    copy of every declared field cost more than the database query. The fields document it."""

    valid = serializers.BooleanField()
    code = serializers.ChoiceField(choices=ValidationCode.choices)
    nonce = serializers.CharField(allow_null=True)
    token = serializers.CharField(
        allow_null=True, help_text="Ed25519 JWT (kid in header) for offline checks; only when valid."
    )

    class Meta:
        fields = ["valid", "code", "detail", "ts", "nonce", "token", "license", "user", "plan"]

    def get_fields(self):
        fields = super().get_fields()
        return {name: fields[name] for name in self.Meta.fields}

    def to_representation(self, outcome: Outcome) -> dict:
        return {
            "valid": outcome.valid,
            "code": str(outcome.code),
            "detail": outcome.detail,
            "ts": _datetime(outcome.checked_at),
            "nonce": outcome.nonce,
            "token": outcome.token,
            "license": license_block(outcome),
            "user": user_block(outcome),
            "plan": plan_block(outcome),
        }


class DeviceBlock(serializers.Serializer):
    """A device, as activation answers it and as its key's holder lists it (`/me/devices`)."""

    id = serializers.UUIDField(source="public_id")
    key_prefix = serializers.CharField(source="key.prefix")
    fingerprint = serializers.CharField()
    name = serializers.CharField()
    platform = serializers.CharField()
    app_version = serializers.CharField()
    first_seen_at = serializers.DateTimeField()
    last_heartbeat_at = serializers.DateTimeField()


class ActivationOutput(OutcomeOutput):
    activated = serializers.BooleanField(source="valid")
    device = DeviceBlock(allow_null=True)
    token = serializers.CharField(allow_null=True)


class DeactivationOutput(serializers.Serializer):
    deactivated = serializers.SerializerMethodField()
    code = serializers.CharField()
    detail = serializers.CharField()
    ts = serializers.DateTimeField(source="checked_at")
    devices = serializers.IntegerField(source="devices_used", help_text="Devices still counted on the key.")

    def get_deactivated(self, outcome: Outcome) -> bool:
        return outcome.code == "DEACTIVATED"


class UsageOutput(serializers.Serializer):
    recorded = serializers.SerializerMethodField()
    code = serializers.CharField()
    detail = serializers.CharField()
    ts = serializers.DateTimeField(source="checked_at")
    feature = serializers.SerializerMethodField()
    count = serializers.SerializerMethodField()
    day = serializers.SerializerMethodField()

    def get_recorded(self, outcome: Outcome) -> bool:
        return outcome.code == "RECORDED"

    def get_feature(self, outcome: Outcome) -> str | None:
        return outcome.extra.get("feature")

    def get_count(self, outcome: Outcome) -> int | None:
        return outcome.extra.get("count")

    def get_day(self, outcome: Outcome) -> str | None:
        return outcome.extra.get("day")

"""Licensing workflows: validation (the hot path), devices, usage, and staff actions.

Validation reads with one query; its bookkeeping (last-validated time, daily counts, a sample
of the validation log) is buffered by `licensing.recording` and written at most once per
interval, so a validation does at most one write and most do none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from billing.models import Plan
from licensing import keys, tokens
from licensing.models import (
    KEY_REVOCATION_CAUSES,
    VALID_CODES,
    Device,
    KeyEndReason,
    License,
    LicenseKey,
    LicenseKeyStatus,
    LicenseStatus,
    UsageDaily,
    ValidationCode,
)
from licensing.recording import recorder

logger = logging.getLogger(__name__)


class LicensingError(Exception):
    """A staff or operator action that the current state does not allow."""


@dataclass(frozen=True)
class Outcome:
    """What a validation, activation or heartbeat found. `key` is None for NOT_FOUND."""

    code: str
    detail: str
    checked_at: datetime
    key: LicenseKey | None = None
    seats_used: int = 0
    devices_used: int = 0
    fingerprint: str | None = None
    nonce: str | None = None
    token: str | None = None
    device: Device | None = None
    created: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.code in VALID_CODES

    @property
    def license(self) -> License | None:
        return self.key.license if self.key else None


DETAILS = {code: code.label for code in ValidationCode}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- validation ----------------------------------------------------------------------------


def _evaluate(
    key: LicenseKey, *, now: datetime, fingerprint: str | None, entitlements: Sequence[str]
) -> tuple[str, str]:
    code = key.state(now)
    if code not in VALID_CODES:
        return code, DETAILS[code]
    if key.seat_rank > key.license.seats_total:
        # Stripe (portal or staff) cut the seats below those in use: the newest keys stop first.
        return ValidationCode.SEAT_LIMIT_EXCEEDED, DETAILS[ValidationCode.SEAT_LIMIT_EXCEEDED]
    missing = sorted(set(entitlements) - set(key.license.plan.entitlements))
    if missing:
        return ValidationCode.ENTITLEMENTS_MISSING, f"The plan lacks: {', '.join(missing)}."
    if fingerprint:
        rank = key.device_rank
        if rank is None:
            return ValidationCode.DEVICE_NOT_ACTIVATED, DETAILS[ValidationCode.DEVICE_NOT_ACTIVATED]
        if rank > key.license.max_devices_per_key:
            return ValidationCode.TOO_MANY_DEVICES, (
                f"This key has {key.devices_used} active devices and the plan allows "
                f"{key.license.max_devices_per_key}; deactivate one."
            )
    return code, DETAILS[code]


def _token(key: LicenseKey, *, code: str, now: datetime, fingerprint: str | None, nonce: str | None) -> str:
    license_ = key.license
    ttl_end = now + timedelta(seconds=settings.LICENSE_TOKEN_TTL_SECONDS)
    ends_at = license_.ends_at
    expires_at = min(ttl_end, ends_at) if ends_at else ttl_end
    claims = {
        "sub": str(key.public_id),
        "license": str(license_.public_id),
        "key": key.prefix,
        "user": str(key.holder.public_id),
        "plan": license_.plan.slug,
        "access_level": license_.plan.access_level,
        "entitlements": list(license_.plan.entitlements),
        "fingerprint": fingerprint,
        "grace": code == ValidationCode.GRACE,
        "grace_ends_at": int(license_.grace_ends_at.timestamp())
        if code == ValidationCode.GRACE and license_.grace_ends_at
        else None,
    }
    if nonce:
        claims["nonce"] = nonce
    return tokens.issue(claims, expires_at=expires_at)


def license_validate(
    *,
    key: str | keys.ParsedKey,
    fingerprint: str | None = None,
    entitlements: Sequence[str] = (),
    nonce: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Check a key the way the app asks; one read query, at most one write."""
    now = _now(now)
    row = LicenseKey.objects.for_validation(key, now=now, fingerprint=fingerprint)
    if row is None:
        code = ValidationCode.NOT_FOUND
        return Outcome(code=code, detail=DETAILS[code], checked_at=now, fingerprint=fingerprint, nonce=nonce)
    code, detail = _evaluate(row, now=now, fingerprint=fingerprint, entitlements=entitlements)
    recorder.record(key_id=row.pk, code=code, fingerprint=fingerprint, ip=ip, at=now)
    token = (
        _token(row, code=code, now=now, fingerprint=fingerprint, nonce=nonce) if code in VALID_CODES else None
    )
    return Outcome(
        code=code,
        detail=detail,
        checked_at=now,
        key=row,
        seats_used=row.seats_used,
        devices_used=row.devices_used,
        fingerprint=fingerprint,
        nonce=nonce,
        token=token,
    )


# --- devices -------------------------------------------------------------------------------


def device_activate(
    *,
    key: str | keys.ParsedKey,
    fingerprint: str,
    name: str = "",
    platform: str = "",
    app_version: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Activate a device on a key; activating an already active fingerprint is a no-op success.

    The key row is locked for the check-then-insert, so concurrent activations cannot pass
    the plan's device limit; the (key, fingerprint) unique constraint backs it up.
    """
    now = _now(now)
    with transaction.atomic():
        row = LicenseKey.objects.for_validation(key, now=now, fingerprint=fingerprint, lock=True)
        if row is None:
            code = ValidationCode.NOT_FOUND
            return Outcome(code=code, detail=DETAILS[code], checked_at=now, fingerprint=fingerprint)
        # The license and seat rules are validation's; only "a new device on a full key" is
        # activation's own, so an active device past the limit (after a downgrade) stays a no-op.
        code, detail = _evaluate(row, now=now, fingerprint=None, entitlements=())
        if code not in VALID_CODES:
            return Outcome(
                code=code,
                detail=detail,
                checked_at=now,
                key=row,
                seats_used=row.seats_used,
                devices_used=row.devices_used,
                fingerprint=fingerprint,
            )
        limit = row.license.max_devices_per_key
        is_counted = row.device_rank is not None
        used = row.devices_used
        if not is_counted and used >= limit:
            return Outcome(
                code=ValidationCode.TOO_MANY_DEVICES,
                detail=f"This key already has {used} of {limit} devices; deactivate one first.",
                checked_at=now,
                key=row,
                seats_used=row.seats_used,
                devices_used=used,
                fingerprint=fingerprint,
            )
        device = Device.objects.filter(key=row, fingerprint=fingerprint).first()
        created = device is None
        if created:
            device = Device(key=row, fingerprint=fingerprint)
        if not is_counted:
            # A new device, or a stale one coming back: it goes to the back of the queue.
            device.first_seen_at = now
            used += 1
        device.name = name or device.name
        device.platform = platform or device.platform
        device.app_version = app_version or device.app_version
        device.last_heartbeat_at = now
        device.last_ip = ip or device.last_ip
        device.save()
    logger.info("Device %s activated on key %s.", device.public_id, row.masked)
    return Outcome(
        code=code,
        detail=DETAILS[code],
        checked_at=now,
        key=row,
        devices_used=used,
        seats_used=row.seats_used,
        fingerprint=fingerprint,
        token=_token(row, code=code, now=now, fingerprint=fingerprint, nonce=None),
        device=device,
        created=created or not is_counted,
    )


def device_deactivate(*, key: str | keys.ParsedKey, fingerprint: str, now: datetime | None = None) -> Outcome:
    """Remove a device from a key. Allowed whatever the license state, so a slot can always be freed."""
    now = _now(now)
    row = LicenseKey.objects.for_key(key).select_related("license__plan", "holder").first()
    if row is None:
        code = ValidationCode.NOT_FOUND
        return Outcome(code=code, detail=DETAILS[code], checked_at=now, fingerprint=fingerprint)
    deleted, _ = Device.objects.filter(key=row, fingerprint=fingerprint).delete()
    if not deleted:
        return Outcome(
            code=ValidationCode.DEVICE_NOT_ACTIVATED,
            detail=DETAILS[ValidationCode.DEVICE_NOT_ACTIVATED],
            checked_at=now,
            key=row,
            fingerprint=fingerprint,
        )
    return Outcome(
        code="DEACTIVATED",
        detail="The device was deactivated.",
        checked_at=now,
        key=row,
        devices_used=Device.objects.filter(key=row).counting(now).count(),
        fingerprint=fingerprint,
    )


def device_heartbeat(
    *,
    key: str | keys.ParsedKey,
    fingerprint: str,
    app_version: str = "",
    entitlements: Sequence[str] = (),
    nonce: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """A validation that also keeps the device counted while the license is good.

    A stale or unknown device gets DEVICE_NOT_ACTIVATED and must activate again.
    """
    outcome = license_validate(
        key=key, fingerprint=fingerprint, entitlements=entitlements, nonce=nonce, ip=ip, now=now
    )
    if outcome.valid:
        changes = {"last_heartbeat_at": outcome.checked_at}
        if ip:
            changes["last_ip"] = ip
        if app_version:
            changes["app_version"] = app_version
        Device.objects.filter(key=outcome.key, fingerprint=fingerprint).update(**changes)
    return outcome


def device_cull_stale(*, days: int | None = None, now: datetime | None = None) -> int:
    """Delete devices without a heartbeat for `days` (default LICENSE_DEVICE_STALE_DAYS); returns how many."""
    window = timedelta(days=days if days is not None else settings.LICENSE_DEVICE_STALE_DAYS)
    deleted, _ = Device.objects.filter(last_heartbeat_at__lt=_now(now) - window).delete()
    return deleted


# --- usage ---------------------------------------------------------------------------------


def usage_report(
    *, key: str | keys.ParsedKey, fingerprint: str, feature: str, count: int = 1, now: datetime | None = None
) -> Outcome:
    """Add `count` uses of `feature` to today's counter for the key, from an active device."""
    now = _now(now)
    row = LicenseKey.objects.for_validation(key, now=now, fingerprint=fingerprint)
    if row is None:
        code = ValidationCode.NOT_FOUND
        return Outcome(code=code, detail=DETAILS[code], checked_at=now, fingerprint=fingerprint)
    code = row.state(now)
    if code in VALID_CODES and row.device_rank is None:
        code = ValidationCode.DEVICE_NOT_ACTIVATED
    if code not in VALID_CODES:
        return Outcome(code=code, detail=DETAILS[code], checked_at=now, key=row, fingerprint=fingerprint)
    day = timezone.localdate(now)
    updated = UsageDaily.objects.filter(key=row, day=day, feature=feature).update(count=F("count") + count)
    if not updated:
        try:
            with transaction.atomic():
                UsageDaily.objects.create(key=row, day=day, feature=feature, count=count)
        except IntegrityError:
            UsageDaily.objects.filter(key=row, day=day, feature=feature).update(count=F("count") + count)
    return Outcome(
        code="RECORDED",
        detail=f"Recorded {count} use(s) of {feature}.",
        checked_at=now,
        key=row,
        fingerprint=fingerprint,
        extra={"feature": feature, "count": count, "day": day.isoformat()},
    )


# --- issuing and staff actions ---------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    key: LicenseKey
    plaintext: str


def license_key_issue(*, license: License, holder: User) -> IssuedKey:
    """Create a key for `holder` on `license`. The plaintext is returned once and never stored."""
    plaintext = keys.generate()
    key = LicenseKey.objects.create(
        license=license,
        holder=holder,
        digest=keys.digest(plaintext),
        encrypted_key=keys.encrypt(plaintext),
        prefix=keys.public_prefix(plaintext),
    )
    return IssuedKey(key=key, plaintext=plaintext)


@transaction.atomic
def license_issue(
    *,
    owner: User,
    plan: Plan,
    expires_at: datetime | None = None,
    seats: int | None = None,
    stripe_subscription_id: str | None = None,
    status: str = LicenseStatus.ACTIVE,
) -> IssuedKey:
    """A license with the owner's key. Without a subscription it is a comp license."""
    if seats is not None and seats < 1:
        raise LicensingError("A license needs at least one seat.")
    license_ = License.objects.create(
        owner=owner,
        plan=plan,
        expires_at=expires_at,
        seats=seats,
        stripe_subscription_id=stripe_subscription_id,
        status=status,
    )
    return license_key_issue(license=license_, holder=owner)


@dataclass(frozen=True)
class CarriedKeys:
    """What `license_keys_carry_over` moved: the ended license they came from and the keys."""

    source: License | None = None
    keys: tuple[LicenseKey, ...] = ()

    @property
    def holder_ids(self) -> set[int]:
        return {key.holder_id for key in self.keys}


# A previous license whose keys may come back: it ended by itself (no staff hold, not live).
_ENDED_CODES = frozenset({ValidationCode.EXPIRED, ValidationCode.INACTIVE})


def license_keys_carry_over(*, license: License, now: datetime | None = None) -> CarriedKeys:
    """A returning customer's keys come back: move the usable keys of the owner's most recent
    previous license to `license` (a new subscription's), with their devices, usage and log.

    Only when that license has ended by itself (expired or inactive). A license staff revoked or
    suspended stays dead, and a live one is never robbed. Revoked keys stay behind (a removed
    member stays removed). A single-seat `license` takes the owner's key only. The key text is
    unchanged, so the app on the holders' machines validates again without anyone typing.

    Call it inside the transaction that created `license`; the previous license's row is locked,
    so two new subscriptions cannot both take its keys.
    """
    now = _now(now)
    previous = (
        License.objects.filter(owner_id=license.owner_id, created_at__lte=license.created_at)
        .exclude(pk=license.pk)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if previous is None:
        return CarriedKeys()
    source = License.objects.select_for_update(of=("self",)).select_related("plan").get(pk=previous)
    if source.state(now) not in _ENDED_CODES:
        return CarriedKeys()
    keys = LicenseKey.objects.filter(license=source).active().order_by("created_at", "pk")
    if license.seats_total < 2:
        keys = keys.filter(holder_id=license.owner_id)
    moved = tuple(keys.select_for_update())
    if not moved:
        return CarriedKeys(source=source)
    LicenseKey.objects.filter(pk__in=[key.pk for key in moved]).update(license=license)
    for key in moved:
        key.license = license
    logger.info(
        "%d key(s) of ended license %s carried over to license %s.",
        len(moved),
        source.public_id,
        license.public_id,
    )
    return CarriedKeys(source=source, keys=moved)


@transaction.atomic
def license_key_revoke(
    *,
    key: LicenseKey,
    reason: str,
    cause: KeyEndReason = KeyEndReason.STAFF,
    by: User | None = None,
    now: datetime | None = None,
) -> LicenseKey:
    """Revoke one key (e.g. a removed team member's); its devices go with it. `reason` is for
    staff; `cause` is what its holder is told (staff, removed from or left the team)."""
    if cause not in KEY_REVOCATION_CAUSES:
        raise LicensingError(f"A key cannot be revoked because {cause.label}.")
    key = LicenseKey.objects.select_for_update().get(pk=key.pk)
    if key.status == LicenseKeyStatus.REVOKED:
        raise LicensingError(f"Key {key.masked} is already revoked.")
    key.status = LicenseKeyStatus.REVOKED
    key.revoked_at = _now(now)
    key.revoked_reason = reason
    key.revoked_cause = cause
    key.revoked_by = by
    key.save(update_fields=["status", "revoked_at", "revoked_reason", "revoked_cause", "revoked_by"])
    key.devices.all().delete()
    return key


def _hold(license: License, *, kind: str, reason: str, by: User | None, now: datetime | None) -> License:
    """Set a staff hold (`revoked` or `suspended`): its time, reason and author. Locks the row."""
    license_ = License.objects.select_for_update().get(pk=license.pk)
    if license_.revoked_at:
        raise LicensingError(
            "This license is already revoked."
            if kind == "revoked"
            else "This license is revoked; a revoked license cannot be suspended."
        )
    if license_.suspended_at and kind == "suspended":
        raise LicensingError("This license is already suspended.")
    if not reason.strip():
        raise LicensingError("A reason is required.")
    fields = [f"{kind}_at", f"{kind}_reason", f"{kind}_by"]
    for name, value in zip(fields, [_now(now), reason, by], strict=True):
        setattr(license_, name, value)
    license_.save(update_fields=[*fields, "updated_at"])
    return license_


@transaction.atomic
def license_revoke(
    *, license: License, reason: str, by: User | None = None, now: datetime | None = None
) -> License:
    """Revoke a license for good: every key stops working and no webhook brings it back."""
    return _hold(license, kind="revoked", reason=reason, by=by, now=now)


@transaction.atomic
def license_suspend(
    *, license: License, reason: str, by: User | None = None, now: datetime | None = None
) -> License:
    """Suspend a license until staff reinstate it; webhooks do not lift a suspension."""
    return _hold(license, kind="suspended", reason=reason, by=by, now=now)


@transaction.atomic
def license_reinstate(*, license: License) -> License:
    """Lift a suspension. Revocation is final: issue a new license instead."""
    license_ = License.objects.select_for_update().get(pk=license.pk)
    if license_.revoked_at:
        raise LicensingError("This license is revoked; revocation cannot be undone. Issue a new license.")
    if not license_.suspended_at:
        raise LicensingError("This license is not suspended.")
    license_.suspended_at = None
    license_.suspended_reason = ""
    license_.suspended_by = None
    license_.save(update_fields=["suspended_at", "suspended_reason", "suspended_by", "updated_at"])
    return license_


def license_extend_comp(*, license: License, through: date, now: datetime | None = None) -> License:
    """Move a comp license's end to the end of `through` (UTC) and make it active again."""
    with transaction.atomic():
        row = License.objects.select_for_update().get(pk=license.pk)
        if row.stripe_subscription_id:
            raise LicensingError("It is billed through Stripe; its period comes from the subscription.")
        if row.revoked_at:
            raise LicensingError("It is revoked; issue a new license instead.")
        ends = datetime.combine(through, time.max, tzinfo=UTC)
        if ends <= (now or timezone.now()):
            raise LicensingError("The new end is in the past.")
        row.expires_at, row.grace_ends_at, row.status = ends, None, LicenseStatus.ACTIVE
        row.save(update_fields=["expires_at", "grace_ends_at", "status", "updated_at"])
    return row

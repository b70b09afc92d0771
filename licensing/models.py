import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from billing.models import Interval, Plan
from licensing import keys


class LicenseStatus(models.TextChoices):
    """The billing state, derived from Stripe (or set by hand for comp licenses).

    Staff suspension and revocation are kept apart in their own fields so that no webhook
    ever undoes them.
    """

    ACTIVE = "active", "Active"
    GRACE = "grace", "Past due (grace period)"
    INACTIVE = "inactive", "Inactive (unpaid or canceled)"


class ValidationCode(models.TextChoices):
    """Outcomes of a validation, in the order they are checked."""

    NOT_FOUND = "NOT_FOUND", "No such license key."
    REVOKED = "REVOKED", "The license or this key has been revoked."
    SUSPENDED = "SUSPENDED", "The license is suspended."
    EXPIRED = "EXPIRED", "The license has expired."
    INACTIVE = "INACTIVE", "The subscription is unpaid or canceled."
    SEAT_LIMIT_EXCEEDED = (
        "SEAT_LIMIT_EXCEEDED",
        "The license has fewer seats than keys; this key is beyond them.",
    )
    ENTITLEMENTS_MISSING = "ENTITLEMENTS_MISSING", "The plan lacks a requested entitlement."
    DEVICE_NOT_ACTIVATED = "DEVICE_NOT_ACTIVATED", "This device is not activated for the key."
    TOO_MANY_DEVICES = "TOO_MANY_DEVICES", "The key has more devices than its plan allows."
    GRACE = "GRACE", "Valid: payment is past due, within the grace period."
    VALID = "VALID", "Valid."


VALID_CODES = frozenset({ValidationCode.VALID, ValidationCode.GRACE})


class Tone(models.TextChoices):
    """How a badge looks: the one display mapping's colours (`qb-badge-<tone>`, `badge-<tone>`)."""

    OK = "ok", "Good"
    WARN = "warn", "Needs attention"
    BAD = "bad", "Not working"
    OFF = "off", "Not in use"
    INFO = "info", "Informational"


class LicenseState(models.TextChoices):
    """What a license is, as its customer and staff see it (the API's `license.status`, the admin's
    status filter and badge, the CSV's `state`): staff holds first, then the end date, then the
    billing state. Derived from `License.state(now)`, never stored."""

    ACTIVE = "active", "Active"
    GRACE = "grace", "Past due"
    INACTIVE = "inactive", "Inactive"
    EXPIRED = "expired", "Expired"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"

    @classmethod
    def of(cls, license_or_key, now: datetime | None = None) -> "LicenseState":
        """The state of a License (or of a LicenseKey: a revoked key reads as revoked) at `now`."""
        return cls.from_code(license_or_key.state(now or timezone.now()))

    @classmethod
    def from_code(cls, code: "ValidationCode") -> "LicenseState":
        return _STATE_OF_CODE[code]

    @property
    def tone(self) -> str:
        return _STATE_TONES[self]


_STATE_OF_CODE = {
    ValidationCode.VALID: LicenseState.ACTIVE,
    ValidationCode.GRACE: LicenseState.GRACE,
    ValidationCode.INACTIVE: LicenseState.INACTIVE,
    ValidationCode.EXPIRED: LicenseState.EXPIRED,
    ValidationCode.SUSPENDED: LicenseState.SUSPENDED,
    ValidationCode.REVOKED: LicenseState.REVOKED,
}
# The outcomes `License.state` answers; the others are about one key (seats, devices, entitlements).
LICENSE_LEVEL_CODES = frozenset(_STATE_OF_CODE)


class PaymentStatus(models.TextChoices):
    """A customer's billing standing, from their current license (`licensing.figures`)."""

    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    COMP = "comp", "Comp (not billed)"
    NONE = "none", "None"

    @property
    def tone(self) -> str:
        return _PAYMENT_TONES[self]


# The one display mapping: each state's and payment status's badge colour (its label is the choice's).
_STATE_TONES = {
    LicenseState.ACTIVE: Tone.OK,
    LicenseState.GRACE: Tone.WARN,
    LicenseState.INACTIVE: Tone.OFF,
    LicenseState.EXPIRED: Tone.BAD,
    LicenseState.SUSPENDED: Tone.BAD,
    LicenseState.REVOKED: Tone.BAD,
}
_PAYMENT_TONES = {
    PaymentStatus.ACTIVE: Tone.OK,
    PaymentStatus.PAST_DUE: Tone.WARN,
    PaymentStatus.CANCELED: Tone.BAD,
    PaymentStatus.COMP: Tone.INFO,
    PaymentStatus.NONE: Tone.OFF,
}


def stale_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.LICENSE_DEVICE_STALE_DAYS)


class LicenseQuerySet(models.QuerySet):
    """The states of `LicenseState` as filters, so a list, a count and a page agree with
    `LicenseState.of(license)`; each `*_q` is the same condition for `Case`, `Count(filter=)` or `Q`."""

    @staticmethod
    def billed_q() -> Q:
        """A Stripe subscription that still bills (active or past due), whatever staff did."""
        return Q(stripe_subscription_id__isnull=False, status__in=[LicenseStatus.ACTIVE, LicenseStatus.GRACE])

    @staticmethod
    def ended_q(now: datetime) -> Q:
        """The period (or, while past due, the grace) has ended: `License.ends_at <= now`."""
        grace = Q(status=LicenseStatus.GRACE, grace_ends_at__isnull=False)
        return (grace & Q(grace_ends_at__lte=now)) | (~grace & Q(expires_at__lte=now))

    @classmethod
    def state_q(cls, state: "LicenseState", now: datetime) -> Q:
        unheld = Q(revoked_at__isnull=True, suspended_at__isnull=True)
        match LicenseState(state):
            case LicenseState.REVOKED:
                return Q(revoked_at__isnull=False)
            case LicenseState.SUSPENDED:
                return Q(revoked_at__isnull=True, suspended_at__isnull=False)
            case LicenseState.EXPIRED:
                return unheld & cls.ended_q(now)
            case LicenseState.ACTIVE | LicenseState.GRACE | LicenseState.INACTIVE as billing:
                return unheld & ~cls.ended_q(now) & Q(status=_STATUS_OF_STATE[billing])

    @classmethod
    def live_q(cls, now: datetime) -> Q:
        return cls.state_q(LicenseState.ACTIVE, now) | cls.state_q(LicenseState.GRACE, now)

    def billed(self):
        return self.filter(self.billed_q())

    def ended(self, now: datetime):
        return self.filter(self.ended_q(now))

    def live(self, now: datetime):
        """Licenses whose keys validate at `now` (active or past due): no staff hold, not ended."""
        return self.filter(self.live_q(now))

    def in_state(self, state: "LicenseState", now: datetime):
        return self.filter(self.state_q(state, now))

    def with_seats_used(self, now: datetime | None = None):
        """Annotate `seats_used` by the one rule (`seats_used_sql`)."""
        column = f"{connections[self.db].ops.quote_name(self.model._meta.db_table)}.id"
        params = (LicenseKeyStatus.ACTIVE, now or timezone.now())
        # Only table names go into the SQL text; the values are parameters.
        return self.annotate(seats_used=RawSQL(seats_used_sql(column, alias=self.db), params))  # noqa: S611


_STATUS_OF_STATE = {
    LicenseState.ACTIVE: LicenseStatus.ACTIVE,
    LicenseState.GRACE: LicenseStatus.GRACE,
    LicenseState.INACTIVE: LicenseStatus.INACTIVE,
}


class License(models.Model):
    """The entitlement bought by one subscription or issued by hand; every key inherits its state."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="licenses")
    plan = models.ForeignKey("billing.Plan", on_delete=models.PROTECT, related_name="licenses")
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=20, choices=LicenseStatus.choices, default=LicenseStatus.ACTIVE)
    seats = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the plan's seats (comp licenses); empty: the plan's."
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="End of the paid period or of a comp license; empty: no end."
    )
    payment_failed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the unpaid invoice's payment first failed; grace counts from it.",
    )
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    billing_interval = models.CharField(
        max_length=10,
        choices=Interval.choices,
        default=Interval.MONTH,
        help_text="The subscription's period.",
    )
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=500, blank=True)
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=500, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LicenseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seats__isnull=True) | Q(seats__gte=1), name="license_seats_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} license of {self.owner.email}"

    @property
    def seats_total(self) -> int:
        return self.seats or self.plan.seats

    @property
    def max_devices_per_key(self) -> int:
        return self.plan.devices_per_seat

    @property
    def ends_at(self) -> datetime | None:
        """When access ends: the grace end while past due, else the period end."""
        if self.status == LicenseStatus.GRACE and self.grace_ends_at:
            return self.grace_ends_at
        return self.expires_at

    def state(self, now: datetime) -> ValidationCode:
        """The license-level outcome: REVOKED ... INACTIVE, or GRACE / VALID."""
        if self.revoked_at:
            return ValidationCode.REVOKED
        if self.suspended_at:
            return ValidationCode.SUSPENDED
        ends_at = self.ends_at
        if ends_at is not None and ends_at <= now:
            return ValidationCode.EXPIRED
        if self.status == LicenseStatus.INACTIVE:
            return ValidationCode.INACTIVE
        if self.status == LicenseStatus.GRACE:
            return ValidationCode.GRACE
        return ValidationCode.VALID

    @property
    def current_state(self) -> LicenseState:
        """`LicenseState.of(self)` now, for templates."""
        return LicenseState.of(self)


class LicenseKeyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"


class KeyEndReason(models.TextChoices):
    """Why a key stopped working, in the words its holder reads (dashboard, customer API).

    REMOVED, LEFT and STAFF are stored on a revoked key (`LicenseKey.revoked_cause`); the others
    come from its license (`LicenseKey.end_reason`)."""

    REMOVED = "removed", "removed from the team"
    LEFT = "left", "left the team"
    STAFF = "staff", "revoked by QualityBytes staff"
    SUSPENDED = "suspended", "suspended by QualityBytes staff"
    SUBSCRIPTION_ENDED = "subscription_ended", "the subscription ended"


# Causes a revocation may record; the others are read from the license.
KEY_REVOCATION_CAUSES = [KeyEndReason.REMOVED, KeyEndReason.LEFT, KeyEndReason.STAFF]
# A membership that ended: its key is no plan of the holder's any more.
MEMBERSHIP_ENDED = frozenset({KeyEndReason.REMOVED, KeyEndReason.LEFT})


def seats_used_sql(license_id_column: str, *, alias: str = "default") -> str:
    """The one rule for "seats used", as SQL: the license's active keys (owner included) plus its
    team's pending invitations, each of which holds a seat until it is accepted, revoked or
    expires (DESIGN: "Pending invitations count against seats"). Parameters: the active key
    status, then now. Validation's one query, the dashboard, the customer API and the admin
    read it from here; `teams.selectors.seats_count` counts the same two parts for the team page
    and the seat checks (a test holds them all to one number).

    The team tables are named through the app registry, not imported: licensing sits below teams."""
    q = connections[alias].ops.quote_name
    team, invitation = apps.get_model("teams", "Team"), apps.get_model("teams", "Invitation")
    return f"""((SELECT COUNT(*) FROM {q(LicenseKey._meta.db_table)} seat_key
          WHERE seat_key.license_id = {license_id_column} AND seat_key.status = %s)
        + (SELECT COUNT(*) FROM {q(invitation._meta.db_table)} seat_inv
          JOIN {q(team._meta.db_table)} seat_team ON seat_team.id = seat_inv.team_id
          WHERE seat_team.license_id = {license_id_column} AND seat_inv.accepted_at IS NULL
            AND seat_inv.revoked_at IS NULL AND seat_inv.expires_at > %s))"""


class LicenseKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=LicenseKeyStatus.ACTIVE)

    def with_seats_used(self, now: datetime | None = None):
        """Annotate `seats_used`: the license's seats used by the one rule (`seats_used_sql`)."""
        column = f"{connections[self.db].ops.quote_name(self.model._meta.db_table)}.license_id"
        params = (LicenseKeyStatus.ACTIVE, now or timezone.now())
        # Only table names go into the SQL text; the values are parameters.
        return self.annotate(seats_used=RawSQL(seats_used_sql(column, alias=self.db), params))  # noqa: S611

    def for_key(self, key: "str | keys.ParsedKey"):
        """The row for a plaintext key (InvalidKey when it is not one); compares digests only."""
        return self.filter(digest=keys.digest(key))

    def matching(self, key_or_prefix: str):
        """Operator look-up by a full key or by its public prefix (``QB-XXXXX``)."""
        try:
            return self.for_key(key_or_prefix)
        except keys.InvalidKey:
            return self.filter(prefix__iexact=key_or_prefix.strip())

    def for_validation(
        self, key: "str | keys.ParsedKey", *, now: datetime, fingerprint: str | None, lock: bool = False
    ) -> "LicenseKey | None":
        """The key with its license, plan and holder, and the counts a validation needs, in one query.

        Sets `seats_used` (the license's seats used, by `seats_used_sql`), `seat_rank` (this key's
        place among the active keys by age: beyond the license's seats it answers
        SEAT_LIMIT_EXCEEDED), `devices_used` (non-stale devices of the key) and `device_rank`: the
        position of `fingerprint` among the key's non-stale devices by first activation (None when
        it is not active), so that after a downgrade the earliest devices keep working. This is the
        hot path: the SQL is written once per process instead of being built by the ORM on every
        call, which cost ten times the query itself.

        `lock` (inside a transaction) first locks the key row, for a check-then-insert such as an
        activation. The lock is its own statement: under READ COMMITTED a statement reads one
        snapshot, so a `FOR UPDATE` on this query would wait for a concurrent activation and then
        still count the devices as they were before it inserted.
        """
        digest = keys.digest(key)
        if lock and not self.filter(digest=digest).select_for_update().values_list("pk", flat=True):
            return None
        connection = connections[self.db]
        sql, blocks = _validation_sql(connection.alias, bool(fingerprint))
        cutoff = stale_cutoff(now)
        params = [LicenseKeyStatus.ACTIVE, now, LicenseKeyStatus.ACTIVE, cutoff]
        if fingerprint:
            params += [fingerprint, cutoff, cutoff]
        params.append(digest)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        instances = []
        offset = 0
        for model, attnames, converters in blocks:
            values = list(row[offset : offset + len(attnames)])
            for index, convert in converters:
                values[index] = convert(values[index])
            instances.append(model.from_db(self.db, attnames, values))
            offset += len(attnames)
        license_key, license_, plan, holder = instances
        license_.plan = plan
        license_key.license = license_
        license_key.holder = holder
        license_key.seats_used, license_key.seat_rank = row[offset], row[offset + 1]
        license_key.devices_used = row[offset + 2]
        license_key.device_rank = (row[offset + 3] or None) if fingerprint else None
        return license_key


# Holder columns the API shows; the rest of the user row stays deferred.
_HOLDER_FIELDS = ("id", "public_id", "email", "name")


@lru_cache(maxsize=8)
def _validation_sql(alias: str, with_fingerprint: bool):
    connection = connections[alias]
    q = connection.ops.quote_name
    selects = [(LicenseKey, "k", None), (License, "l", None), (Plan, "p", None), (User, "u", _HOLDER_FIELDS)]
    columns, blocks = [], []
    for model, alias_, wanted in selects:
        fields = [f for f in model._meta.concrete_fields if wanted is None or f.name in wanted]
        columns += [f"{alias_}.{q(f.column)}" for f in fields]
        converters = []
        for index, field in enumerate(fields):
            expression = field.get_col(alias_)
            found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
            if found:
                converters.append((index, _chain(found, expression, connection)))
        blocks.append((model, [f.attname for f in fields], converters))
    key_table, device_table = q(LicenseKey._meta.db_table), q(Device._meta.db_table)
    rank = ""
    if with_fingerprint:
        rank = f""",
            (SELECT COUNT(*) FROM {device_table} d JOIN {device_table} me ON me.key_id = d.key_id
             WHERE d.key_id = k.id AND me.fingerprint = %s AND me.last_heartbeat_at >= %s
               AND d.last_heartbeat_at >= %s
               AND (d.first_seen_at < me.first_seen_at
                    OR (d.first_seen_at = me.first_seen_at AND d.id <= me.id)))"""
    sql = f"""
        SELECT {", ".join(columns)},
            {seats_used_sql("k.license_id", alias=alias)},
            (SELECT COUNT(*) FROM {key_table} s WHERE s.license_id = k.license_id AND s.status = %s
               AND (s.created_at < k.created_at OR (s.created_at = k.created_at AND s.id <= k.id))),
            (SELECT COUNT(*) FROM {device_table} d WHERE d.key_id = k.id AND d.last_heartbeat_at >= %s){rank}
        FROM {key_table} k
        JOIN {q(License._meta.db_table)} l ON l.id = k.license_id
        JOIN {q(Plan._meta.db_table)} p ON p.id = l.plan_id
        JOIN {q(User._meta.db_table)} u ON u.id = k.holder_id
        WHERE k.digest = %s
    """
    return sql, blocks


def _chain(converters, expression, connection):
    def convert(value):
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert


class LicenseKey(models.Model):
    """One seat holder's key. Only a digest, an encrypted copy and the public prefix are stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="keys")
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="license_keys"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    encrypted_key = models.TextField(editable=False)
    prefix = models.CharField(max_length=keys.PUBLIC_PREFIX_LENGTH, db_index=True, editable=False)
    status = models.CharField(
        max_length=20, choices=LicenseKeyStatus.choices, default=LicenseKeyStatus.ACTIVE
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=500, blank=True)
    revoked_cause = models.CharField(
        max_length=20,
        choices=[(c.value, c.label) for c in KEY_REVOCATION_CAUSES],
        blank=True,
        help_text="Why the key was revoked, for its holder: removed from or left the team, or staff.",
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who revoked it (the team's owner or admin, or staff), when known.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_validated_at = models.DateTimeField(null=True, blank=True)

    objects = LicenseKeyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["license", "holder"],
                condition=Q(status="active"),
                name="licensekey_one_active_key_per_holder",
            ),
            models.CheckConstraint(
                condition=Q(status="revoked") | Q(revoked_at__isnull=True),
                name="licensekey_revoked_at_only_when_revoked",
            ),
            models.CheckConstraint(
                condition=Q(status="revoked") | Q(revoked_cause=""),
                name="licensekey_revoked_cause_only_when_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-… ({self.holder.email})"

    @property
    def masked(self) -> str:
        return f"{self.prefix}-…"

    def reveal(self) -> str:
        """The plaintext key, for its holder's dashboard only."""
        return keys.decrypt(self.encrypted_key)

    def state(self, now: datetime) -> ValidationCode:
        if self.status == LicenseKeyStatus.REVOKED:
            return ValidationCode.REVOKED
        return self.license.state(now)

    def end_reason(self, now: datetime | None = None) -> KeyEndReason | None:
        """Why the key does not work, in its holder's words; None while it validates (or is past
        due: the license's status line speaks of that)."""
        if self.status == LicenseKeyStatus.REVOKED:
            return KeyEndReason(self.revoked_cause or KeyEndReason.STAFF)
        return _END_REASON_OF_CODE.get(self.license.state(now or timezone.now()))

    @property
    def membership_ended(self) -> bool:
        """The holder was removed from, or left, the team this key was for."""
        return self.status == LicenseKeyStatus.REVOKED and self.revoked_cause in MEMBERSHIP_ENDED


_END_REASON_OF_CODE = {
    ValidationCode.REVOKED: KeyEndReason.STAFF,
    ValidationCode.SUSPENDED: KeyEndReason.SUSPENDED,
    ValidationCode.EXPIRED: KeyEndReason.SUBSCRIPTION_ENDED,
    ValidationCode.INACTIVE: KeyEndReason.SUBSCRIPTION_ENDED,
}


class DeviceQuerySet(models.QuerySet):
    def counting(self, now: datetime | None = None):
        """Devices that count against the limit: a heartbeat within the stale window."""
        return self.filter(last_heartbeat_at__gte=stale_cutoff(now))


class Device(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="devices")
    fingerprint = models.CharField(max_length=200)
    name = models.CharField(max_length=100, blank=True)
    platform = models.CharField(max_length=50, blank=True)
    app_version = models.CharField(max_length=50, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_heartbeat_at = models.DateTimeField(default=timezone.now)
    last_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "fingerprint"], name="device_unique_fingerprint_per_key"),
        ]
        indexes = [models.Index(fields=["key", "last_heartbeat_at"], name="device_key_heartbeat_idx")]

    def __str__(self) -> str:
        return self.name or self.fingerprint[:16]


class ValidationEvent(models.Model):
    """A sampled validation log: a key's outcome is recorded when it changes and otherwise at
    most once per LICENSE_TOUCH_INTERVAL_SECONDS; `prune_validation_events` bounds its age."""

    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="validation_events")
    code = models.CharField(max_length=32, choices=ValidationCode.choices)
    fingerprint = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["key", "-created_at"], name="validationevent_key_time_idx")]

    def __str__(self) -> str:
        return f"{self.code} at {self.created_at:%Y-%m-%d %H:%M}"


class UsageDaily(models.Model):
    """Daily counters per key and feature; validations are counted under VALIDATIONS."""

    VALIDATIONS = "@validations"

    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    feature = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "feature"]
        verbose_name_plural = "usage (daily)"
        constraints = [
            models.UniqueConstraint(
                fields=["key", "day", "feature"], name="usagedaily_unique_key_day_feature"
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="usagedaily_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.feature} on {self.day}: {self.count}"

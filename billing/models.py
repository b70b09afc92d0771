from django.core.exceptions import ValidationError
from django.db import models


class AccessLevel(models.TextChoices):
    SOLO = "solo", "Solo"
    TEAM = "team", "Team"
    ENTERPRISE = "enterprise", "Enterprise"


class Interval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class PlanQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)


def validate_entitlements(value):
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValidationError("Entitlements must be a list of non-empty strings.")


class Plan(models.Model):
    """One entry of the catalogue. Prices are display amounts in cents; Stripe holds the
    billable Price objects, found by the lookup keys."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    access_level = models.CharField(max_length=20, choices=AccessLevel.choices)
    seats = models.PositiveIntegerField(help_text="Users allowed per license.")
    devices_per_seat = models.PositiveIntegerField()
    entitlements = models.JSONField(default=list, blank=True, validators=[validate_entitlements])
    grace_days = models.PositiveIntegerField(default=7)
    currency = models.CharField(max_length=3, default="usd")
    monthly_amount = models.PositiveIntegerField(help_text="Monthly price in cents.")
    yearly_amount = models.PositiveIntegerField(help_text="Yearly price in cents.")
    monthly_lookup_key = models.CharField(max_length=100, unique=True)
    yearly_lookup_key = models.CharField(max_length=100, unique=True)
    is_public = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "monthly_amount"]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="plan_seats_at_least_one"),
            models.CheckConstraint(
                condition=models.Q(devices_per_seat__gte=1), name="plan_devices_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def amount_for(self, interval: str) -> int:
        return self.yearly_amount if interval == Interval.YEAR else self.monthly_amount

    def lookup_key_for(self, interval: str) -> str:
        return self.yearly_lookup_key if interval == Interval.YEAR else self.monthly_lookup_key


class PlanPrice(models.Model):
    """Every Stripe price that was ever a plan's own, so that subscribers who stay on an old
    price (Stripe keeps them there after a price change, for years) keep their plan."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="prices")
    interval = models.CharField(max_length=10, choices=Interval.choices)
    stripe_price_id = models.CharField(max_length=255, unique=True)
    unit_amount = models.PositiveIntegerField(help_text="In cents, as Stripe charges it.")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "interval", "-created_at"]

    def __str__(self) -> str:
        return f"{self.plan.name} {self.interval} {self.stripe_price_id}"


DEFAULT_CATALOGUE = [
    {
        "slug": "solo",
        "name": "Solo",
        "description": "For one person on their own machines.",
        "access_level": AccessLevel.SOLO,
        "seats": 1,
        "devices_per_seat": 2,
        "entitlements": ["core"],
        "grace_days": 7,
        "monthly_amount": 1200,
        "yearly_amount": 12000,
        "sort_order": 10,
    },
    {
        "slug": "team",
        "name": "Team",
        "description": "For small teams who work together.",
        "access_level": AccessLevel.TEAM,
        "seats": 5,
        "devices_per_seat": 3,
        "entitlements": ["core", "collaboration", "priority_support"],
        "grace_days": 7,
        "monthly_amount": 4900,
        "yearly_amount": 49000,
        "sort_order": 20,
    },
    {
        "slug": "enterprise",
        "name": "Enterprise",
        "description": "For organisations that need SSO and audit exports.",
        "access_level": AccessLevel.ENTERPRISE,
        "seats": 50,
        "devices_per_seat": 5,
        "entitlements": ["core", "collaboration", "priority_support", "sso", "audit_export"],
        "grace_days": 14,
        "monthly_amount": 19900,
        "yearly_amount": 199000,
        "sort_order": 30,
    },
]


class PaymentEventKind(models.TextChoices):
    REFUND = "refund", "Refund"
    DISPUTE_OPENED = "dispute_opened", "Dispute opened"
    DISPUTE_WON = "dispute_won", "Dispute won"
    DISPUTE_LOST = "dispute_lost", "Dispute lost"


class PaymentEvent(models.Model):
    """Money that came back or was contested on a license's subscription: each refund and each
    step of a dispute, once (unique per Stripe object and kind), whatever order Stripe's events
    arrive in and however often."""

    license = models.ForeignKey("licensing.License", on_delete=models.CASCADE, related_name="payment_events")
    kind = models.CharField(max_length=20, choices=PaymentEventKind.choices)
    stripe_id = models.CharField(max_length=255, help_text="The refund (re_…) or dispute (du_…).")
    charge_id = models.CharField(max_length=255, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    amount = models.PositiveIntegerField(help_text="In cents.")
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=200, blank=True)
    full = models.BooleanField(default=False, help_text="A refund of the whole charge.")
    happened_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-happened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["stripe_id", "kind"], name="payment_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.stripe_id}"

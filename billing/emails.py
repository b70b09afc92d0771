"""Billing's emails: one function per message, each building its own context (sent through the
outbox when the surrounding transaction commits)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from billing.models import PaymentEvent, Plan
from billing.selectors import cancellation_facts
from licensing.models import License
from qualitybytes.emails import send_on_commit


def _owner_context(license_: License) -> dict:
    return {"user": license_.owner, "plan": license_.plan, "license": license_}


def send_license_key(*, license: License, key: str) -> None:
    """The first payment's key and how to activate it: the one email that must never be lost."""
    send_on_commit("license-key", to=license.owner.email, context={**_owner_context(license), "key": key})


def send_keys_restored(*, license: License, keys: list, excess: int = 0) -> None:
    """A returning customer's previous keys work again on the new subscription: the owner is told
    so, with the keys' public prefixes only (the key text is the one they already have)."""
    own = [key for key in keys if key.holder_id == license.owner_id]
    members = [key for key in keys if key.holder_id != license.owner_id]
    context = {
        **_owner_context(license),
        "own_keys": own,
        "member_count": len(members),
        "excess": excess,
        "team_url": reverse("teams:detail"),
    }
    send_on_commit("license-key-restored", to=license.owner.email, context=context)


def send_payment_failed(*, license: License) -> None:
    # A stable page of ours that sends to whatever invoice is open when the link is followed.
    context = {
        **_owner_context(license),
        "pay_url": reverse("billing:pay"),
        "portal_url": reverse("billing:manage"),
    }
    send_on_commit("payment-failed", to=license.owner.email, context=context)


def send_cancellation_scheduled(*, license: License) -> None:
    """The owner chose to end the subscription at the period end (our page or Stripe's portal)."""
    context = {
        **_owner_context(license),
        "cancellation": cancellation_facts(license),
        "manage_url": reverse("billing:manage"),
    }
    send_on_commit("subscription-cancel-scheduled", to=license.owner.email, context=context)


def send_subscription_canceled(*, license: License) -> None:
    send_on_commit("subscription-canceled", to=license.owner.email, context=_owner_context(license))


def send_plan_changed(*, license: License, old_plan: Plan) -> None:
    context = {**_owner_context(license), "old_plan": old_plan}
    send_on_commit("plan-changed", to=license.owner.email, context=context)


def send_payment_refunded(*, event: PaymentEvent) -> None:
    license_ = event.license
    context = {"user": license_.owner, "license": license_, "event": event}
    send_on_commit("payment-refunded", to=license_.owner.email, context=context)


def send_payment_disputed(*, license: License, dispute: dict, suspended: bool) -> None:
    context = {"user": license.owner, "license": license, "dispute": dispute, "suspended": suspended}
    send_on_commit("payment-disputed", to=license.owner.email, context=context)


def send_dispute_closed(*, license: License, dispute: dict, won: bool) -> None:
    context = {"user": license.owner, "license": license, "dispute": dispute, "won": won}
    send_on_commit("dispute-closed", to=license.owner.email, context=context)


def staff_emails() -> list[str]:
    """STAFF_NOTIFICATION_EMAILS, or every active superuser when it is empty."""
    if settings.STAFF_NOTIFICATION_EMAILS:
        return list(settings.STAFF_NOTIFICATION_EMAILS)
    users = get_user_model().objects.filter(is_superuser=True, is_active=True)
    return sorted(users.values_list("email", flat=True))


def send_staff_payment_alert(*, license: License, subject: str, lines: list[str]) -> None:
    """Money came back on a license: every staff address gets the facts and a link to it."""
    url = settings.SITE_URL + reverse("admin:licensing_license_change", args=[license.pk])
    for address in staff_emails():
        send_on_commit(
            "staff-payment-alert",
            to=address,
            context={"subject": subject, "lines": lines, "license": license, "admin_url": url},
        )

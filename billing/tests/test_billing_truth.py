"""Billing truth: the license follows the money on the paths a payments engineer replays —
grace from the failed payment, old prices, owners after the customer changes, two checkouts,
plan changes that must be paid first. Real HTTP to the Stripe simulator, signed webhooks into
the real endpoint, and the validation API's answer at the end of each path."""

from datetime import UTC, datetime, timedelta

import pytest
import stripe
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from djstripe.models import Customer

from accounts.tests.factories import UserFactory
from billing.models import Plan, PlanPrice
from billing.tests.lifecycle import buy, change_plan, start_checkout, subscribe_in_stripe_dashboard, validate
from licensing.models import License, LicenseStatus
from licensing.selectors import duplicate_subscriptions, live_license_for

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE = timedelta(seconds=5)


def now() -> datetime:
    return datetime.now(tz=UTC)


# --- grace counts from the failed payment ---------------------------------------------------


@pytest.mark.parametrize("interval, period_days", [("month", 28), ("year", 365)])
def test_a_failed_renewal_gives_exactly_the_plans_grace_days_from_the_failure(
    client, catalogue, buyer, interval, period_days
):
    license_ = buy(client, catalogue, buyer, plan="team", interval=interval)
    mail.outbox.clear()
    failed_at = now()
    catalogue.fail_payment(license_.stripe_subscription_id)
    license_.refresh_from_db()
    assert license_.status == LicenseStatus.GRACE
    assert abs(license_.payment_failed_at - failed_at) < CLOSE
    assert abs(license_.grace_ends_at - (failed_at + timedelta(days=7))) < CLOSE
    # Stripe already moved the period a whole month or year on; that is not the grace.
    assert license_.expires_at > failed_at + timedelta(days=period_days)

    answer = validate(client, license_)
    assert (answer["valid"], answer["code"]) == (True, "GRACE")
    assert answer["license"]["grace_ends_at"].startswith(license_.grace_ends_at.strftime("%Y-%m-%dT%H:%M"))
    shown = license_.grace_ends_at.strftime("%-d %B %Y")
    [failed_mail] = [m for m in mail.outbox if "payment failed" in m.subject.lower()]
    assert shown in failed_mail.body
    client.force_login(buyer)
    assert license_.grace_ends_at.strftime("%-d %b %Y") in client.get(reverse("dashboard")).content.decode()
    me = client.get("/api/v1/me/licenses").json()
    assert me[0]["grace_ends_at"].startswith(license_.grace_ends_at.strftime("%Y-%m-%dT%H:%M"))


def test_a_second_failed_invoice_while_past_due_adds_no_grace(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    catalogue.fail_payment(license_.stripe_subscription_id)
    license_.refresh_from_db()
    first_grace_end = license_.grace_ends_at
    catalogue.advance_clock(5 * 86400)
    catalogue.renew(license_.stripe_subscription_id, succeed=False)
    license_.refresh_from_db()
    assert license_.status == LicenseStatus.GRACE
    assert license_.grace_ends_at == first_grace_end


def test_grace_ends_at_once_when_stripe_gives_up(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer)
    catalogue.fail_payment(license_.stripe_subscription_id)
    catalogue.exhaust_retries(license_.stripe_subscription_id, outcome="cancel")
    license_.refresh_from_db()
    assert (license_.status, license_.grace_ends_at, license_.payment_failed_at) == (
        LicenseStatus.INACTIVE,
        None,
        None,
    )
    answer = validate(client, license_)
    assert (answer["valid"], answer["code"]) == (False, "INACTIVE")


def test_grace_from_a_failed_charge_in_the_middle_of_a_period(client, catalogue, buyer):
    """A change made in the portal that Stripe bills at once (another interval) and that fails
    leaves the subscription past due mid-period: grace counts from that charge too."""
    license_ = buy(client, catalogue, buyer, plan="team", interval="month")
    yearly = stripe.Price.list(lookup_keys=["qb_team_yearly"]).data[0]
    catalogue.fail_next_payments(1)
    failed_at = now()
    catalogue.change_price(license_.stripe_subscription_id, yearly["id"])
    license_.refresh_from_db()
    assert license_.status == LicenseStatus.GRACE
    assert abs(license_.grace_ends_at - (failed_at + timedelta(days=7))) < CLOSE
    assert validate(client, license_)["code"] == "GRACE"


# --- a plan is recognised by every price that was ever its own -------------------------------


def test_subscribers_on_an_old_price_keep_their_plan_through_price_changes_and_renewals(
    client, catalogue, buyer
):
    license_ = buy(client, catalogue, buyer, plan="team")
    first_price = stripe.Subscription.retrieve(license_.stripe_subscription_id)["items"]["data"][0]["price"][
        "id"
    ]
    for amount in (5900, 6900):
        Plan.objects.filter(slug="team").update(monthly_amount=amount)
        call_command("sync_plans")
    current = stripe.Price.list(lookup_keys=["qb_team_monthly"]).data[0]
    assert current["unit_amount"] == 6900 and current["id"] != first_price
    assert stripe.Price.retrieve(first_price)["lookup_key"] is None  # the key moved on

    for _ in range(2):
        catalogue.renew(license_.stripe_subscription_id)
    license_.refresh_from_db()
    assert (license_.plan.slug, license_.status) == ("team", LicenseStatus.ACTIVE)
    assert validate(client, license_)["code"] == "VALID"
    assert set(
        PlanPrice.objects.filter(plan__slug="team", interval="month").values_list("unit_amount", flat=True)
    ) == {
        4900,
        5900,
        6900,
    }
    call_command("reconcile_subscriptions")  # no error for the subscriber on the old price


def test_a_price_known_only_by_its_metadata_is_recognised_and_remembered(client, catalogue, buyer):
    """Deployments older than the price record: the price's metadata names the plan."""
    license_ = buy(client, catalogue, buyer, plan="team")
    PlanPrice.objects.all().delete()
    Plan.objects.filter(slug="team").update(monthly_amount=5900)
    call_command("sync_plans")  # the old price loses its lookup key
    PlanPrice.objects.exclude(unit_amount=5900).delete()
    catalogue.renew(license_.stripe_subscription_id)
    license_.refresh_from_db()
    assert license_.plan.slug == "team" and license_.status == LicenseStatus.ACTIVE
    assert PlanPrice.objects.filter(plan__slug="team", unit_amount=4900).exists()


def test_a_recorded_price_is_recognised_when_stripe_no_longer_names_its_plan(client, catalogue, buyer):
    """Metadata can be edited in the Stripe dashboard and the lookup key moves on: the price id
    recorded by `sync_plans` still names the plan."""
    license_ = buy(client, catalogue, buyer, plan="team")
    old_price = stripe.Subscription.retrieve(license_.stripe_subscription_id)["items"]["data"][0]["price"][
        "id"
    ]
    Plan.objects.filter(slug="team").update(monthly_amount=5900)
    call_command("sync_plans")
    stripe.Price.modify(old_price, metadata={"plan": "", "interval": ""})
    assert stripe.Price.retrieve(old_price)["lookup_key"] is None
    assert not stripe.Price.retrieve(old_price)["metadata"].to_dict()
    period_end = license_.expires_at
    catalogue.renew(license_.stripe_subscription_id)
    assert catalogue.failed_deliveries() == []
    license_.refresh_from_db()
    assert (license_.plan.slug, license_.status) == ("team", LicenseStatus.ACTIVE)
    assert license_.expires_at > period_end  # the renewal reached the license
    assert validate(client, license_)["code"] == "VALID"


def test_checkout_refuses_a_price_that_differs_from_the_one_shown(client, catalogue, buyer):
    Plan.objects.filter(slug="team").update(monthly_amount=5900)  # edited, not synced
    client.force_login(buyer)
    response = client.post(f"{reverse('billing:subscribe', args=['team'])}?interval=month", follow=True)
    assert "being updated" in response.content.decode()
    assert not stripe.checkout.Session.list().data


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def plan_form(plan: Plan, **changes) -> dict:
    data = {
        field: getattr(plan, field)
        for field in (
            "slug",
            "name",
            "description",
            "access_level",
            "seats",
            "devices_per_seat",
            "grace_days",
            "currency",
            "monthly_amount",
            "yearly_amount",
            "monthly_lookup_key",
            "yearly_lookup_key",
            "sort_order",
        )
    }
    data.update(entitlements=str(plan.entitlements).replace("'", '"'), is_public="on")
    data.update(changes)
    return data


def test_a_price_edited_in_the_admin_is_synced_to_stripe_before_it_is_shown(client, catalogue, staff):
    team = Plan.objects.get(slug="team")
    client.force_login(staff)
    url = reverse("admin:billing_plan_change", args=[team.pk])
    response = client.post(url, plan_form(team, monthly_amount=5500))
    assert response.status_code == 302, response.content.decode()[:3000]
    price = stripe.Price.list(lookup_keys=["qb_team_monthly"]).data[0]
    assert price["unit_amount"] == 5500
    assert PlanPrice.objects.filter(stripe_price_id=price["id"], plan=team).exists()
    assert "$55" in client.get(reverse("pricing")).content.decode()


def test_a_price_stripe_refuses_is_not_saved_and_the_admin_says_why(client, catalogue, staff, settings):
    team = Plan.objects.get(slug="team")
    client.force_login(staff)
    settings.STRIPE_TEST_SECRET_KEY = "sk_test_" + "0" * 30  # a key Stripe does not know
    response = client.post(
        reverse("admin:billing_plan_change", args=[team.pk]), plan_form(team, monthly_amount=5500)
    )
    assert response.status_code == 200
    assert "nothing was saved" in response.content.decode()
    team.refresh_from_db()
    assert team.monthly_amount == 4900


# --- an existing license keeps its owner --------------------------------------------------------


def test_a_license_keeps_its_owner_after_the_customer_loses_its_user(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer)
    Customer.objects.update(subscriber=None)  # what dj-stripe does on customer.deleted
    catalogue.renew(license_.stripe_subscription_id)
    catalogue.cancel_now(license_.stripe_subscription_id)
    license_.refresh_from_db()
    assert license_.owner == buyer and license_.status == LicenseStatus.INACTIVE
    assert validate(client, license_)["code"] == "INACTIVE"


def test_reconcile_subscriptions_reports_each_failure_and_repairs_the_rest(client, catalogue, buyer):
    healthy = buy(client, catalogue, buyer, plan="team")
    other = UserFactory(email="other@example.com")
    broken = buy(client, catalogue, other, plan="solo")
    License.objects.filter(pk=healthy.pk).update(status=LicenseStatus.INACTIVE)  # a lost webhook
    PlanPrice.objects.filter(plan__slug="solo").delete()
    Plan.objects.filter(slug="solo").update(
        slug="solo-gone", monthly_lookup_key="gone", yearly_lookup_key="gone2"
    )
    with pytest.raises(CommandError, match=broken.stripe_subscription_id):
        call_command("reconcile_subscriptions")
    healthy.refresh_from_db()
    assert healthy.status == LicenseStatus.ACTIVE


# --- one live subscription per customer -------------------------------------------------------


def test_a_second_checkout_expires_the_first(client, catalogue, buyer):
    first = start_checkout(client, buyer, plan="team", interval="month")
    second = start_checkout(client, buyer, plan="team", interval="year")
    assert stripe.checkout.Session.retrieve(first)["status"] == "expired"
    assert stripe.checkout.Session.retrieve(second)["status"] == "open"
    with pytest.raises(Exception, match="expired"):
        catalogue.complete_checkout(first)
    catalogue.complete_checkout(second)
    assert License.objects.filter(owner=buyer).count() == 1


def test_a_payment_whose_webhook_is_late_still_stops_a_second_checkout(client, catalogue, buyer):
    with catalogue.hold_webhooks():
        catalogue.complete_checkout(start_checkout(client, buyer, plan="team"))
        late = catalogue.pending_events()
        assert not License.objects.exists()
        response = client.post(f"{reverse('billing:subscribe', args=['solo'])}?interval=year", follow=True)
        assert "already have a subscription" in response.content.decode()
        assert License.objects.filter(owner=buyer).count() == 1  # reconciled on the spot
    catalogue.deliver(late)
    catalogue.flush()
    assert License.objects.filter(owner=buyer).count() == 1
    assert len(stripe.Subscription.list(customer=Customer.objects.get(subscriber=buyer).id).data) == 1


def test_customer_pages_act_on_the_oldest_live_subscription_and_flag_the_other(client, catalogue, buyer):
    first = buy(client, catalogue, buyer, plan="team")
    # A second subscription made anyway (a race the lock cannot see, or the Stripe dashboard).
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer=Customer.objects.get(subscriber=buyer).id,
        client_reference_id=str(buyer.public_id),
        line_items=[
            {"price": stripe.Price.list(lookup_keys=["qb_solo_monthly"]).data[0]["id"], "quantity": 1}
        ],
        metadata={"user_id": str(buyer.public_id)},
        subscription_data={"metadata": {"user_id": str(buyer.public_id)}},
        success_url="http://127.0.0.1/ok",
        cancel_url="http://127.0.0.1/no",
    )
    catalogue.complete_checkout(session["id"])
    catalogue.flush()
    assert License.objects.filter(owner=buyer).count() == 2
    assert live_license_for(buyer) == first
    [second] = duplicate_subscriptions(buyer)
    assert second.plan.slug == "solo"
    client.force_login(buyer)
    page = client.get(reverse("billing:manage")).content.decode()
    assert "2 subscriptions billed at once" in page
    assert "Team, billed monthly" in page


# --- staff revocation leaves the subscription visible -----------------------------------------


def test_after_a_staff_revoke_the_customer_still_sees_the_subscription_and_can_cancel(
    client, catalogue, buyer
):
    from licensing.services import license_revoke

    license_ = buy(client, catalogue, buyer)
    license_revoke(license=license_, reason="chargeback")
    client.force_login(buyer)
    page = client.get(reverse("billing:manage")).content.decode()
    assert "still billed" in page and "Cancel at period end" in page
    client.post(reverse("billing:cancel_subscription"))
    license_.refresh_from_db()
    assert license_.cancel_at_period_end
    assert stripe.Subscription.retrieve(license_.stripe_subscription_id)["cancel_at_period_end"] is True


# --- no grant before payment ------------------------------------------------------------------


def test_a_declined_upgrade_changes_nothing_and_says_how_to_pay(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="team")
    mail.outbox.clear()
    catalogue.fail_next_payments(1)
    client.force_login(buyer)
    response = change_plan(client, "enterprise", "month")
    assert response.status_code == 200
    page = response.content.decode()
    assert "card was declined" in page and "still on Team" in page
    data = stripe.Subscription.retrieve(license_.stripe_subscription_id)
    assert data["status"] == "active" and data["pending_update"]
    invoice = stripe.Invoice.retrieve(data["latest_invoice"])
    assert invoice["status"] == "open" and invoice["hosted_invoice_url"] in page
    license_.refresh_from_db()
    assert (license_.plan.slug, license_.status) == ("team", LicenseStatus.ACTIVE)
    answer = validate(client, license_)
    assert (answer["code"], answer["plan"]["slug"]) == ("VALID", "team")
    assert not any("now Enterprise" in m.subject for m in mail.outbox)

    # Paying that invoice (new card, hosted page) applies the change, and only then.
    catalogue.retry_payment(license_.stripe_subscription_id, succeed=True)
    license_.refresh_from_db()
    assert license_.plan.slug == "enterprise"
    assert validate(client, license_)["plan"]["slug"] == "enterprise"


def test_a_pending_change_that_lapses_leaves_the_plan_as_it_was(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    catalogue.fail_next_payments(1)
    client.force_login(buyer)
    change_plan(client, "team", "month")
    catalogue.expire_pending_update(license_.stripe_subscription_id)
    license_.refresh_from_db()
    assert (license_.plan.slug, license_.status) == ("solo", LicenseStatus.ACTIVE)
    assert validate(client, license_)["code"] == "VALID"


def test_a_paid_upgrade_is_charged_now_and_applied(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    response = change_plan(client, "team", "month")
    assert response.status_code == 302
    license_.refresh_from_db()
    assert license_.plan.slug == "team"
    invoice = stripe.Invoice.retrieve(
        stripe.Subscription.retrieve(license_.stripe_subscription_id)["latest_invoice"]
    )
    assert invoice["billing_reason"] == "subscription_update" and invoice["status"] == "paid"
    assert invoice["amount_paid"] > 0


# --- a deleted Stripe customer ------------------------------------------------------------------


def test_deleting_the_stripe_customer_ends_the_license_and_keeps_its_owner(client, catalogue, buyer):
    checkout = buy(client, catalogue, buyer)
    customer = stripe.Subscription.retrieve(checkout.stripe_subscription_id)["customer"]
    # No user_id in its metadata: only the customer's link to the user tells whose it is —
    # until the customer is deleted.
    license_ = subscribe_in_stripe_dashboard(catalogue, checkout)
    assert license_.owner == buyer

    catalogue.delete_customer(customer)
    assert catalogue.failed_deliveries() == []
    assert stripe.Customer.retrieve(customer)["deleted"] is True
    for ended in (license_, checkout):
        ended.refresh_from_db()
        assert ended.owner == buyer and ended.status == LicenseStatus.INACTIVE
        assert validate(client, ended)["code"] == "INACTIVE"
    call_command("reconcile_subscriptions")  # nothing left that it cannot explain


def test_stripe_unreachable_at_checkout_is_a_clear_message_not_a_500(client, catalogue, buyer, monkeypatch):
    catalogue.flush()  # the catalogue's own webhooks are answered before Stripe goes away
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")  # nothing listens there
    client.force_login(buyer)
    response = client.post(f"{reverse('billing:subscribe', args=['team'])}?interval=month", follow=True)
    assert response.status_code == 200
    assert "could not be reached, so nothing was charged" in response.content.decode()
    assert not License.objects.exists()

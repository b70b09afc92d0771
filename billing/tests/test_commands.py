from io import StringIO

import pytest
import stripe
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from billing.tests.test_lifecycle import start_checkout
from licensing.models import License, LicenseStatus

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_sync_plans_creates_prices_once_and_is_idempotent_by_lookup_key(stripe_api):
    call_command("seed_plans")
    first = run("sync_plans")
    assert first.count("(created)") == 6
    second = run("sync_plans")
    assert second.count("(up to date)") == 6
    prices = stripe.Price.list(lookup_keys=["qb_team_monthly", "qb_team_yearly"]).data
    assert sorted(p["unit_amount"] for p in prices) == [4900, 49000]


def test_sync_plans_moves_the_lookup_key_to_a_new_price_when_the_amount_changes(stripe_api):
    from billing.models import Plan

    call_command("seed_plans")
    run("sync_plans")
    Plan.objects.filter(slug="solo").update(monthly_amount=1500)
    out = run("sync_plans", "solo")
    assert "qb_solo_monthly" in out and "(created)" in out
    (price,) = stripe.Price.list(lookup_keys=["qb_solo_monthly"]).data
    assert price["unit_amount"] == 1500


def test_sync_plans_refuses_an_unknown_plan(stripe_api):
    call_command("seed_plans")
    with pytest.raises(CommandError, match="No such plan: gold"):
        run("sync_plans", "gold")


def test_sync_plans_refuses_an_empty_catalogue(stripe_api):
    with pytest.raises(CommandError, match="seed_plans"):
        run("sync_plans")


def test_reconcile_subscriptions_repairs_licenses_after_lost_webhooks(client, stripe_simulator):
    call_command("seed_plans")
    run("sync_plans")
    buyer = UserFactory()
    with stripe_simulator.hold_webhooks():
        stripe_simulator.complete_checkout(start_checkout(client, buyer))
        assert not License.objects.exists()
        out = run("reconcile_subscriptions")
        assert "created" in out and "1 license(s) changed" in out
        license_ = License.objects.get(owner=buyer)
        assert license_.status == LicenseStatus.ACTIVE and license_.keys.count() == 1

        stripe_simulator.cancel_now(license_.stripe_subscription_id)
        out = run("reconcile_subscriptions")
        assert "repaired" in out
        license_.refresh_from_db()
        assert license_.status == LicenseStatus.INACTIVE
        assert "0 license(s) changed" in run("reconcile_subscriptions")

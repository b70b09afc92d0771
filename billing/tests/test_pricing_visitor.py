"""/pricing/ knows the visitor: each card's action matches what the visitor can do now."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.tests.factories import PlanFactory
from licensing.models import LicenseStatus
from licensing.tests.factories import LicenseFactory


@pytest.fixture
def catalogue(db):
    return {
        "solo": PlanFactory(slug="solo", name="Solo", monthly_amount=1200, yearly_amount=12000, sort_order=1),
        "team": PlanFactory(
            slug="team", name="Team", seats=5, monthly_amount=4900, yearly_amount=49000, sort_order=2
        ),
    }


def actions(html: str) -> dict[str, str]:
    """Each card's action (button, link or note), by plan slug, as text."""
    cards = re.findall(r'<article class="card plan[^"]*" data-plan="([^"]+)">(.*?)</article>', html, re.S)
    found = {}
    for slug, body in cards:
        tail = body.split("</ul>", 1)[1]
        found[slug] = " ".join(re.sub(r"<[^>]+>", " ", tail).split())
    return found


def subscription(owner, plan, interval="month", **fields):
    return LicenseFactory(
        owner=owner,
        plan=plan,
        billing_interval=interval,
        stripe_subscription_id=f"sub_{owner.pk}_{plan.slug}_{interval}",
        **fields,
    )


def test_an_anonymous_visitor_is_offered_subscribe_on_every_card(client, catalogue):
    html = client.get(reverse("pricing")).content.decode()
    assert actions(html) == {"solo": "Subscribe", "team": "Subscribe"}
    assert f'href="{reverse("billing:subscribe", args=["team"])}?interval=month"' in html
    assert "Current plan" not in html


def test_a_user_without_a_plan_is_offered_subscribe(client, catalogue, user):
    client.force_login(user)
    html = client.get(reverse("pricing"), {"interval": "year"}).content.decode()
    assert actions(html) == {"solo": "Subscribe", "team": "Subscribe"}
    assert f'href="{reverse("billing:subscribe", args=["solo"])}?interval=year"' in html


def test_a_live_monthly_solo_customer_sees_current_plan_and_switch(client, catalogue, user):
    subscription(user, catalogue["solo"], "month")
    client.force_login(user)
    html = client.get(reverse("pricing")).content.decode()
    assert actions(html) == {"solo": "Current plan", "team": "Switch to Team"}
    assert re.search(r'<button class="button button-block button-current" type="button" disabled', html)
    assert 'class="card plan is-current" data-plan="solo"' in html
    # Switching goes to the preview of that change, never to a second Checkout.
    assert f'href="{reverse("billing:change_preview")}?plan=team&amp;interval=month"' in html
    assert reverse("billing:subscribe", args=["team"]) not in html
    assert reverse("billing:subscribe", args=["solo"]) not in html

    yearly = client.get(reverse("pricing"), {"interval": "year"}).content.decode()
    assert actions(yearly) == {"solo": "Switch to yearly billing", "team": "Switch to Team"}
    assert "/billing/subscribe/" not in yearly


def test_a_live_yearly_team_customer_lands_on_yearly_prices_with_their_plan_marked(client, catalogue, user):
    subscription(user, catalogue["team"], "year")
    client.force_login(user)
    response = client.get(reverse("pricing"))
    assert response.context["interval"] == "year"
    html = response.content.decode()
    assert actions(html) == {"solo": "Switch to Solo", "team": "Current plan"}
    assert f'href="{reverse("billing:change_preview")}?plan=solo&amp;interval=year"' in html
    assert "/billing/subscribe/" not in html

    monthly = client.get(reverse("pricing"), {"interval": "month"}).content.decode()
    assert actions(monthly) == {"solo": "Switch to Solo", "team": "Switch to monthly billing"}


def test_a_customer_whose_subscription_ended_is_offered_resubscribe(client, catalogue, user):
    subscription(user, catalogue["team"], "month", status=LicenseStatus.INACTIVE)
    client.force_login(user)
    html = client.get(reverse("pricing")).content.decode()
    assert actions(html) == {"solo": "Resubscribe", "team": "Resubscribe"}
    assert f'href="{reverse("billing:subscribe", args=["team"])}?interval=month"' in html
    assert "Current plan" not in html


def test_a_past_due_customer_sees_current_plan_and_is_sent_to_billing(client, catalogue, user):
    now = timezone.now()
    subscription(
        user,
        catalogue["solo"],
        "month",
        status=LicenseStatus.GRACE,
        payment_failed_at=now,
        grace_ends_at=now + timezone.timedelta(days=7),
    )
    client.force_login(user)
    html = client.get(reverse("pricing")).content.decode()
    found = actions(html)
    assert found["solo"] == "Current plan Go to your billing page"
    assert "Switch" not in found["team"] and "billing page" in found["team"]
    assert "Your last payment failed: pay the open invoice" in html
    assert "/billing/subscribe/" not in html and "?plan=" not in html


def test_a_revoked_but_billed_license_says_current_plan_and_points_to_billing(client, catalogue, user):
    subscription(user, catalogue["team"], "month", revoked_at=timezone.now(), revoked_reason="Chargeback")
    client.force_login(user)
    html = client.get(reverse("pricing")).content.decode()
    found = actions(html)
    assert found["team"] == "Current plan Go to your billing page"
    assert "Switch" not in found["solo"]
    assert "revoked by our staff" in html
    assert "/billing/subscribe/" not in html and "?plan=" not in html


def test_a_team_member_without_a_subscription_of_their_own_is_offered_subscribe(client, catalogue, user):
    from accounts.tests.factories import UserFactory
    from licensing.tests.factories import LicenseKeyFactory

    LicenseKeyFactory(license=subscription(UserFactory(), catalogue["team"]), holder=user)
    client.force_login(user)
    html = client.get(reverse("pricing")).content.decode()
    assert actions(html) == {"solo": "Subscribe", "team": "Subscribe"}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pricing_at_desktop_and_phone_width_marks_the_current_plan(page, catalogue, user, password):
    from playwright.sync_api import expect

    subscription(user, catalogue["solo"], "month")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/pricing/")
        expect(page.locator("[data-plan=solo] button")).to_have_text("Current plan")
        expect(page.locator("[data-plan=solo] button")).to_be_disabled()
        expect(page.locator("[data-plan=team] >> text=Switch to Team")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=page.screenshots / f"pricing-current-{width}.png", full_page=True)
    # The switch opens the preview of that change (its own tests drive it against the simulator).
    expect(page.locator("[data-plan=team] >> text=Switch to Team")).to_have_attribute(
        "href", "/billing/change/preview/?plan=team&interval=month"
    )

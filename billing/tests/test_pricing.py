import pytest
from django.urls import reverse

from billing.tests.factories import PlanFactory


@pytest.fixture
def catalogue(db):
    return [
        PlanFactory(slug="solo", name="Solo", monthly_amount=1200, yearly_amount=12000, sort_order=1),
        PlanFactory(
            slug="team",
            name="Team",
            seats=5,
            devices_per_seat=3,
            monthly_amount=4900,
            yearly_amount=49000,
            entitlements=["core", "collaboration"],
            sort_order=2,
        ),
        PlanFactory(slug="legacy", name="Legacy Gold", is_public=False, sort_order=3),
    ]


def test_home_page_links_to_pricing(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert f'href="{reverse("pricing")}"'.encode() in response.content


def test_pricing_lists_exactly_the_public_plans_in_order(client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get(reverse("pricing"))
    assert [plan.slug for plan in response.context["plans"]] == ["solo", "team"]
    html = response.content.decode()
    assert 'data-plan="solo"' in html and 'data-plan="team"' in html
    assert "Legacy Gold" not in html


def test_pricing_shows_monthly_prices_seats_devices_and_entitlements(client, catalogue):
    html = client.get(reverse("pricing")).content.decode()
    assert "$49" in html and "/ month" in html
    assert "<strong>5</strong> users per license" in html
    assert "<strong>3</strong> devices per user" in html
    assert "Collaboration" in html


def test_the_yearly_switch_shows_yearly_prices(client, catalogue):
    html = client.get(reverse("pricing"), {"interval": "year"}).content.decode()
    assert "$490" in html and "/ year" in html
    assert "interval=year" in html


def test_an_unknown_interval_falls_back_to_monthly(client, catalogue):
    response = client.get(reverse("pricing"), {"interval": "weekly<script>"})
    assert response.status_code == 200
    assert response.context["interval"] == "month"
    assert b"<script>" not in response.content


def test_pricing_says_so_when_no_plan_is_on_sale(client, db):
    response = client.get(reverse("pricing"))
    assert b"No plans on sale right now" in response.content


def test_subscribe_sends_a_visitor_to_sign_up(client, catalogue):
    response = client.get(reverse("billing:subscribe", args=["team"]), {"interval": "year"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_signup"))
    assert "next=" in response["Location"]


def test_subscribe_asks_a_logged_in_user_to_confirm_before_checkout(client, catalogue, user):
    client.force_login(user)
    response = client.get(reverse("billing:subscribe", args=["team"]))
    assert response.status_code == 200
    assert b"Continue to payment" in response.content


def test_subscribe_to_a_hidden_or_unknown_plan_is_404(client, catalogue, user):
    client.force_login(user)
    assert client.get(reverse("billing:subscribe", args=["legacy"])).status_code == 404
    assert client.get(reverse("billing:subscribe", args=["nope"])).status_code == 404


def test_amounts_are_shown_as_money():
    from billing.templatetags.billing_tags import entitlement_label, money

    assert money(199000) == "$1,990"
    assert money(1250) == "$12.50"
    assert money(500, "chf") == "5 CHF"
    assert entitlement_label("priority_support") == "Priority support"

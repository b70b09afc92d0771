"""The dashboard's invoices say what each one was for, from Stripe's billing reason and lines."""

from datetime import UTC, datetime

import pytest
import stripe
from django.core.management import call_command
from django.urls import reverse

from accounts.tests.factories import UserFactory
from billing.tests.lifecycle import buy
from licensing import selectors


@pytest.fixture
def catalogue(stripe_simulator):
    call_command("seed_plans")
    call_command("sync_plans")
    return stripe_simulator


@pytest.fixture
def buyer(db):
    return UserFactory(email="buyer@example.com")


def _price(lookup_key: str) -> str:
    return stripe.Price.list(lookup_keys=[lookup_key]).data[0]["id"]


def _day(timestamp: int) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return f"{moment.day} {moment:%b %Y}"


def test_the_first_invoice_says_first_payment_with_the_plan_and_period(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="team")
    sub = stripe.Subscription.retrieve(license_.stripe_subscription_id)
    item = sub["items"]["data"][0]

    (row,) = selectors.invoices_of(buyer)

    period = f"{_day(item['current_period_start'])} to {_day(item['current_period_end'])}"
    assert row.description == f"First payment: Team, monthly — {period}"
    assert (row.amount, row.status, row.status_label) == (4900, "paid", "Paid")
    assert row.url.startswith("http") and row.pdf_url.endswith("/pdf")


def test_a_renewal_names_the_plan_and_the_new_period(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo", interval="year")
    catalogue.renew(license_.stripe_subscription_id)
    item = stripe.Subscription.retrieve(license_.stripe_subscription_id)["items"]["data"][0]

    latest = selectors.invoices_of(buyer)[0]

    assert latest.description == (
        f"Solo, yearly — {_day(item['current_period_start'])} to {_day(item['current_period_end'])}"
    )


def test_a_plan_change_billed_at_once_says_from_which_plan_to_which_prorated(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    catalogue.change_price(
        license_.stripe_subscription_id, _price("qb_team_monthly"), proration_behavior="always_invoice"
    )

    latest = selectors.invoices_of(buyer)[0]

    assert latest.description == "Change from Solo to Team (prorated)"


def test_a_change_left_for_the_next_invoice_is_named_beside_the_new_period(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    catalogue.change_price(license_.stripe_subscription_id, _price("qb_team_monthly"))
    catalogue.renew(license_.stripe_subscription_id)

    latest = selectors.invoices_of(buyer)[0]

    assert latest.description.startswith("Team, monthly — ")
    assert latest.description.endswith("; Change from Solo to Team (prorated)")


def test_the_dashboard_lists_each_invoice_with_its_description_amount_status_and_links(
    client, catalogue, buyer
):
    buy(client, catalogue, buyer, plan="team")
    client.force_login(buyer)

    html = client.get(reverse("dashboard")).content.decode()

    (row,) = selectors.invoices_of(buyer)
    assert row.description in html
    assert "$49" in html and ">Paid</span>" in html
    assert f'href="{row.url}"' in html and f'href="{row.pdf_url}"' in html


def test_invoices_cost_two_queries_whatever_their_number(client, catalogue, buyer, django_assert_num_queries):
    license_ = buy(client, catalogue, buyer, plan="solo")
    with django_assert_num_queries(2):
        selectors.invoices_of(buyer)
    for _ in range(3):
        catalogue.renew(license_.stripe_subscription_id)
    with django_assert_num_queries(2):
        assert len(selectors.invoices_of(buyer)) == 4


def test_an_outsider_sees_none_of_my_invoices(client, catalogue, buyer):
    buy(client, catalogue, buyer, plan="solo")

    assert selectors.invoices_of(UserFactory()) == []

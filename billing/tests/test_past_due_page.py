"""Past due: the dashboard and the billing page show the open invoice and its amount, "Pay now"
(Stripe's hosted invoice) and "Update card" (the portal); the payment-failed email links to
/billing/pay/, which sends to the invoice open at that moment."""

import pytest
import stripe
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from billing.tests.lifecycle import buy
from licensing.models import LicenseStatus
from qualitybytes.money import money


def open_invoice(license_) -> dict:
    [invoice] = stripe.Invoice.list(subscription=license_.stripe_subscription_id, status="open").data
    return invoice


def past_due(client, catalogue, buyer, plan="team"):
    license_ = buy(client, catalogue, buyer, plan=plan)
    catalogue.fail_payment(license_.stripe_subscription_id)
    license_.refresh_from_db()
    assert license_.status == LicenseStatus.GRACE
    return license_


def test_the_dashboard_and_billing_page_show_the_open_invoice_and_pay_now(client, catalogue, buyer):
    license_ = past_due(client, catalogue, buyer)
    invoice = open_invoice(license_)
    client.force_login(buyer)

    for url in (reverse("dashboard"), reverse("billing:manage")):
        page = client.get(url).content.decode()
        assert money(invoice["amount_remaining"], invoice["currency"]) in page, url
        assert invoice["hosted_invoice_url"] in page and "Pay now" in page, url
        assert "Update card" in page, url
        assert "Next invoice" not in page, url
        # Changing plan is not what a past-due customer is offered.
        assert ">Change plan</button>" not in page and ">Change plan</a>" not in page, url


def test_an_active_subscription_shows_the_next_invoice_and_no_pay_now(client, catalogue, buyer):
    buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Next invoice" in page and "Pay now" not in page


def test_pay_sends_to_the_invoice_open_now_and_says_when_nothing_is_due(client, catalogue, buyer):
    license_ = past_due(client, catalogue, buyer)
    client.force_login(buyer)

    response = client.get(reverse("billing:pay"))
    assert response.status_code == 302
    assert response["Location"] == open_invoice(license_)["hosted_invoice_url"]

    catalogue.retry_payment(license_.stripe_subscription_id, succeed=True)
    response = client.get(reverse("billing:pay"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("billing:manage")
    assert "Nothing is due" in response.content.decode()


def test_pay_needs_a_login_and_answers_for_the_users_own_subscription_only(client, catalogue, buyer):
    license_ = past_due(client, catalogue, buyer)
    client.logout()
    response = client.get(reverse("billing:pay"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    client.force_login(UserFactory(email="other@example.com"))
    response = client.get(reverse("billing:pay"))
    assert response["Location"] == reverse("billing:manage")
    assert open_invoice(license_)["hosted_invoice_url"] not in response["Location"]


def test_the_payment_failed_email_links_to_pay_now_and_update_card(client, catalogue, buyer):
    mail.outbox.clear()
    past_due(client, catalogue, buyer)
    [email] = [m for m in mail.outbox if "payment failed" in m.subject]
    for body in (email.body, email.alternatives[0][0]):
        assert "/billing/pay/" in body and "/billing/" in body
        assert "Pay now" in body or "Pay the open invoice" in body


def test_when_stripe_is_unreachable_the_pages_still_render_and_say_so(client, catalogue, buyer, monkeypatch):
    past_due(client, catalogue, buyer)
    client.force_login(buyer)
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")  # nothing listens there

    for url in (reverse("dashboard"), reverse("billing:manage")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Stripe could not be reached" in response.content.decode(), url
    response = client.get(reverse("billing:pay"), follow=True)
    assert response.status_code == 200
    assert "Stripe could not be reached" in response.content.decode()


def test_the_past_due_dashboard_costs_no_more_queries_than_an_active_one(
    client, catalogue, buyer, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    license_ = buy(client, catalogue, buyer, plan="team")
    client.force_login(buyer)
    with CaptureQueriesContext(connection) as active:
        client.get(reverse("dashboard"))
    catalogue.fail_payment(license_.stripe_subscription_id)
    with django_assert_max_num_queries(len(active.captured_queries)):
        client.get(reverse("dashboard"))


def _log_in(page, user) -> None:
    from accounts.tests.factories import DEFAULT_PASSWORD

    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_past_due_customer_pays_now_from_the_dashboard(
    page, live_server, catalogue, buyer, client, settings
):
    from playwright.sync_api import expect

    settings.SITE_URL = live_server.url
    license_ = past_due(client, catalogue, buyer)
    invoice = open_invoice(license_)
    amount = money(invoice["amount_remaining"], invoice["currency"])
    _log_in(page, buyer)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in (("dashboard", "/dashboard/"), ("billing", "/billing/")):
            page.goto(url)
            expect(page.locator("[data-open-amount]")).to_have_text(amount)
            expect(page.get_by_role("link", name="Pay now")).to_be_visible()
            expect(page.get_by_role("button", name="Update card")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=page.screenshots / f"past-due-{name}-{width}.png", full_page=True)

    page.goto("/dashboard/")
    page.get_by_role("link", name="Pay now").click()
    page.wait_for_url("**/invoice/**")
    page.get_by_role("button", name="Pay", exact=False).first.click()
    catalogue.flush()
    license_.refresh_from_db()
    assert license_.status == LicenseStatus.ACTIVE
    page.goto("/dashboard/")
    expect(page.locator("[data-past-due]")).to_have_count(0)
    expect(page.get_by_text("Next invoice")).to_be_visible()

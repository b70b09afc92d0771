"""Cancelling at the period end: a confirmation that says when access ends and whose keys stop,
the result in a neutral box, one cancellation email per cancellation (our page, the portal and
the webhooks that follow both), and "Keep my plan" until the end."""

import pytest
import stripe
from django.contrib.messages import INFO
from django.core import mail
from django.urls import reverse
from django.utils.formats import date_format

from accounts.tests.factories import UserFactory
from billing import emails
from billing.tests.lifecycle import buy
from licensing.models import License
from teams.services import team_code_regenerate, team_join_by_code

CANCEL_SUBJECT = "Your QualityBytes subscription ends on"


def cancellation_emails() -> list:
    return [message for message in mail.outbox if message.subject.startswith(CANCEL_SUBJECT)]


def add_members(license_: License, *emails_: str) -> None:
    code = team_code_regenerate(team=license_.team, by=license_.owner).code
    for address in emails_:
        team_join_by_code(code=code, user=UserFactory(email=address))


def test_the_confirmation_says_when_access_ends_and_whose_keys_stop(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="team")
    add_members(license_, "bo@example.com", "cy@example.com")
    client.force_login(buyer)

    response = client.get(reverse("billing:cancel_subscription"))

    assert response.status_code == 200
    page = response.content.decode()
    assert date_format(license_.expires_at, "j M Y") in page
    assert "keys of 2 team members stop working" in page
    assert "bo@example.com" in page and "cy@example.com" in page
    assert "Keep my plan" in page
    # Only the page: nothing changed in Stripe or here.
    license_.refresh_from_db()
    assert not license_.cancel_at_period_end
    assert stripe.Subscription.retrieve(license_.stripe_subscription_id)["cancel_at_period_end"] is False


def test_confirming_cancels_says_so_in_a_neutral_box_and_keep_my_plan_stays(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    mail.outbox.clear()

    response = client.post(reverse("billing:cancel_subscription"), {"confirm": "on"}, follow=True)

    license_.refresh_from_db()
    assert license_.cancel_at_period_end
    [message] = list(response.context["messages"])
    assert message.level == INFO
    page = response.content.decode()
    assert 'class="message message-info"' in page and "message-success" not in page
    assert f"ends on {date_format(license_.expires_at, 'j M Y')}" in page
    assert "Keep my plan" in page
    catalogue.flush()
    [email] = cancellation_emails()
    assert email.to == [buyer.email]

    response = client.post(reverse("billing:resume_subscription"), follow=True)
    license_.refresh_from_db()
    assert not license_.cancel_at_period_end
    assert "renew as usual" in response.content.decode()


def test_a_double_submitted_cancellation_cancels_and_emails_once(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    mail.outbox.clear()

    first = client.post(reverse("billing:cancel_subscription"), {"confirm": "on"})
    second = client.post(reverse("billing:cancel_subscription"), {"confirm": "on"}, follow=True)
    catalogue.flush()

    assert first.status_code == 302
    assert second.status_code == 200
    assert not [m for m in second.context["messages"] if m.level_tag == "error"]
    license_.refresh_from_db()
    assert license_.cancel_at_period_end
    assert len(cancellation_emails()) == 1


def test_a_cancellation_in_the_portal_is_emailed_once(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    mail.outbox.clear()

    catalogue.cancel_at_period_end(license_.stripe_subscription_id)
    catalogue.flush()
    # The same event delivered again, and a reconcile, see no new flip.
    from billing.services import subscription_reconcile

    subscription_reconcile(subscription_id=license_.stripe_subscription_id)

    license_.refresh_from_db()
    assert license_.cancel_at_period_end
    assert len(cancellation_emails()) == 1


def test_cancelling_again_after_keeping_the_plan_is_a_new_cancellation(client, catalogue, buyer):
    buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    mail.outbox.clear()
    client.post(reverse("billing:cancel_subscription"), {"confirm": "on"})
    client.post(reverse("billing:resume_subscription"))
    client.post(reverse("billing:cancel_subscription"), {"confirm": "on"})
    catalogue.flush()
    assert len(cancellation_emails()) == 2


def test_without_a_subscription_there_is_nothing_to_cancel(client, buyer):
    client.force_login(buyer)
    response = client.get(reverse("billing:cancel_subscription"))
    assert response.status_code == 302 and response["Location"] == reverse("pricing")


def test_the_cancellation_email_names_the_end_and_the_members(
    client, catalogue, buyer, django_capture_on_commit_callbacks
):
    license_ = buy(client, catalogue, buyer, plan="team")
    add_members(license_, "bo@example.com")
    license_.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_cancellation_scheduled(license=license_)
    [email] = mail.outbox
    ends = date_format(license_.expires_at, "j F Y")
    assert email.subject == f"{CANCEL_SUBJECT} {ends}"
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert ends in body
        assert "1 team member" in body and "bo@example.com" in body
        assert "/billing/" in body and "Keep" in body


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_owner_cancels_from_the_dashboard_and_keeps_the_plan(
    page, live_server, catalogue, buyer, client, settings
):
    from playwright.sync_api import expect

    from accounts.tests.factories import DEFAULT_PASSWORD

    settings.SITE_URL = live_server.url
    license_ = buy(client, catalogue, buyer, plan="team")
    add_members(license_, "bo@example.com", "cy@example.com")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", buyer.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    ends = date_format(license_.expires_at, "j M Y")

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/dashboard/")
        page.get_by_role("link", name="Cancel at period end").click()
        page.wait_for_url("**/billing/cancel/")
        expect(page.locator("[data-ends-at]")).to_have_text(ends)
        expect(page.locator("[data-members]")).to_contain_text("bo@example.com")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=page.screenshots / f"cancel-confirm-{width}.png", full_page=True)
        page.get_by_role("button", name="Cancel at period end").click()
        page.wait_for_url("**/billing/")
        expect(page.locator(".message-info")).to_contain_text(f"ends on {ends}")
        expect(page.locator(".message-success")).to_have_count(0)
        expect(page.get_by_role("button", name="Keep my plan")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=page.screenshots / f"cancelled-{width}.png", full_page=True)
        license_.refresh_from_db()
        assert license_.cancel_at_period_end
        page.get_by_role("button", name="Keep my plan").click()
        page.wait_for_url("**/billing/")
        license_.refresh_from_db()
        assert not license_.cancel_at_period_end

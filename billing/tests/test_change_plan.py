"""Changing plan: every plan at both prices, a preview from Stripe of what is charged now and on
the next invoice, then a confirmation that charges exactly that, once."""

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import stripe
from django.core import signing
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from billing import services
from billing.models import Plan
from billing.tests.lifecycle import buy, change_plan, preview_change
from licensing.models import License

DAY = 86400


def update_invoices(sub_id: str) -> list:
    return [
        invoice
        for invoice in stripe.Invoice.list(subscription=sub_id, limit=100).data
        if invoice["billing_reason"] == "subscription_update"
    ]


def some_days_in(sim, license_: License, days: int = 9) -> None:
    """The subscription started `days` ago, so that prorations are neither zero nor whole."""
    sim.backdate(license_.stripe_subscription_id, days * DAY)
    license_.refresh_from_db()


def plan(slug: str) -> Plan:
    return Plan.objects.get(slug=slug)


# --- the amount previewed is the amount charged -------------------------------------------------


@pytest.mark.parametrize(
    "start, target",
    [
        (("solo", "month"), ("team", "month")),  # upgrade
        (("team", "month"), ("solo", "month")),  # downgrade
        (("team", "month"), ("team", "year")),  # month -> year
        (("team", "year"), ("team", "month")),  # year -> month
    ],
    ids=["upgrade", "downgrade", "month-to-year", "year-to-month"],
)
def test_the_amount_previewed_is_the_amount_charged_and_the_next_invoice_is_as_shown(
    client, catalogue, buyer, start, target
):
    license_ = buy(client, catalogue, buyer, plan=start[0], interval=start[1])
    some_days_in(catalogue, license_)
    preview = services.plan_change_preview(license=license_, plan=plan(target[0]), interval=target[1])
    # Time passes before the confirmation: the proration date keeps the amount as shown.
    catalogue.advance_clock(6 * 3600)
    time.sleep(1)
    services.plan_change_confirm(
        license=license_, plan=plan(target[0]), interval=target[1], token=preview.token
    )

    [invoice] = update_invoices(license_.stripe_subscription_id)
    assert invoice["amount_due"] == preview.amount_due
    assert invoice["total"] == preview.total
    assert [line["amount"] for line in invoice["lines"]["data"]] == [line.amount for line in preview.lines]
    license_.refresh_from_db()
    assert (license_.plan.slug, license_.billing_interval) == target
    sub = stripe.Subscription.retrieve(license_.stripe_subscription_id)
    # A new interval restarts the cycle when the change is made (not at the proration date), so
    # the renewal moves by the time between preview and confirmation: the same day as shown here.
    moved = sub["items"]["data"][0]["current_period_end"] - preview.next_date.timestamp()
    assert moved == 0 or (preview.restarts_cycle and 0 <= moved <= 6 * 3600 + 600)
    customer = stripe.Customer.retrieve(sub["customer"])
    assert customer["balance"] == -preview.credit_left

    # The next invoice is what the preview said.
    catalogue.renew(license_.stripe_subscription_id, backdate=True)
    renewal = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub["id"])["latest_invoice"])
    assert renewal["billing_reason"] == "subscription_cycle"
    assert renewal["amount_due"] == preview.next_amount


def test_an_upgrade_is_charged_now_for_the_rest_of_the_period(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    some_days_in(catalogue, license_)
    preview = services.plan_change_preview(license=license_, plan=plan("team"), interval="month")
    unused, remaining = preview.lines
    assert unused.amount < 0 < remaining.amount
    assert unused.description.startswith("Unused time on Solo (monthly) from ")
    assert remaining.description.startswith("Remaining time on Team (monthly) from ")
    assert 0 < preview.amount_due == unused.amount + remaining.amount < 4900 - 1200
    assert (preview.credit_left, preview.restarts_cycle) == (0, False)
    assert preview.next_amount == 4900
    period_end = stripe.Subscription.retrieve(license_.stripe_subscription_id)["items"]["data"][0][
        "current_period_end"
    ]
    assert preview.next_date == datetime.fromtimestamp(period_end, tz=UTC)


def test_a_cheaper_plan_charges_nothing_now_and_credits_the_next_invoices(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="team")
    some_days_in(catalogue, license_)
    preview = services.plan_change_preview(license=license_, plan=plan("solo"), interval="month")
    assert preview.amount_due == 0 and preview.total < 0
    assert preview.credit_left == -preview.total
    assert preview.next_amount == max(0, 1200 - preview.credit_left)
    assert preview.credit_after_next == max(0, preview.credit_left - 1200)


def test_monthly_to_yearly_restarts_the_cycle_and_bills_the_year_less_the_unused_month(
    client, catalogue, buyer
):
    license_ = buy(client, catalogue, buyer, plan="team")
    some_days_in(catalogue, license_)
    preview = services.plan_change_preview(license=license_, plan=plan("team"), interval="year")
    unused, year = preview.lines
    assert unused.description.startswith("Unused time on Team (monthly)")
    assert year.description.startswith("Team (yearly) from ") and year.amount == 49000
    assert preview.amount_due == 49000 + unused.amount
    assert preview.restarts_cycle and preview.target == "yearly billing"
    assert preview.next_date > datetime.now(tz=UTC) + timedelta(days=360)


# --- a double-submitted or replayed confirmation charges once ----------------------------------


def test_the_same_confirmation_submitted_twice_at_once_charges_once(client, catalogue, buyer, live_server):
    """Two submissions of one confirmation reach the server at the same moment, over HTTP."""
    license_ = buy(client, catalogue, buyer, plan="solo")
    some_days_in(catalogue, license_)
    client.force_login(buyer)
    browser = requests.Session()
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    preview = browser.get(
        f"{live_server.url}{reverse('billing:change_preview')}", params={"plan": "team", "interval": "month"}
    ).text
    data = {
        name: re.search(rf'name="{name}" value="([^"]+)"', preview).group(1)
        for name in ("csrfmiddlewaretoken", "plan", "interval", "token")
    }
    barrier = threading.Barrier(2)
    answers = []

    def submit():
        barrier.wait()
        answers.append(browser.post(f"{live_server.url}{reverse('billing:change_confirm')}", data=data))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [answer.status_code for answer in answers] == [200, 200]
    catalogue.flush()
    [invoice] = update_invoices(license_.stripe_subscription_id)
    assert invoice["status"] == "paid"
    said = " ".join(answer.text for answer in answers)
    assert "Your plan is now Team" in said and "nothing more was charged" in said
    license_.refresh_from_db()
    assert license_.plan.slug == "team"


def test_a_replayed_confirmation_charges_nothing_more(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    token = preview_change(client, "team", "month").context["preview"].token
    data = {"plan": "team", "interval": "month", "token": token}
    assert client.post(reverse("billing:change_confirm"), data).status_code == 302
    replay = client.post(reverse("billing:change_confirm"), data, follow=True)
    assert "this confirmation was used once and nothing more was charged" in replay.content.decode()
    assert len(update_invoices(license_.stripe_subscription_id)) == 1


# --- stale or bad confirmations: review again, nothing charged ----------------------------------


def assert_nothing_changed(license_: License, slug: str, interval: str = "month") -> None:
    license_.refresh_from_db()
    assert (license_.plan.slug, license_.billing_interval) == (slug, interval)
    assert update_invoices(license_.stripe_subscription_id) == []


def test_a_preview_older_than_ten_minutes_asks_to_review_again(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    token = preview_change(client, "team", "month").context["preview"].token
    payload = signing.loads(token, salt=services._PLAN_CHANGE_SALT)

    class ElevenMinutesAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 11 * 60)

    old = ElevenMinutesAgo(salt=services._PLAN_CHANGE_SALT).sign_object(payload)
    response = client.post(
        reverse("billing:change_confirm"), {"plan": "team", "interval": "month", "token": old}, follow=True
    )
    page = response.content.decode()
    assert "more than 10 minutes old, so nothing was charged" in page
    assert response.redirect_chain[-1][0].startswith(reverse("billing:change_preview"))
    assert "data-confirm" in page  # an up-to-date preview to confirm
    assert_nothing_changed(license_, "solo")


def test_a_tampered_token_changes_nothing(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    token = preview_change(client, "team", "month").context["preview"].token
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    data = {"plan": "team", "interval": "month", "token": tampered}
    response = client.post(reverse("billing:change_confirm"), data, follow=True)
    assert "could not be verified, so nothing was charged" in response.content.decode()
    assert_nothing_changed(license_, "solo")


def test_a_token_for_another_choice_changes_nothing(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    token = preview_change(client, "team", "month").context["preview"].token
    response = client.post(
        reverse("billing:change_confirm"), {"plan": "team", "interval": "year", "token": token}, follow=True
    )
    assert "was for another change, so nothing was charged" in response.content.decode()
    assert_nothing_changed(license_, "solo")


def test_a_token_of_another_customer_changes_nothing(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    other = UserFactory()
    other_license = buy(Client(), catalogue, other, plan="solo")
    other_client = Client()
    other_client.force_login(other)
    token = preview_change(other_client, "team", "month").context["preview"].token
    client.force_login(buyer)
    response = client.post(
        reverse("billing:change_confirm"), {"plan": "team", "interval": "month", "token": token}, follow=True
    )
    assert "was for another change, so nothing was charged" in response.content.decode()
    assert_nothing_changed(license_, "solo")
    assert_nothing_changed(other_license, "solo")


def test_a_plan_changed_elsewhere_since_the_preview_asks_to_review_again(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    token = preview_change(client, "team", "month").context["preview"].token
    enterprise = stripe.Price.list(lookup_keys=["qb_enterprise_monthly"]).data[0]
    catalogue.change_price(license_.stripe_subscription_id, enterprise["id"])  # the portal, meanwhile
    response = client.post(
        reverse("billing:change_confirm"), {"plan": "team", "interval": "month", "token": token}, follow=True
    )
    assert "Your subscription changed since that preview, so nothing was charged" in response.content.decode()
    license_.refresh_from_db()
    assert license_.plan.slug == "enterprise"
    assert update_invoices(license_.stripe_subscription_id) == []


@pytest.mark.parametrize(
    "query, error",
    [
        ({"plan": "platinum", "interval": "month"}, "That plan is not on sale"),
        ({"plan": "team", "interval": "weekly"}, "Choose monthly or yearly billing."),
        ({"plan": "solo", "interval": "month"}, "You are already on Solo, billed monthly."),
        ({}, "Choose a plan."),
    ],
)
def test_a_bad_choice_shows_why_and_changes_nothing(client, catalogue, buyer, query, error):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    response = client.get(reverse("billing:change_preview"), query)
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page and "data-change-error" in page and "data-confirm" not in page
    assert_nothing_changed(license_, "solo")


def test_a_confirmation_without_a_token_or_with_an_unknown_plan_changes_nothing(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    page = client.post(reverse("billing:change_confirm"), {"plan": "team", "interval": "month"}).content
    assert b"This confirmation has no token" in page
    page = client.post(
        reverse("billing:change_confirm"), {"plan": "platinum", "interval": "month", "token": "x"}
    ).content
    assert b"That plan is not on sale" in page
    assert_nothing_changed(license_, "solo")


def test_the_confirmation_needs_a_post(client, catalogue, buyer):
    buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    assert client.get(reverse("billing:change_confirm")).status_code == 405


# --- the rules every change keeps ---------------------------------------------------------------


def test_a_past_due_subscription_cannot_preview_a_change(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    catalogue.fail_payment(license_.stripe_subscription_id)
    client.force_login(buyer)
    page = preview_change(client, "team", "month").content.decode()
    assert "Your last payment failed" in page and "data-confirm" not in page


def test_a_change_waiting_for_its_payment_offers_the_invoice(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="team")
    catalogue.fail_next_payments(1)
    client.force_login(buyer)
    change_plan(client, "enterprise", "month")
    page = preview_change(client, "enterprise", "year").content.decode()
    assert "A plan change is waiting for its payment" in page and "Pay the invoice of $" in page
    license_.refresh_from_db()
    assert license_.plan.slug == "team"


def test_a_change_keeps_the_subscription_that_was_set_to_end(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    catalogue.cancel_at_period_end(license_.stripe_subscription_id)
    client.force_login(buyer)
    assert change_plan(client, "team", "month").status_code == 302
    license_.refresh_from_db()
    assert license_.plan.slug == "team" and not license_.cancel_at_period_end


# --- the pages ----------------------------------------------------------------------------------


def test_the_change_page_lists_every_plan_at_both_prices_with_the_current_one_marked(
    client, catalogue, buyer, django_assert_num_queries
):
    buy(client, catalogue, buyer, plan="team")
    client.force_login(buyer)
    with django_assert_num_queries(4):
        page = client.get(reverse("billing:change_plan")).content.decode()
    prices = (("solo", "$12", "$120"), ("team", "$49", "$490"), ("enterprise", "$199", "$1,990"))
    for slug, monthly, yearly in prices:
        assert f'data-plan="{slug}"' in page
        assert f"<strong>{monthly}</strong> / month" in page and f"<strong>{yearly}</strong> / year" in page
    assert page.count('disabled aria-current="true">Current plan</button>') == 1
    preview = reverse("billing:change_preview")
    assert f"{preview}?plan=team&amp;interval=month" not in page
    assert f"{preview}?plan=team&amp;interval=year" in page
    assert f"{preview}?plan=solo&amp;interval=month" in page
    assert "<strong>5</strong> seats" in page and "<strong>1</strong> seat (" in page


def test_the_preview_says_what_is_charged_now_and_next_in_words(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="solo")
    some_days_in(catalogue, license_)
    client.force_login(buyer)
    response = preview_change(client, "team", "month")
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    preview = response.context["preview"]
    assert "Unused time on Solo (monthly)" in page and "Remaining time on Team (monthly)" in page
    assert "You pay the difference for the rest of the current period now" in page
    from qualitybytes.money import money

    assert f"Pay {money(preview.amount_due)} and switch to Team</button>" in page
    assert f"<strong>$49</strong> on {preview.next_date:%-d %b %Y}" in page
    assert "Upgrades are charged pro rata now" not in page


def test_the_preview_of_a_cheaper_plan_says_the_credit_goes_to_the_next_invoices(client, catalogue, buyer):
    buy(client, catalogue, buyer, plan="team")
    client.force_login(buyer)
    page = preview_change(client, "solo", "month").content.decode()
    assert "Nothing is charged now. The unused time leaves a credit of" in page
    assert "which goes to your next invoices" in page
    assert "Switch to Solo</button>" in page and "Pay " not in page.split("data-confirm")[1][:60]


def test_the_preview_of_an_interval_change_says_the_period_restarts(client, catalogue, buyer):
    buy(client, catalogue, buyer, plan="team")
    client.force_login(buyer)
    page = preview_change(client, "team", "year").content.decode()
    assert "restarts your billing period today" in page
    assert "and switch to yearly billing</button>" in page


def test_the_billing_page_links_to_the_change_page_and_old_links_open_the_preview(client, catalogue, buyer):
    buy(client, catalogue, buyer, plan="solo")
    client.force_login(buyer)
    page = client.get(reverse("billing:manage")).content.decode()
    assert f'href="{reverse("billing:change_plan")}">Change plan</a>' in page
    assert "<select" not in page and "charged now and the new plan applies" not in page
    response = client.get(reverse("billing:manage"), {"plan": "team", "interval": "year"})
    assert response["Location"] == f"{reverse('billing:change_preview')}?plan=team&interval=year"
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("billing:change_plan")}">Change plan</a>' in dashboard


def test_without_a_subscription_the_change_pages_send_to_pricing(client, catalogue, buyer):
    client.force_login(buyer)
    for url in (reverse("billing:change_plan"), reverse("billing:change_preview")):
        response = client.get(url, {"plan": "team", "interval": "month"})
        assert response.status_code == 302 and response["Location"] == reverse("pricing")
    data = {"plan": "team", "interval": "month", "token": "x"}
    response = client.post(reverse("billing:change_confirm"), data)
    assert response["Location"] == reverse("pricing")


def test_the_change_pages_need_a_login(client, catalogue):
    for url in (reverse("billing:change_plan"), reverse("billing:change_preview")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("account_login") in response["Location"]

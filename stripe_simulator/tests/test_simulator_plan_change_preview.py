"""Previewing a plan change as Stripe does (`POST /v1/invoices/create_preview` with
`subscription_details`): `always_invoice` previews the invoice made at once, `proration_date` makes
the update charge what the preview showed, an interval change restarts the cycle, and the
customer's balance (credit from a cheaper plan) applies to previews and invoices."""

import stripe

from stripe_simulator.tests.test_simulator import make_catalogue, subscribed

DAY = 86400


def cheaper_and_dearer(product):
    cheap = stripe.Price.create(
        product=product.id, currency="usd", unit_amount=1200, recurring={"interval": "month"}
    )
    dear = stripe.Price.create(
        product=product.id, currency="usd", unit_amount=19900, recurring={"interval": "month"}
    )
    return cheap, dear


def started_days_ago(sim, price, days=10):
    sub_id = subscribed(sim, price)
    sim.backdate(sub_id, days * DAY)
    sub = stripe.Subscription.retrieve(sub_id)
    return sub_id, sub["items"].data[0]


def preview(sub_id, item, price, behavior, when):
    return stripe.Invoice.create_preview(
        subscription=sub_id,
        subscription_details={
            "items": [{"id": item.id, "price": price.id}],
            "proration_behavior": behavior,
            "proration_date": when,
        },
    )


def update(sub_id, item, price, behavior, when):
    return stripe.Subscription.modify(
        sub_id,
        items=[{"id": item.id, "price": price.id}],
        proration_behavior=behavior,
        proration_date=when,
        payment_behavior="pending_if_incomplete",
    )


def test_an_always_invoice_preview_is_the_invoice_the_update_makes_at_once(stripe_api):
    product, monthly, _ = make_catalogue()
    _, dear = cheaper_and_dearer(product)
    sub_id, item = started_days_ago(stripe_api, monthly)
    when = int(stripe_api.now())
    shown = preview(sub_id, item, dear, "always_invoice", when)
    # Only the prorations, no renewal: that is what is billed now.
    assert [line.parent.subscription_item_details.proration for line in shown.lines.data] == [True, True]
    assert shown.period_start == shown.period_end == when
    stripe_api.advance_clock(3600)  # the customer reads the preview for an hour
    update(sub_id, item, dear, "always_invoice", when)
    charged = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub_id).latest_invoice)
    assert charged.billing_reason == "subscription_update"
    assert [line.amount for line in charged.lines.data] == [line.amount for line in shown.lines.data]
    assert charged.amount_paid == shown.amount_due > 0


def test_without_the_proration_date_the_update_prorates_for_the_moment_it_is_made(stripe_api):
    product, monthly, _ = make_catalogue()
    _, dear = cheaper_and_dearer(product)
    sub_id, item = started_days_ago(stripe_api, monthly)
    shown = preview(sub_id, item, dear, "always_invoice", int(stripe_api.now()))
    stripe_api.advance_clock(5 * DAY)
    stripe.Subscription.modify(
        sub_id, items=[{"id": item.id, "price": dear.id}], proration_behavior="always_invoice"
    )
    charged = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub_id).latest_invoice)
    assert charged.amount_paid < shown.amount_due


def test_a_create_prorations_preview_is_the_renewal_carrying_the_prorations(stripe_api):
    product, monthly, _ = make_catalogue()
    _, dear = cheaper_and_dearer(product)
    sub_id, item = started_days_ago(stripe_api, monthly)
    shown = preview(sub_id, item, dear, "create_prorations", int(stripe_api.now()))
    unused, remaining, renewal = shown.lines.data
    assert unused.amount < 0 < remaining.amount and renewal.amount == 19900
    assert shown.period_end == item.current_period_end


def test_an_interval_change_preview_is_the_invoice_of_the_new_cycle(stripe_api):
    _, monthly, yearly = make_catalogue()
    sub_id, item = started_days_ago(stripe_api, monthly)
    when = int(stripe_api.now())
    shown = preview(sub_id, item, yearly, "always_invoice", when)
    credit, year = shown.lines.data
    assert credit.amount < 0 and year.amount == 49000
    assert year.period.end - year.period.start > 360 * DAY
    update(sub_id, item, yearly, "always_invoice", when)
    charged = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub_id).latest_invoice)
    assert [line.amount for line in charged.lines.data] == [credit.amount, 49000]
    assert charged.amount_paid == shown.amount_due == 49000 + credit.amount


def test_a_cheaper_plan_leaves_a_credit_that_pays_the_next_invoices(stripe_api):
    product, monthly, yearly = make_catalogue()
    cheap, _ = cheaper_and_dearer(product)
    sub_id, item = started_days_ago(stripe_api, yearly, days=30)
    when = int(stripe_api.now())
    shown = preview(sub_id, item, cheap, "always_invoice", when)  # yearly -> a cheap month
    assert shown.total < 0 and shown.amount_due == 0 and shown.starting_balance == 0
    update(sub_id, item, cheap, "always_invoice", when)
    sub = stripe.Subscription.retrieve(sub_id)
    made = stripe.Invoice.retrieve(sub.latest_invoice)
    assert made.status == "paid" and made.amount_due == 0 and made.ending_balance == shown.total
    assert stripe.Customer.retrieve(sub.customer).balance == shown.total

    upcoming = stripe.Invoice.create_preview(subscription=sub_id)
    assert upcoming.starting_balance == shown.total and upcoming.amount_due == 0
    stripe_api.renew(sub_id, backdate=True)
    renewal = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub_id).latest_invoice)
    assert renewal.starting_balance == shown.total
    assert renewal.amount_due == max(0, 1200 + shown.total)
    assert stripe.Customer.retrieve(sub.customer).balance == min(0, 1200 + shown.total)


def test_a_credit_lowers_what_the_next_upgrade_charges(stripe_api):
    product, monthly, _ = make_catalogue()
    cheap, dear = cheaper_and_dearer(product)
    sub_id, item = started_days_ago(stripe_api, monthly)
    update(sub_id, item, cheap, "always_invoice", int(stripe_api.now()))
    balance = stripe.Customer.retrieve(stripe.Subscription.retrieve(sub_id).customer).balance
    assert balance < 0
    when = int(stripe_api.now())
    shown = preview(sub_id, item, dear, "always_invoice", when)
    assert shown.starting_balance == balance
    assert shown.amount_due == max(0, shown.total + balance)
    update(sub_id, item, dear, "always_invoice", when)
    charged = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub_id).latest_invoice)
    assert charged.amount_paid == shown.amount_due

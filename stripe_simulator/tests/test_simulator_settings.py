"""The simulator repeats no constant that settings hold: it reads them when it is made."""

import requests

from stripe_simulator import StripeSimulator


def test_events_carry_the_api_version_settings_pin(settings):
    settings.STRIPE_API_VERSION = "2099-01-01.elsewhere"
    simulator = StripeSimulator()
    simulator.customer_create({"email": "pinned@example.com"})
    assert simulator.api_version == "2099-01-01.elsewhere"
    assert [e["api_version"] for e in simulator.events()] == ["2099-01-01.elsewhere"]


def test_it_accepts_the_api_key_settings_hold_and_no_other(settings):
    settings.STRIPE_SIMULATOR_API_KEY = "sk_test_51ElsewhereConfiguredKey000000000"
    simulator = StripeSimulator()
    assert simulator.api_keys == {"sk_test_51ElsewhereConfiguredKey000000000"}


def test_answers_name_the_api_version_settings_pin(stripe_simulator_server, settings):
    response = requests.get(
        f"{stripe_simulator_server.url}/v1/account",
        headers={"Authorization": f"Bearer {settings.STRIPE_SIMULATOR_API_KEY}"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.headers["Stripe-Version"] == settings.STRIPE_API_VERSION

"""The Checkout success page shows the buyer's key, so it answers `Cache-Control: no-store`."""

import pytest
from django.urls import reverse

from billing.tests.lifecycle import start_checkout
from licensing.models import License

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_success_page_with_the_key_is_not_stored(client, catalogue, buyer):
    session_id = start_checkout(client, buyer)
    catalogue.complete_checkout(session_id)
    response = client.get(reverse("billing:success"), {"session_id": session_id})
    key = License.objects.get(owner=buyer).keys.get()
    assert key.reveal() in response.content.decode()
    assert "no-store" in response.get("Cache-Control", "")

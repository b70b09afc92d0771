"""Revealing a key answers `Cache-Control: no-store`: no browser, proxy or back button keeps a copy."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from licensing.tests.factories import LicenseKeyFactory

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_revealing_a_key_is_not_stored(client, user):
    key = LicenseKeyFactory(holder=user, license__owner=user)
    client.force_login(user)
    response = client.post(reverse("me-key-reveal", args=[key.public_id]))
    assert response.json() == {"key": key.plaintext}
    assert _no_store(response)


def test_revealing_a_key_with_an_api_token_is_not_stored(client, user):
    key = LicenseKeyFactory(holder=user, license__owner=user)
    _, plaintext = ApiToken.issue(user=user, name="script")
    response = client.post(
        reverse("me-key-reveal", args=[key.public_id]), HTTP_AUTHORIZATION=f"Bearer {plaintext}"
    )
    assert response.status_code == 200 and _no_store(response)

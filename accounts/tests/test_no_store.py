"""The page that shows a new API token once answers `Cache-Control: no-store`."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_new_api_token_page_is_not_stored(client, user):
    client.force_login(user)
    response = client.post(reverse("api_tokens"), {"name": "ci"})
    assert response.status_code == 200
    token = response.context["new_token"]
    assert token and token in response.content.decode()
    assert "no-store" in response.get("Cache-Control", "")

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from accounts.tests.factories import UserFactory


@pytest.fixture
def outsider(db):
    return UserFactory()


def create_token(client, name="CI script") -> str:
    response = client.post(reverse("api_tokens"), {"name": name})
    assert response.status_code == 200
    return response.context["new_token"]


def test_a_token_is_shown_once_and_stored_only_as_a_digest(client, user):
    client.force_login(user)
    plaintext = create_token(client)
    assert plaintext.startswith("qbt_") and len(plaintext) > 40
    token = ApiToken.objects.get(user=user)
    assert token.digest == ApiToken.digest_of(plaintext)
    assert plaintext not in (token.digest, token.hint, token.name)
    page = client.get(reverse("api_tokens"))
    assert plaintext.encode() not in page.content
    assert token.hint.encode() in page.content


def test_a_token_needs_a_name(client, user):
    client.force_login(user)
    response = client.post(reverse("api_tokens"), {"name": "   "})
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_the_tokens_page_needs_a_login(client, db):
    response = client.get(reverse("api_tokens"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_token_authenticates_api_requests_until_revoked(client, user):
    client.force_login(user)
    plaintext = create_token(client)
    token = ApiToken.objects.get(user=user)
    client.logout()
    api = client.get("/api/v1/me/licenses", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    client.force_login(user)
    client.post(reverse("api_token_revoke", args=[token.public_id]))
    client.logout()
    api = client.get("/api/v1/me/licenses", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.status_code == 401


@pytest.mark.parametrize("header", ["Bearer qbt_wrong", "Bearer", "Bearer a b", "Bearer not-ours"])
def test_a_bad_token_is_refused_with_401(client, db, header):
    assert client.get("/api/v1/me/licenses", HTTP_AUTHORIZATION=header).status_code == 401


def test_another_user_cannot_revoke_my_token(client, user, outsider):
    token, _ = ApiToken.issue(user=user, name="mine")
    client.force_login(outsider)
    response = client.post(reverse("api_token_revoke", args=[token.public_id]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_post(client, user):
    token, _ = ApiToken.issue(user=user, name="mine")
    client.force_login(user)
    assert client.get(reverse("api_token_revoke", args=[token.public_id])).status_code == 405

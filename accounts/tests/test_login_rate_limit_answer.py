"""What a rate-limited login really answers (the README says it): too many failed attempts for one
address re-show the form with an error; too many logins from one address get the 429 page."""

import pytest
from django.core.cache import cache

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def test_failed_logins_for_one_address_get_a_form_error_then_even_the_right_password_waits(client):
    user = UserFactory(password="right-password-1")  # noqa: S106
    for _ in range(5):
        response = client.post(LOGIN, {"login": user.email, "password": "wrong"})
        assert "The email address and/or password you specified are not correct." in response.content.decode()
    response = client.post(LOGIN, {"login": user.email, "password": "right-password-1"})
    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_too_many_logins_from_one_address_get_the_429_page(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    for _ in range(3):
        assert client.post(LOGIN, {"login": "nobody@example.com", "password": "x"}).status_code == 200
    response = client.post(LOGIN, {"login": "nobody@example.com", "password": "x"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()

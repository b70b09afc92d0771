"""Sessions (allauth.usersessions at /accounts/sessions/): the list of where the account is
signed in, "Sign out other sessions" and "Log out everywhere"."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Safari/537.36"
)


@pytest.fixture(autouse=True)
def clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def signed_in(user, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def logged_in(client) -> bool:
    return client.get(reverse("dashboard")).status_code == 200


def test_the_page_lists_each_session_by_device_and_marks_this_one():
    user = UserFactory()
    laptop = signed_in(user, FIREFOX_LINUX)
    signed_in(user, CHROME_WINDOWS)
    page = laptop.get(reverse("usersessions_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Firefox on Linux" in html and "Chrome on Windows" in html
    assert html.count("This session") == 1
    assert "Sign out other sessions" in html and "Log out everywhere" in html


def test_another_accounts_sessions_are_not_listed():
    user, other = UserFactory(), UserFactory()
    mine = signed_in(user, FIREFOX_LINUX)
    signed_in(other, CHROME_WINDOWS)
    assert "Chrome on Windows" not in mine.get(reverse("usersessions_list")).content.decode()


def test_signing_out_other_sessions_keeps_this_one():
    user = UserFactory()
    laptop = signed_in(user, FIREFOX_LINUX)
    phone = signed_in(user, CHROME_WINDOWS)
    assert laptop.post(reverse("usersessions_list")).status_code == 302
    assert logged_in(laptop)
    assert not logged_in(phone)


def test_log_out_everywhere_logs_out_every_client_this_one_too():
    user = UserFactory()
    laptop = signed_in(user, FIREFOX_LINUX)
    phone = signed_in(user, CHROME_WINDOWS)
    response = laptop.post(reverse("account_sessions_end_all"))
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert not logged_in(phone)
    assert not logged_in(laptop)


def test_log_out_everywhere_is_a_post_with_csrf():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(reverse("account_sessions_end_all")).status_code == 405
    assert client.post(reverse("account_sessions_end_all")).status_code == 403
    assert logged_in(client)

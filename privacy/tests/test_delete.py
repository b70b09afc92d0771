"""Delete my account: refused while a subscription bills; otherwise keys, tokens, teams and
personal data go, while licenses (and so invoices) stay on an anonymised, inactive user."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from licensing.models import License, LicenseKeyStatus
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory
from teams.models import Invitation, Membership
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def logged_in_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ended_license(owner, **kwargs):
    return LicenseFactory(
        owner=owner, status="inactive", expires_at=timezone.now() - timezone.timedelta(days=3), **kwargs
    )


def delete(client, password=DEFAULT_PASSWORD):
    return client.post(reverse("account_delete"), {"password": password})


def test_a_live_subscription_refuses_deletion_with_its_end_date(django_capture_on_commit_callbacks):
    user = UserFactory()
    license_ = LicenseFactory(owner=user, stripe_subscription_id="sub_live", status="active")
    client = logged_in_as(user)
    page = client.get(reverse("account_delete")).content.decode()
    assert "Cancel your subscription first; it ends on" in page
    assert f"{license_.expires_at:%-d %b %Y}" in page
    assert 'name="password"' not in page
    response = delete(client)
    assert response.status_code == 409
    user.refresh_from_db()
    assert user.is_active and user.email.endswith("@example.com")


def test_the_password_is_asked_beside_the_field_and_a_wrong_one_changes_nothing():
    user = UserFactory()
    client = logged_in_as(user)
    response = delete(client, password="not-my-password")
    assert response.status_code == 200
    assert response.context["form"].errors == {"password": ["This is not your password."]}
    user.refresh_from_db()
    assert user.is_active and user.has_usable_password()
    assert delete(client, password="").context["form"].errors["password"]


def test_deletion_removes_personal_data_and_keeps_the_licenses(django_capture_on_commit_callbacks):
    user = UserFactory(email="ada@example.com", name="Ada Lovelace")
    license_ = ended_license(user, stripe_subscription_id="sub_old")
    key = LicenseKeyFactory(license=license_, holder=user)
    live_key = LicenseKeyFactory(license=LicenseFactory(owner=user), holder=user)  # a comp license
    DeviceFactory(key=live_key)
    ApiToken.issue(user=user, name="CI")
    client = logged_in_as(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = delete(client)
    assert response.status_code == 302 and response["Location"] == reverse("account_deleted")
    user.refresh_from_db()
    assert user.email == f"deleted-{user.pk}@invalid" and user.name == ""
    assert not user.is_active and not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    live_key.refresh_from_db()
    assert live_key.status == LicenseKeyStatus.REVOKED and not live_key.devices.exists()
    assert License.objects.filter(owner=user).count() == 2  # kept for the invoices
    key.refresh_from_db()
    # The confirmation went to the old address, before it was replaced.
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert "was deleted" in mail.outbox[0].subject
    # Logged out, the last page is shown once, and the old password opens nothing.
    assert "_auth_user_id" not in client.session
    assert "Your account is deleted" in client.get(reverse("account_deleted")).content.decode()
    assert client.get(reverse("account_deleted"))["Location"] == reverse("home")
    assert not Client().login(email="ada@example.com", password=DEFAULT_PASSWORD)


def test_a_second_submit_changes_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()
    client = logged_in_as(user)
    delete(client)
    with django_capture_on_commit_callbacks(execute=True):
        again = delete(client)
    assert again.status_code == 302 and again["Location"].startswith(reverse("account_login"))
    assert mail.outbox == []
    user.refresh_from_db()
    assert user.email == f"deleted-{user.pk}@invalid"


def test_a_tampered_request_cannot_delete_another_account():
    victim, user = UserFactory(), UserFactory()
    client = logged_in_as(user)
    response = client.post(
        reverse("account_delete"), {"password": DEFAULT_PASSWORD, "user": victim.pk, "email": victim.email}
    )
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.is_active and victim.email.endswith("@example.com")
    assert not User.objects.get(pk=user.pk).is_active


def test_a_team_owner_is_told_about_the_members_who_are_then_removed(django_capture_on_commit_callbacks):
    owner = UserFactory()
    team = TeamFactory(license__owner=owner, name="Engines", license__status="inactive")
    member = MembershipFactory(team=team, user=UserFactory(email="charles@example.com"))
    InvitationFactory(team=team, email="later@example.com")
    client = logged_in_as(owner)
    page = client.get(reverse("account_delete")).content.decode()
    assert "Engines" in page and "charles@example.com" in page and "They are removed from the team" in page
    with django_capture_on_commit_callbacks(execute=True):
        assert delete(client).status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    member.key.refresh_from_db()
    assert member.key.status == LicenseKeyStatus.REVOKED
    assert not Invitation.objects.open().filter(team=team).exists()
    assert ["charles@example.com"] in [message.to for message in mail.outbox]


def test_a_member_leaves_the_team_on_deletion():
    team = TeamFactory()
    member = MembershipFactory(team=team, user=UserFactory())
    delete(logged_in_as(member.user))
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert team.memberships.count() == 1  # the owner stays


def test_the_page_needs_a_login():
    assert Client().get(reverse("account_delete"))["Location"].startswith(reverse("account_login"))

"""The users list of the operator panel: plan, payment status, keys; filters, search and the detail page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape
from djstripe.models import Customer

from accounts.tests.factories import UserFactory
from licensing.models import LicenseStatus
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory
from teams.tests.factories import MembershipFactory

USERS = "/admin/accounts/user/"


def listed(response) -> list:
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["cl"].result_list)


@pytest.fixture
def people(db, plan, team_plan):
    """One user per payment status."""
    now = timezone.now()

    def customer(plan_, **fields):
        license_ = LicenseFactory(plan=plan_, **fields)
        LicenseKeyFactory(license=license_)
        return license_.owner

    made = {
        "active": customer(plan, stripe_subscription_id="sub_active"),
        "past_due": customer(
            team_plan,
            stripe_subscription_id="sub_late",
            status=LicenseStatus.GRACE,
            grace_ends_at=now + timedelta(days=4),
        ),
        "canceled": customer(plan, stripe_subscription_id="sub_gone", status=LicenseStatus.INACTIVE),
        "comp": customer(team_plan),
        "none": UserFactory(),
    }
    return made


@pytest.mark.parametrize("status", ["active", "past_due", "canceled", "comp", "none"])
def test_the_payment_status_filter(admin_client, admin_user, people, status):
    expected = [people[status].pk] + ([admin_user.pk] if status == "none" else [])
    assert listed(admin_client.get(USERS, {"payment": status})) == sorted(expected)


def test_the_plan_filter(admin_client, admin_user, people, team_plan):
    assert listed(admin_client.get(USERS, {"plan": team_plan.pk})) == sorted(
        [people["past_due"].pk, people["comp"].pk]
    )
    assert listed(admin_client.get(USERS, {"plan": "none"})) == sorted([people["none"].pk, admin_user.pk])


def test_a_paying_license_outranks_a_comp_one_and_a_revoked_one_is_ignored(admin_client, plan, team_plan):
    user = UserFactory()
    LicenseFactory(owner=user, plan=team_plan)
    LicenseFactory(owner=user, plan=plan, stripe_subscription_id="sub_x", status=LicenseStatus.GRACE)
    LicenseFactory(owner=user, plan=team_plan, stripe_subscription_id="sub_y", revoked_at=timezone.now())
    assert listed(admin_client.get(USERS, {"payment": "past_due", "plan": plan.pk})) == [user.pk]


def test_the_list_shows_plan_payment_status_and_keys(admin_client, people, team_plan):
    LicenseKeyFactory(license=LicenseFactory(plan=team_plan), holder=people["past_due"])
    html = admin_client.get(USERS, {"q": people["past_due"].email}).content.decode()
    assert "Team" in html and "Past due" in html
    row = listed(admin_client.get(USERS, {"q": people["past_due"].email}))
    assert row == [people["past_due"].pk]
    response = admin_client.get(USERS, {"q": people["past_due"].email})
    assert response.context["cl"].result_list[0].key_count == 2


def test_users_are_found_by_email_and_name(admin_client, db):
    ada = UserFactory(name="Ada Lovelace", email="ada@example.org")
    UserFactory(name="Grace Hopper")
    assert listed(admin_client.get(USERS, {"q": "lovelace"})) == [ada.pk]
    assert listed(admin_client.get(USERS, {"q": "ada@example"})) == [ada.pk]


def test_the_user_page_shows_licenses_keys_devices_teams_and_the_stripe_customer(admin_client, db, team_plan):
    membership = MembershipFactory()
    user = membership.user
    own = LicenseKeyFactory(
        license=LicenseFactory(owner=user, plan=team_plan, stripe_subscription_id="sub_9")
    )
    DeviceFactory(key=own, name="Render node 3")
    Customer.objects.create(
        id="cus_TEST123", livemode=False, subscriber=user, stripe_data={"id": "cus_TEST123"}
    )
    html = admin_client.get(f"{USERS}{user.pk}/change/").content.decode()
    assert "licenses owned" in html.lower() and "sub_9" in html
    assert own.masked in html and membership.key.masked in html
    assert "Render node 3" in html
    assert escape(membership.team.name) in html
    assert "https://dashboard.stripe.com/test/customers/cus_TEST123" in html
    assert own.plaintext not in html


def test_the_add_user_page_still_works(admin_client, db):
    assert admin_client.get(f"{USERS}add/").status_code == 200
    response = admin_client.post(
        f"{USERS}add/",
        {
            "email": "new.staff@example.com",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    assert response.status_code == 302

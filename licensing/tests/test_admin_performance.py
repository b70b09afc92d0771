"""Every changelist costs the same number of queries for 5 rows as for 100, and a page of a big
license table costs no more than a page of a small one."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.tests.factories import PlanFactory
from licensing import keys
from licensing.models import License, LicenseKey, UsageDaily, ValidationEvent
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

_serial = itertools.count()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Factories set a password on every user; the real hasher would make 200 users take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _licensed_user(n):
    key = LicenseKeyFactory(license=LicenseFactory(stripe_subscription_id=f"sub_perf_{next(_serial)}"))
    DeviceFactory(key=key)
    return key


def _events(n):
    key = LicenseKey.objects.first() or LicenseKeyFactory()
    ValidationEvent.objects.bulk_create(
        ValidationEvent(key=key, code="VALID" if i % 2 else "EXPIRED") for i in range(n)
    )


def _usage(n):
    key = LicenseKeyFactory()
    today = timezone.localdate()
    UsageDaily.objects.bulk_create(
        UsageDaily(key=key, day=today - timedelta(days=i), feature=UsageDaily.VALIDATIONS, count=i)
        for i in range(n)
    )


def _each(make):
    def run(n):
        for i in range(n):
            make(i)

    return run


# changelist URL, a function that adds n rows to what it lists
MAKERS = {
    "/admin/accounts/user/": _each(_licensed_user),
    "/admin/accounts/user/?payment=active": _each(_licensed_user),
    "/admin/billing/plan/": _each(lambda i: PlanFactory()),
    "/admin/licensing/license/": _each(_licensed_user),
    "/admin/licensing/license/?state=active": _each(_licensed_user),
    "/admin/licensing/licensekey/": _each(_licensed_user),
    "/admin/licensing/device/": _each(lambda i: DeviceFactory()),
    "/admin/licensing/validationevent/": _events,
    "/admin/licensing/usagedaily/": None,
    "/admin/teams/team/": _each(lambda i: TeamFactory()),
    "/admin/teams/membership/": _each(lambda i: MembershipFactory()),
    "/admin/teams/invitation/": _each(lambda i: InvitationFactory()),
}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", MAKERS)
def test_the_changelist_query_count_does_not_grow_with_rows(admin_client, url):
    make = MAKERS[url]
    if make is None:
        # UsageDaily rows are unique per key and day: make them in one batch of each size.
        _usage(5)
        few = _queries(admin_client, url)
        _usage(95)
    else:
        make(5)
        few = _queries(admin_client, url)
        make(95)
    response = admin_client.get(url)
    assert len(response.context["cl"].result_list) >= 100
    assert _queries(admin_client, url) == few


def bulk_licenses(count: int, plan) -> None:
    """`count` licenses, each with an owner and a key, in a few INSERTs."""
    stamp = timezone.now().strftime("%H%M%S%f")
    users = UserFactory._meta.model.objects.bulk_create(
        UserFactory._meta.model(email=f"bulk{stamp}-{i}@example.com", name=f"Bulk {i}") for i in range(count)
    )
    licenses = License.objects.bulk_create(
        License(
            owner=user,
            plan=plan,
            stripe_subscription_id=f"sub_bulk_{stamp}_{i}" if i % 3 else None,
            expires_at=timezone.now() + timedelta(days=i % 60),
        )
        for i, user in enumerate(users)
    )
    LicenseKey.objects.bulk_create(
        LicenseKey(
            license=license_,
            holder=license_.owner,
            digest=f"{stamp}{i:020d}".ljust(64, "0"),
            encrypted_key="-",
            prefix=keys.public_prefix(keys.generate()),
        )
        for i, license_ in enumerate(licenses)
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/licensing/license/",
        "/admin/licensing/license/?state=active&ending=30",
        "/admin/accounts/user/",
    ],
)
def test_a_page_of_two_thousand_licenses_costs_what_a_page_of_five_does(admin_client, plan, url):
    bulk_licenses(5, plan)
    few = _queries(admin_client, url)
    bulk_licenses(2000, plan)
    assert _queries(admin_client, url) == few

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.models import License, LicenseKey, LicenseKeyStatus
from licensing.tests.factories import DeviceFactory, LicenseKeyFactory

CHANGELISTS = [
    "/admin/licensing/license/",
    "/admin/licensing/licensekey/",
    "/admin/licensing/device/",
    "/admin/licensing/validationevent/",
    "/admin/licensing/usagedaily/",
]


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelists_load_for_staff(admin_client, license_key, url):
    DeviceFactory(key=license_key)
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelists_are_not_for_customers(client, user, url):
    client.force_login(user)
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("url", CHANGELISTS[:3])
def test_changelist_query_count_does_not_grow_with_rows(admin_client, url):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    key = LicenseKeyFactory()
    DeviceFactory(key=key)
    few = count()
    for _ in range(5):
        DeviceFactory(key=LicenseKeyFactory())
    assert count() == few


def test_licenses_are_found_by_key_prefix_owner_email_and_full_key(admin_client, license_key):
    other = LicenseKeyFactory()
    for term in (license_key.prefix, license_key.license.owner.email, license_key.plaintext):
        response = admin_client.get("/admin/licensing/license/", {"q": term})
        ids = [obj.pk for obj in response.context["cl"].result_list]
        assert ids == [license_key.license_id], term
        assert other.license_id not in ids


def test_keys_are_found_by_prefix_and_owner_email(admin_client, license_key):
    LicenseKeyFactory()
    for term in (license_key.prefix.lower(), license_key.license.owner.email):
        response = admin_client.get("/admin/licensing/licensekey/", {"q": term})
        assert [obj.pk for obj in response.context["cl"].result_list] == [license_key.pk]


def test_the_key_page_never_shows_the_key_digest_or_ciphertext(admin_client, license_key):
    response = admin_client.get(f"/admin/licensing/licensekey/{license_key.pk}/change/")
    content = response.content.decode()
    assert response.status_code == 200
    assert license_key.prefix in content
    assert license_key.plaintext not in content
    assert license_key.digest not in content
    assert license_key.encrypted_key not in content


def test_staff_can_suspend_reinstate_and_revoke_from_the_admin(admin_client, admin_user, license_key):
    url = "/admin/licensing/license/"
    ids = [license_key.license_id]
    admin_client.post(url, {"action": "suspend", "_selected_action": ids})
    license_ = License.objects.get()
    assert license_.suspended_at and license_.suspended_by == admin_user
    admin_client.post(url, {"action": "reinstate", "_selected_action": ids})
    assert License.objects.get().suspended_at is None
    admin_client.post(url, {"action": "revoke", "_selected_action": ids})
    assert License.objects.get().revoked_by == admin_user
    response = admin_client.post(url, {"action": "revoke", "_selected_action": ids}, follow=True)
    assert "already revoked" in response.content.decode()


def test_staff_can_revoke_a_single_key(admin_client, license_key):
    DeviceFactory(key=license_key)
    admin_client.post(
        "/admin/licensing/licensekey/", {"action": "revoke_keys", "_selected_action": [license_key.pk]}
    )
    license_key.refresh_from_db()
    assert license_key.status == LicenseKeyStatus.REVOKED
    assert not license_key.devices.exists()
    assert LicenseKey.objects.count() == 1


@pytest.mark.parametrize("state", ["active", "grace", "inactive", "expired", "suspended", "revoked"])
def test_the_state_filter_answers(admin_client, license_key, state):
    assert admin_client.get("/admin/licensing/license/", {"state": state}).status_code == 200

"""The licensing admin: lists, search, filters, staff actions with a reason, and their effect."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from accounts.tests.factories import UserFactory
from licensing.models import License, LicenseKey, LicenseKeyStatus, LicenseStatus, UsageDaily, ValidationEvent
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory

LICENSES = "/admin/licensing/license/"
KEYS = "/admin/licensing/licensekey/"
CHANGELISTS = [
    LICENSES,
    KEYS,
    "/admin/licensing/device/",
    "/admin/licensing/validationevent/",
    "/admin/licensing/usagedaily/",
]


def validate(client, key) -> str:
    response = client.post(
        "/api/v1/licenses/validate", {"key": key.plaintext}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["code"]


def listed(response) -> list:
    assert response.status_code == 200
    return [obj.pk for obj in response.context["cl"].result_list]


def act(admin_client, url, action, ids, **form):
    """Choose an action on a changelist, then confirm it on the reason page."""
    first = admin_client.post(url, {"action": action, "_selected_action": ids})
    assert first.status_code == 200 and b'name="reason"' in first.content
    return admin_client.post(
        url, {"action": action, "_selected_action": ids, "confirm": "yes", **form}, follow=True
    )


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelists_load_for_staff(admin_client, license_key, url):
    DeviceFactory(key=license_key)
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelists_are_not_for_customers(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_license_list_shows_key_holder_plan_state_devices_and_last_validation(admin_client, license_key):
    DeviceFactory(key=license_key)
    license_key.last_validated_at = timezone.now()
    license_key.save()
    html = admin_client.get(LICENSES).content.decode()
    assert f"{license_key.prefix}-…" in html
    assert license_key.holder.email in html
    assert "1 / 2" in html  # devices used / allowed
    assert 'qb-badge-ok">Active<' in html
    assert license_key.plaintext not in html


def test_licenses_are_found_by_key_prefix_owner_email_and_full_key(admin_client, license_key):
    other = LicenseKeyFactory()
    for term in (license_key.prefix, license_key.license.owner.email, license_key.plaintext):
        ids = listed(admin_client.get(LICENSES, {"q": term}))
        assert ids == [license_key.license_id], term
        assert other.license_id not in ids


def test_a_pasted_key_in_lower_case_with_spaces_is_still_found(admin_client, license_key):
    LicenseKeyFactory()
    term = f"  {license_key.plaintext.lower()} "
    assert listed(admin_client.get(KEYS, {"q": term})) == [license_key.pk]


def test_keys_are_found_by_prefix_holder_email_and_full_key(admin_client, license_key):
    LicenseKeyFactory()
    for term in (license_key.prefix.lower(), license_key.license.owner.email, license_key.plaintext):
        assert listed(admin_client.get(KEYS, {"q": term})) == [license_key.pk], term


def test_the_key_page_never_shows_the_key_digest_or_ciphertext(admin_client, license_key):
    response = admin_client.get(f"/admin/licensing/licensekey/{license_key.pk}/change/")
    content = response.content.decode()
    assert response.status_code == 200
    assert license_key.prefix in content
    assert license_key.plaintext not in content
    assert license_key.digest not in content
    assert license_key.encrypted_key not in content


def test_the_license_page_shows_devices_validations_and_usage(admin_client, license_key):
    DeviceFactory(key=license_key, name="Studio Mac")
    ValidationEvent.objects.create(key=license_key, code="TOO_MANY_DEVICES", ip="203.0.113.9")
    UsageDaily.objects.create(key=license_key, day=timezone.localdate(), feature="export_pdf", count=7)
    html = admin_client.get(f"/admin/licensing/license/{license_key.license_id}/change/").content.decode()
    assert "Studio Mac" in html
    assert "TOO_MANY_DEVICES" in html and "203.0.113.9" in html
    assert "export_pdf" in html
    assert "Revoke…" in html and "Suspend…" in html


# --- actions ------------------------------------------------------------------------------------


def test_revoking_asks_for_a_reason_then_validation_answers_revoked(
    client, admin_client, admin_user, license_key
):
    assert validate(client, license_key) == "VALID"
    response = act(
        admin_client, LICENSES, "revoke", [license_key.license_id], reason="Chargeback on invoice 42"
    )
    assert "Revoked 1 license." in response.content.decode()
    license_ = License.objects.get()
    assert license_.revoked_by == admin_user
    assert license_.revoked_reason == "Chargeback on invoice 42"
    entry = LogEntry.objects.get(object_id=str(license_.pk))
    assert entry.user == admin_user
    assert "Chargeback on invoice 42" in entry.get_change_message()
    assert validate(client, license_key) == "REVOKED"


def test_an_action_without_a_reason_changes_nothing(admin_client, license_key):
    response = admin_client.post(
        LICENSES,
        {"action": "revoke", "_selected_action": [license_key.license_id], "confirm": "yes", "reason": " "},
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert License.objects.get().revoked_at is None
    assert not LogEntry.objects.exists()


def test_suspend_then_reinstate_with_reasons(client, admin_client, admin_user, license_key):
    ids = [license_key.license_id]
    act(admin_client, LICENSES, "suspend", ids, reason="Abuse report 7")
    license_ = License.objects.get()
    assert license_.suspended_by == admin_user and license_.suspended_reason == "Abuse report 7"
    assert validate(client, license_key) == "SUSPENDED"
    act(admin_client, LICENSES, "reinstate", ids, reason="Report was a mistake")
    assert License.objects.get().suspended_at is None
    assert validate(client, license_key) == "VALID"
    messages = [entry.get_change_message() for entry in LogEntry.objects.order_by("pk")]
    assert "Abuse report 7" in messages[0] and "Report was a mistake" in messages[1]


def test_an_action_that_the_state_forbids_says_why(admin_client, license_key):
    act(admin_client, LICENSES, "revoke", [license_key.license_id], reason="fraud")
    response = act(admin_client, LICENSES, "suspend", [license_key.license_id], reason="again")
    assert "revoked license cannot be suspended" in response.content.decode()
    assert LogEntry.objects.count() == 1


def test_extending_an_expired_comp_license_makes_it_valid_again(client, admin_client, user, plan):
    key = LicenseKeyFactory(
        license=LicenseFactory(owner=user, plan=plan, expires_at=timezone.now() - timedelta(days=1))
    )
    License.objects.update(status=LicenseStatus.INACTIVE)
    assert validate(client, key) == "EXPIRED"
    through = timezone.now().date() + timedelta(days=90)
    response = act(
        admin_client,
        LICENSES,
        "extend",
        [key.license_id],
        valid_through=through.isoformat(),
        reason="Conference speaker",
    )
    assert "Extended 1 license." in response.content.decode()
    license_ = License.objects.get()
    assert license_.expires_at.date() == through and license_.status == LicenseStatus.ACTIVE
    assert validate(client, key) == "VALID"
    assert "Conference speaker" in LogEntry.objects.get().get_change_message()


def test_a_stripe_license_is_not_extended_by_hand(admin_client, license_key):
    License.objects.update(stripe_subscription_id="sub_123")
    before = License.objects.get().expires_at
    through = (timezone.now() + timedelta(days=400)).date().isoformat()
    response = act(
        admin_client, LICENSES, "extend", [license_key.license_id], valid_through=through, reason="x"
    )
    assert "billed through Stripe" in response.content.decode()
    assert License.objects.get().expires_at == before


def test_the_license_page_buttons_run_the_same_actions(client, admin_client, license_key):
    url = f"/admin/licensing/license/{license_key.license_id}/staff/suspend/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="reason"' in page.content
    response = admin_client.post(url, {"confirm": "yes", "reason": "Card testing"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/licensing/license/{license_key.license_id}/change/")
    assert validate(client, license_key) == "SUSPENDED"


def test_staff_can_revoke_a_single_key_with_a_reason(client, admin_client, admin_user, license_key):
    DeviceFactory(key=license_key)
    response = act(admin_client, KEYS, "revoke_keys", [license_key.pk], reason="Leaked on a forum")
    assert "Revoked 1 license key." in response.content.decode()
    license_key.refresh_from_db()
    assert license_key.status == LicenseKeyStatus.REVOKED
    assert license_key.revoked_reason == "Leaked on a forum"
    assert not license_key.devices.exists()
    entry = LogEntry.objects.get()
    assert entry.user == admin_user and "Leaked on a forum" in entry.get_change_message()
    assert validate(client, license_key) == "REVOKED"


def test_the_key_page_revoke_button(client, admin_client, license_key):
    url = f"/admin/licensing/licensekey/{license_key.pk}/staff/revoke_keys/"
    assert (
        "Revoke key…"
        in admin_client.get(f"/admin/licensing/licensekey/{license_key.pk}/change/").content.decode()
    )
    admin_client.post(url, {"confirm": "yes", "reason": "Employee left"})
    assert validate(client, license_key) == "REVOKED"


def test_an_unknown_staff_action_is_refused(admin_client, license_key):
    assert (
        admin_client.get(f"/admin/licensing/license/{license_key.license_id}/staff/delete/").status_code
        == 403
    )


def test_the_csv_export_has_the_selected_licenses(admin_client, license_key):
    other = LicenseKeyFactory()
    response = admin_client.post(
        LICENSES, {"action": "export_csv", "_selected_action": [license_key.license_id]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["owner_email"] for row in rows] == [license_key.license.owner.email]
    assert other.license.owner.email not in response.content.decode()


def test_a_comp_license_added_here_gets_its_owner_a_key(admin_client, plan):
    owner = UserFactory()
    response = admin_client.post(
        "/admin/licensing/license/add/",
        {"owner": owner.pk, "plan": plan.pk, "seats": "", "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    license_ = License.objects.get()
    assert license_.stripe_subscription_id is None
    assert LicenseKey.objects.get().holder == owner


# --- filters ------------------------------------------------------------------------------------


@pytest.fixture
def mixed(db, plan, team_plan):
    """One license per state, named by it."""
    now = timezone.now()
    made = {
        "active": LicenseFactory(plan=plan),
        "grace": LicenseFactory(plan=plan, status=LicenseStatus.GRACE, grace_ends_at=now + timedelta(days=3)),
        "inactive": LicenseFactory(plan=team_plan, status=LicenseStatus.INACTIVE),
        "expired": LicenseFactory(plan=plan, expires_at=now - timedelta(days=1)),
        "suspended": LicenseFactory(plan=plan, suspended_at=now),
        "revoked": LicenseFactory(plan=team_plan, revoked_at=now),
    }
    return made


@pytest.mark.parametrize("state", ["active", "grace", "inactive", "expired", "suspended", "revoked"])
def test_the_status_filter(admin_client, mixed, state):
    assert listed(admin_client.get(LICENSES, {"state": state})) == [mixed[state].pk]


def test_the_plan_filter(admin_client, mixed, team_plan):
    ids = listed(admin_client.get(LICENSES, {"plan__id__exact": team_plan.pk}))
    assert sorted(ids) == sorted([mixed["inactive"].pk, mixed["revoked"].pk])


def test_the_ending_filter_lists_licenses_that_will_not_renew(admin_client, plan):
    now = timezone.now()
    comp_5 = LicenseFactory(plan=plan, expires_at=now + timedelta(days=5))
    comp_20 = LicenseFactory(plan=plan, expires_at=now + timedelta(days=20))
    canceling = LicenseFactory(
        plan=plan,
        expires_at=now + timedelta(days=6),
        stripe_subscription_id="sub_c",
        cancel_at_period_end=True,
    )
    grace = LicenseFactory(
        plan=plan,
        status=LicenseStatus.GRACE,
        stripe_subscription_id="sub_g",
        grace_ends_at=now + timedelta(days=2),
    )
    LicenseFactory(plan=plan, expires_at=now + timedelta(days=4), stripe_subscription_id="sub_renews")
    LicenseFactory(plan=plan, expires_at=now + timedelta(days=60))
    LicenseFactory(plan=plan, expires_at=now - timedelta(days=1))
    assert sorted(listed(admin_client.get(LICENSES, {"ending": "7"}))) == sorted(
        [comp_5.pk, canceling.pk, grace.pk]
    )
    assert sorted(listed(admin_client.get(LICENSES, {"ending": "30"}))) == sorted(
        [comp_5.pk, comp_20.pk, canceling.pk, grace.pk]
    )


def test_the_billing_filter(admin_client, plan):
    billed = LicenseFactory(plan=plan, stripe_subscription_id="sub_1")
    comp = LicenseFactory(plan=plan)
    assert listed(admin_client.get(LICENSES, {"billing": "stripe"})) == [billed.pk]
    assert listed(admin_client.get(LICENSES, {"billing": "comp"})) == [comp.pk]


def test_the_device_filter_tells_counted_from_stale(admin_client, license_key):
    fresh = DeviceFactory(key=license_key)
    stale = DeviceFactory(key=license_key, last_heartbeat_at=timezone.now() - timedelta(days=90))
    assert listed(admin_client.get("/admin/licensing/device/", {"counting": "yes"})) == [fresh.pk]
    assert listed(admin_client.get("/admin/licensing/device/", {"counting": "no"})) == [stale.pk]


def test_validation_events_filter_by_code_outcome_and_date(admin_client, license_key):
    now = timezone.now()
    old = ValidationEvent.objects.create(key=license_key, code="REVOKED", created_at=now - timedelta(days=40))
    today = ValidationEvent.objects.create(key=license_key, code="EXPIRED")
    valid = ValidationEvent.objects.create(key=license_key, code="VALID")
    url = "/admin/licensing/validationevent/"
    assert listed(admin_client.get(url, {"code__exact": "REVOKED"})) == [old.pk]
    assert sorted(listed(admin_client.get(url, {"outcome": "failed"}))) == sorted([old.pk, today.pk])
    assert listed(admin_client.get(url, {"outcome": "valid"})) == [valid.pk]
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = {  # what the "Past 7 days" link asks for, in UTC
        "created_at__gte": f"{midnight - timedelta(days=7):%Y-%m-%dT%H:%M:%SZ}",
        "created_at__lt": f"{midnight + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
    }
    assert sorted(listed(admin_client.get(url, week))) == sorted([today.pk, valid.pk])
    assert listed(
        admin_client.get(
            url,
            {
                "created_at__year": old.created_at.year,
                "created_at__month": old.created_at.month,
                "code__exact": "REVOKED",
            },
        )
    ) == [old.pk]


def test_validation_events_are_read_only(admin_client, license_key):
    event = ValidationEvent.objects.create(key=license_key, code="VALID")
    assert admin_client.get("/admin/licensing/validationevent/add/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/licensing/validationevent/{event.pk}/change/", {"code": "REVOKED"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(f"/admin/licensing/validationevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert admin_client.get(f"/admin/licensing/validationevent/{event.pk}/change/").status_code == 200
    assert ValidationEvent.objects.get().code == "VALID"


def test_the_license_page_links_to_its_validations(admin_client, license_key):
    mine = ValidationEvent.objects.create(key=license_key, code="VALID")
    ValidationEvent.objects.create(key=LicenseKeyFactory(), code="VALID")
    url = "/admin/licensing/validationevent/"
    assert listed(admin_client.get(url, {"key__license__id__exact": license_key.license_id})) == [mine.pk]


def test_a_multi_seat_comp_license_added_here_gets_a_team(admin_client, team_plan):
    from teams.models import Team

    owner = UserFactory()
    data = {"owner": owner.pk, "plan": team_plan.pk, "seats": "", "expires_at_0": "", "expires_at_1": ""}
    assert admin_client.post("/admin/licensing/license/add/", data).status_code == 302
    team = Team.objects.get()
    assert team.license.owner == owner
    assert team.memberships.get().key.holder == owner

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from licensing import keys
from licensing.models import License, ValidationEvent
from licensing.tests.factories import LicenseKeyFactory


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_issue_license_creates_a_comp_license_and_prints_its_key_once(user, team_plan):
    out = run(
        "issue_license",
        "--email",
        user.email.upper(),
        "--plan",
        "team",
        "--expires",
        "2099-01-31",
        "--seats",
        "7",
    )
    license_ = License.objects.get(owner=user)
    assert license_.stripe_subscription_id is None
    assert license_.seats_total == 7
    assert license_.expires_at.date().isoformat() == "2099-01-31"
    key = out.strip().splitlines()[-1]
    assert keys.normalise(key) == key
    assert license_.keys.get().reveal() == key
    assert f"to {user.email}" in out
    assert license_.team.memberships.get().user == user  # seven seats: a team to invite into


def test_issue_license_without_expiry_has_no_end(user, plan):
    run("issue_license", "--email", user.email, "--plan", "solo")
    assert License.objects.get(owner=user).expires_at is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.com", "--plan", "solo"], "No user with email"),
        (["--email", "{user}", "--plan", "gold"], "No plan 'gold'"),
        (["--email", "{user}", "--plan", "solo", "--expires", "someday"], "is not a date"),
        (["--email", "{user}", "--plan", "solo", "--expires", "2001-01-01"], "is in the past"),
        (["--email", "{user}", "--plan", "solo", "--seats", "0"], "at least 1"),
    ],
)
def test_issue_license_refuses_bad_input_with_a_clear_message(user, plan, args, message):
    args = [arg.replace("{user}", user.email) for arg in args]
    with pytest.raises(CommandError, match=message):
        run("issue_license", *args)
    assert not License.objects.exists()


def test_revoke_license_by_full_key(license_key):
    out = run("revoke_license", license_key.plaintext, "--reason", "chargeback")
    license_key.license.refresh_from_db()
    assert license_key.license.revoked_at is not None
    assert license_key.license.revoked_reason == "chargeback"
    assert "Revoked" in out
    assert license_key.plaintext not in out


def test_revoke_license_by_prefix(license_key):
    run("revoke_license", license_key.prefix.lower(), "--reason", "refund")
    license_key.license.refresh_from_db()
    assert license_key.license.revoked_at is not None


def test_revoking_twice_is_an_error(license_key):
    run("revoke_license", license_key.prefix, "--reason", "refund")
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke_license", license_key.prefix, "--reason", "refund")


@pytest.mark.parametrize("text", ["QB-ZZZZZ", "hello", "QB-"])
def test_unknown_keys_and_prefixes_are_an_error(db, text):
    with pytest.raises(CommandError):
        run("revoke_license", text, "--reason", "x")


def test_a_prefix_shared_by_two_licenses_is_ambiguous(license_key):
    other = LicenseKeyFactory()
    LicenseKeyFactory._meta.model.objects.filter(pk=other.pk).update(prefix=license_key.prefix)
    with pytest.raises(CommandError, match="several licenses"):
        run("revoke_license", license_key.prefix, "--reason", "x")


def test_suspend_and_reinstate_license(license_key):
    run("suspend_license", license_key.prefix, "--reason", "fraud check")
    license_key.license.refresh_from_db()
    assert license_key.license.suspended_reason == "fraud check"
    with pytest.raises(CommandError, match="already suspended"):
        run("suspend_license", license_key.prefix, "--reason", "again")
    run("reinstate_license", license_key.prefix)
    license_key.license.refresh_from_db()
    assert license_key.license.suspended_at is None
    with pytest.raises(CommandError, match="not suspended"):
        run("reinstate_license", license_key.prefix)


def test_a_revoked_license_cannot_be_reinstated_or_suspended(license_key):
    run("revoke_license", license_key.prefix, "--reason", "refund")
    with pytest.raises(CommandError, match="cannot be undone"):
        run("reinstate_license", license_key.prefix)
    with pytest.raises(CommandError, match="revoked"):
        run("suspend_license", license_key.prefix, "--reason", "x")


def test_suspending_needs_a_reason(license_key):
    with pytest.raises(CommandError, match="reason"):
        run("suspend_license", license_key.prefix, "--reason", "  ")


def test_prune_validation_events_keeps_recent_ones(license_key):
    ValidationEvent.objects.create(
        key=license_key, code="VALID", created_at=timezone.now() - timedelta(days=100)
    )
    ValidationEvent.objects.create(key=license_key, code="VALID")
    assert "Deleted 1" in run("prune_validation_events")
    assert ValidationEvent.objects.count() == 1

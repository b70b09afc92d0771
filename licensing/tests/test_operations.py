"""expire_licenses and export_licenses_csv: what operators run from cron and for accounting."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from licensing.exports import COLUMNS, licenses_csv_write
from licensing.models import License, LicenseStatus
from licensing.tests.factories import LicenseFactory, LicenseKeyFactory


def run(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def ago(**delta):
    return timezone.now() - timedelta(**delta)


# --- expire_licenses -------------------------------------------------------------------------


@pytest.mark.django_db
def test_hand_issued_licenses_past_their_end_become_inactive_once(plan):
    ended = LicenseFactory(plan=plan, expires_at=ago(minutes=1))
    grace_over = LicenseFactory(
        plan=plan, status=LicenseStatus.GRACE, expires_at=ago(days=10), grace_ends_at=ago(days=1)
    )
    in_grace = LicenseFactory(
        plan=plan, status=LicenseStatus.GRACE, expires_at=ago(days=3), grace_ends_at=ago(days=-4)
    )
    running = LicenseFactory(plan=plan)
    forever = LicenseFactory(plan=plan, expires_at=None)
    revoked = LicenseFactory(plan=plan, expires_at=ago(days=1), revoked_at=ago(days=2))

    assert "Expired 2 hand-issued license(s)" in run("expire_licenses")
    statuses = dict(License.objects.values_list("pk", "status"))
    assert statuses[ended.pk] == statuses[grace_over.pk] == LicenseStatus.INACTIVE
    assert statuses[in_grace.pk] == LicenseStatus.GRACE
    assert statuses[running.pk] == statuses[forever.pk] == statuses[revoked.pk] != LicenseStatus.INACTIVE

    assert "Expired 0 hand-issued license(s); reconciled 0" in run("expire_licenses")


@pytest.mark.django_db
def test_expiring_keeps_staff_suspension_and_the_validation_answer(client, plan):
    key = LicenseKeyFactory(license=LicenseFactory(plan=plan, expires_at=ago(hours=1)))
    License.objects.update(suspended_at=ago(days=1))
    before = client.post("/api/v1/licenses/validate", {"key": key.plaintext}, content_type="application/json")
    run("expire_licenses")
    after = client.post("/api/v1/licenses/validate", {"key": key.plaintext}, content_type="application/json")
    assert before.json()["code"] == after.json()["code"] == "SUSPENDED"
    assert License.objects.get().suspended_at is not None


@pytest.fixture
def catalogue(stripe_simulator):
    call_command("seed_plans")
    call_command("sync_plans")
    return stripe_simulator


@pytest.mark.django_db(transaction=True)
def test_stripe_licenses_are_reconciled_from_stripe_after_the_margin_never_set_by_hand(client, catalogue):
    from billing.tests.test_lifecycle import buy

    canceled = buy(client, catalogue, UserFactory())
    renewed = buy(client, catalogue, UserFactory())
    recent = buy(client, catalogue, UserFactory())
    catalogue.cancel_now(canceled.stripe_subscription_id, deliver=False)  # its webhook is lost
    License.objects.filter(pk__in=[canceled.pk, renewed.pk]).update(expires_at=ago(hours=30))
    License.objects.filter(pk=recent.pk).update(expires_at=ago(hours=2))  # within the margin

    output = run("expire_licenses")

    assert "reconciled 2 subscription(s) from Stripe, 1 now inactive; 0 failed" in output
    canceled.refresh_from_db(), renewed.refresh_from_db(), recent.refresh_from_db()
    assert canceled.status == LicenseStatus.INACTIVE
    assert renewed.status == LicenseStatus.ACTIVE and renewed.expires_at > timezone.now()  # Stripe's period
    assert recent.status == LicenseStatus.ACTIVE and recent.expires_at < timezone.now()  # not asked yet


@pytest.mark.django_db(transaction=True)
def test_a_subscription_stripe_cannot_answer_for_fails_the_run_but_not_the_others(catalogue, plan):
    LicenseFactory(plan=plan, stripe_subscription_id="sub_unknown000000000000", expires_at=ago(days=3))
    comp = LicenseFactory(plan=plan, expires_at=ago(days=3))
    with pytest.raises(CommandError, match="1 subscription"):
        run("expire_licenses")
    comp.refresh_from_db()
    assert comp.status == LicenseStatus.INACTIVE


# --- export_licenses_csv ---------------------------------------------------------------------


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.django_db
def test_the_export_has_one_row_per_license_with_plan_state_and_keys(plan):
    owner = UserFactory(email="ada@example.com", name="Ada")
    license_ = LicenseFactory(
        owner=owner, plan=plan, stripe_subscription_id="sub_123", billing_interval="year"
    )
    LicenseKeyFactory(license=license_)
    LicenseFactory(plan=plan, expires_at=ago(days=1))

    rows = read_csv(run("export_licenses_csv"))

    assert list(rows[0]) == COLUMNS
    assert len(rows) == 2
    row = next(r for r in rows if r["license_id"] == str(license_.public_id))
    assert (row["owner_email"], row["owner_name"], row["plan"], row["billing_interval"]) == (
        "ada@example.com",
        "Ada",
        "solo",
        "year",
    )
    assert row["amount"] == f"{plan.yearly_amount / 100:.2f}"
    assert (row["status"], row["validation_state"], row["active_keys"]) == ("active", "VALID", "1")
    assert row["stripe_subscription_id"] == "sub_123"
    other = next(r for r in rows if r is not row)
    assert (other["validation_state"], other["amount"], other["stripe_subscription_id"]) == (
        "EXPIRED",
        "",
        "",
    )


@pytest.mark.django_db
def test_names_that_a_spreadsheet_would_run_as_formulas_are_defused(plan):
    LicenseFactory(plan=plan, owner=UserFactory(name='=HYPERLINK("http://evil.example","x")'))
    assert read_csv(run("export_licenses_csv"))[0]["owner_name"].startswith("'=HYPERLINK")


@pytest.mark.django_db
def test_the_export_writes_a_file_and_takes_the_same_queries_for_any_number_of_rows(plan, tmp_path):
    LicenseKeyFactory(license=LicenseFactory(plan=plan))
    with CaptureQueriesContext(connection) as few:
        licenses_csv_write(io.StringIO())
    for _ in range(5):
        LicenseKeyFactory(license=LicenseFactory(plan=plan))
    with CaptureQueriesContext(connection) as many:
        assert licenses_csv_write(io.StringIO()) == 6
    assert len(many) == len(few)

    target = tmp_path / "licenses.csv"
    call_command("export_licenses_csv", "--output", str(target), stderr=io.StringIO())
    assert len(read_csv(target.read_text())) == 6


@pytest.mark.django_db
def test_the_writer_exports_a_given_queryset_for_the_admin(plan):
    chosen = LicenseFactory(plan=plan)
    LicenseFactory(plan=plan)
    out = io.StringIO()
    assert licenses_csv_write(out, License.objects.filter(pk=chosen.pk)) == 1
    assert read_csv(out.getvalue())[0]["license_id"] == str(chosen.public_id)


# --- prune_validation_events -----------------------------------------------------------------


@pytest.mark.django_db
def test_prune_takes_older_than_days_as_the_crontab_writes_it(plan):
    from licensing.models import ValidationEvent

    key = LicenseKeyFactory(license=LicenseFactory(plan=plan))
    ValidationEvent.objects.create(key=key, code="VALID", created_at=ago(days=40))
    ValidationEvent.objects.create(key=key, code="VALID", created_at=ago(days=10))
    assert "Deleted 1 validation event(s) older than 30 days." in run(
        "prune_validation_events", "--older-than", "30"
    )
    assert "Deleted 0" in run("prune_validation_events", "--older-than", "30")

from django.core.management import call_command

from billing.models import DEFAULT_CATALOGUE, Plan


def test_seed_plans_twice_leaves_one_row_per_plan(db):
    call_command("seed_plans")
    call_command("seed_plans")
    assert Plan.objects.count() == len(DEFAULT_CATALOGUE)
    assert sorted(Plan.objects.values_list("slug", flat=True)) == ["enterprise", "solo", "team"]


def test_seed_plans_keeps_staff_edits_unless_reset(db):
    call_command("seed_plans")
    Plan.objects.filter(slug="solo").update(grace_days=3)
    call_command("seed_plans")
    assert Plan.objects.get(slug="solo").grace_days == 3
    call_command("seed_plans", "--reset")
    assert Plan.objects.get(slug="solo").grace_days == 7


def test_seeded_catalogue_matches_design(db):
    call_command("seed_plans")
    team = Plan.objects.get(slug="team")
    assert (team.seats, team.devices_per_seat, team.grace_days) == (5, 3, 7)
    assert team.entitlements == ["core", "collaboration", "priority_support"]
    assert (team.monthly_amount, team.yearly_amount) == (4900, 49000)
    enterprise = Plan.objects.get(slug="enterprise")
    assert enterprise.grace_days == 14 and "sso" in enterprise.entitlements

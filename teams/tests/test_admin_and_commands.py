from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.tests.factories import UserFactory
from licensing.services import license_issue
from teams.models import Role, Team
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_the_admin_lists_teams_and_invitations(admin_client, team):
    MembershipFactory(team=team)
    invitation = InvitationFactory(team=team)
    response = admin_client.get(reverse("admin:teams_team_changelist"))
    assert response.status_code == 200
    assert team.license.owner.email in response.content.decode()
    response = admin_client.get(reverse("admin:teams_team_change", args=[team.pk]))
    assert response.status_code == 200
    assert invitation.email in response.content.decode()
    response = admin_client.get(reverse("admin:teams_invitation_changelist"))
    assert response.status_code == 200
    assert invitation.token not in response.content.decode()


def test_the_team_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    TeamFactory()
    admin_client.get(reverse("admin:teams_team_changelist"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse("admin:teams_team_changelist"))
    TeamFactory.create_batch(4)
    with django_assert_max_num_queries(len(few)):
        admin_client.get(reverse("admin:teams_team_changelist"))


def test_create_teams_backfills_multi_seat_licenses_once(team_plan, plan):
    multi = license_issue(owner=UserFactory(), plan=team_plan).key.license
    comp = license_issue(owner=UserFactory(), plan=plan, seats=3).key.license
    license_issue(owner=UserFactory(), plan=plan)
    out = StringIO()
    call_command("create_teams", stdout=out)
    assert "2 team(s) created." in out.getvalue()
    assert set(Team.objects.values_list("license_id", flat=True)) == {multi.pk, comp.pk}
    assert Team.objects.get(license=comp).memberships.get().role == Role.OWNER
    out = StringIO()
    call_command("create_teams", stdout=out)
    assert "0 team(s) created." in out.getvalue()

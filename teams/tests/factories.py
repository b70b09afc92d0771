import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.tests.factories import PlanFactory
from licensing.tests.factories import LicenseFactory, LicenseKeyFactory
from teams.models import Invitation, Membership, Role, Team, invitation_token_digest


class TeamPlanFactory(PlanFactory):
    slug = "team"
    name = "Team"
    access_level = "team"
    seats = 5
    devices_per_seat = 3
    entitlements = factory.LazyFunction(lambda: ["core", "collaboration", "priority_support"])
    monthly_amount = 4900
    yearly_amount = 49000


class TeamFactory(factory.django.DjangoModelFactory):
    """A team on a multi-seat license, with its owner membership holding the owner's key."""

    class Meta:
        model = Team
        skip_postgeneration_save = True

    license = factory.SubFactory(LicenseFactory, plan=factory.SubFactory(TeamPlanFactory))
    name = factory.LazyAttribute(lambda o: f"{o.license.owner.email}'s team")

    @factory.post_generation
    def owner_membership(obj, create, extracted, **kwargs):
        if create:
            key = LicenseKeyFactory(license=obj.license, holder=obj.license.owner)
            Membership.objects.create(team=obj, user=obj.license.owner, role=Role.OWNER, key=key)


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member with their own active key on the team's license."""

    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER
    key = factory.LazyAttribute(lambda o: LicenseKeyFactory(license=o.team.license, holder=o.user))


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; its plaintext token is on the instance as `token`."""

    class Meta:
        model = Invitation

    team = factory.SubFactory(TeamFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER
    token = factory.Sequence(lambda n: f"test-invitation-token-{n:06d}")
    token_digest = factory.LazyAttribute(lambda o: invitation_token_digest(o.token))
    invited_by = factory.LazyAttribute(lambda o: o.team.license.owner)
    created_at = factory.LazyFunction(timezone.now)
    sent_at = factory.LazyAttribute(lambda o: o.created_at)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timezone.timedelta(days=7))

    @classmethod
    def _create(cls, model_class, *args, token, **kwargs):
        invitation = super()._create(model_class, *args, **kwargs)
        invitation.token = token
        return invitation

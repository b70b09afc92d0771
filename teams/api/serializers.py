"""Input and output shapes of the team API. Serializers only shape data; services act."""

from rest_framework import serializers

from teams.models import Role
from teams.validators import validate_invitation_email

INVITABLE_ROLES = [(Role.MEMBER.value, Role.MEMBER.label), (Role.ADMIN.value, Role.ADMIN.label)]


class TeamUserBrief(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField()
    name = serializers.CharField()


class TeamKeyBrief(serializers.Serializer):
    prefix = serializers.CharField(source="masked", help_text="Public prefix; never the key itself.")
    status = serializers.CharField()


class TeamMemberOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    user = TeamUserBrief()
    role = serializers.ChoiceField(choices=Role.choices)
    key = TeamKeyBrief(allow_null=True)
    devices = serializers.IntegerField(
        source="devices_used", help_text="Devices counted on the member's key."
    )
    joined_at = serializers.DateTimeField(source="created_at")


class TeamInvitationOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.SerializerMethodField()
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    def get_status(self, obj) -> str:
        return obj.status()


class TeamSeatsOutput(serializers.Serializer):
    total = serializers.IntegerField()
    used = serializers.IntegerField(help_text="Active keys plus pending invitations.")
    keys = serializers.IntegerField(help_text="Active keys on the license.")
    pending = serializers.IntegerField(help_text="Pending, unexpired invitations.")
    free = serializers.IntegerField()


class TeamLicenseBrief(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    plan = serializers.CharField(source="plan.slug")
    plan_name = serializers.CharField(source="plan.name")
    max_devices_per_key = serializers.IntegerField()


class TeamOutput(serializers.Serializer):
    id = serializers.UUIDField(source="team.public_id")
    name = serializers.CharField(source="team.name")
    role = serializers.ChoiceField(
        source="membership.role", choices=Role.choices, help_text="Your role in this team."
    )
    license = TeamLicenseBrief(source="team.license")
    seats = TeamSeatsOutput()
    invite_code_hint = serializers.SerializerMethodField(
        help_text="The end of the current invite code (managers only); the code itself is shown once."
    )
    members = TeamMemberOutput(
        many=True, help_text="Everyone for owners and admins; only yourself for members."
    )
    invitations = TeamInvitationOutput(many=True, help_text="Open invitations (managers only).")

    def get_invite_code_hint(self, obj) -> str | None:
        return obj.team.code_display or None if obj.can_manage else None


class TeamInviteInput(serializers.Serializer):
    email = serializers.EmailField(validators=[validate_invitation_email])
    role = serializers.ChoiceField(choices=INVITABLE_ROLES, default=Role.MEMBER.value)
    team = serializers.UUIDField(required=False, help_text="Which of your teams; default: your first.")


class TeamChoiceInput(serializers.Serializer):
    team = serializers.UUIDField(required=False, help_text="Which of your teams; default: your first.")


class TeamRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=INVITABLE_ROLES)


class TeamJoinByCodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=40)


class TeamAcceptInput(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="The token from the invitation link.")


class TeamCodeOutput(serializers.Serializer):
    code = serializers.CharField(help_text="The new invite code; shown only in this response.")
    hint = serializers.CharField(source="team.code_display")


class TeamMembershipOutput(serializers.Serializer):
    team = serializers.UUIDField(source="team.public_id")
    team_name = serializers.CharField(source="team.name")
    id = serializers.UUIDField(source="public_id")
    role = serializers.ChoiceField(choices=Role.choices)
    key = TeamKeyBrief(allow_null=True)


class TeamRenameInput(serializers.Serializer):
    name = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="The new name: surrounding spaces are removed; 1 to 100 characters.",
    )
    team = serializers.UUIDField(required=False, help_text="Which of your teams; default: your first.")

    def validate_name(self, value: str) -> str:
        from django.core.exceptions import ValidationError

        from teams.services import clean_team_name

        try:
            return clean_team_name(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from None

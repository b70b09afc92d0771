from django import forms

from teams.models import Role
from teams.validators import validate_invitation_email

INVITABLE_ROLES = [(Role.MEMBER.value, Role.MEMBER.label), (Role.ADMIN.value, Role.ADMIN.label)]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"placeholder": "colleague@example.com", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(choices=INVITABLE_ROLES, initial=Role.MEMBER, required=False)

    def __init__(self, *args, can_invite_admins: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_invite_admins:
            del self.fields["role"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        validate_invitation_email(email)
        return email

    def clean_role(self) -> str:
        return self.cleaned_data.get("role") or Role.MEMBER


class JoinByCodeForm(forms.Form):
    code = forms.CharField(
        label="Invite code",
        max_length=40,
        widget=forms.TextInput(
            attrs={"placeholder": "TEAM-XXXX-XXXX-XXXX-XXXX", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="Your team's owner or an admin can give you the current code.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=INVITABLE_ROLES)


class RenameTeamForm(forms.Form):
    name = forms.CharField(
        label="Name",
        required=False,  # clean_team_name says what is wrong, in the team's words
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 100}),
        help_text="Shown to your members on the team page and in invitation emails.",
    )

    def clean_name(self) -> str:
        from teams.services import clean_team_name

        return clean_team_name(self.cleaned_data.get("name"))

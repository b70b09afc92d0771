"""The sign-up form (ACCOUNT_FORMS["signup"]): allauth's, opened with the invited address when the
visitor came from a team invitation link in this session (teams.views.invited_email)."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context

from teams.views import invited_email


class SignupForm(AllauthSignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = context.request
        if self.is_bound or request is None or self.initial.get("email"):
            return
        email = invited_email(request)
        if email:
            self.initial["email"] = email
            self.invited = True

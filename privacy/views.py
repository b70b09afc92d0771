"""A person's own data: export it as JSON, delete the account (issue 12 item 7)."""

from allauth.core import ratelimit
from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from privacy.exports import export_json
from privacy.services import DeletionRefused, deletion_check
from privacy.services import account_delete as delete_account

# --- Export my data (issue 12 item 7) -------------------------------------------------------


@login_required
@require_POST
def account_export(request):
    """Everything we hold about the account, as a JSON download (privacy/exports.py)."""
    response = HttpResponse(export_json(request.user), content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="qualitybytes-account-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


# --- Delete my account ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    """The confirmation page: what deletion does, or why it is refused now; then the password."""

    class ConfirmForm(forms.Form):
        password = forms.CharField(
            label="Your password",
            widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        )

        def clean_password(self):
            password = self.cleaned_data["password"]
            if not request.user.check_password(password):
                raise forms.ValidationError("This is not your password.")
            return password

    check = deletion_check(request.user)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and not check.refusal:
        if not ratelimit.consume(request, action="delete_account", user=request.user):
            return ratelimit.respond_429(request)
        if form.is_valid():
            try:
                delete_account(user=request.user)
            except DeletionRefused as exc:
                form.add_error(None, str(exc))
            else:
                logout(request)
                request.session["account_deleted"] = True
                return redirect("account_deleted")
    response = render(request, "accounts/delete.html", {"check": check, "form": form})
    response.status_code = 409 if request.method == "POST" and check.refusal else 200
    return response


def account_deleted(request):
    """The last page: shown once, right after the deletion."""
    if not request.session.pop("account_deleted", False):
        return redirect("home")
    return render(request, "accounts/deleted.html")

import logging

from allauth.core import ratelimit
from allauth.mfa.recovery_codes import views as allauth_recovery_views
from allauth.mfa.totp import views as allauth_totp_views
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import emails
from accounts.forms import ApiTokenForm, EmailKeysForm, NameForm
from accounts.models import ApiToken
from accounts.selectors import account_for_address, account_security, api_tokens_of
from qualitybytes import outbox

logger = logging.getLogger(__name__)

MAX_TOKENS = 20


@login_required
@never_cache  # a new token is shown here once
def api_tokens(request):
    tokens = api_tokens_of(request.user)
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        if tokens.count() >= MAX_TOKENS:
            form.add_error("name", f"You have {MAX_TOKENS} tokens already: revoke one first.")
        else:
            _, new_token = ApiToken.issue(user=request.user, name=form.cleaned_data["name"])
            form = ApiTokenForm()
    return render(
        request, "accounts/api_tokens.html", {"tokens": tokens, "form": form, "new_token": new_token}
    )


@login_required
@require_POST
def api_token_revoke(request, public_id):
    token = get_object_or_404(api_tokens_of(request.user), public_id=public_id)
    token.revoke()
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("api_tokens")


@require_http_methods(["GET", "POST"])
def email_my_keys(request):
    """Send the keys of the account with the given address to that address.

    The page answers the same whether or not an account exists, and as fast: the email is only
    queued here and delivered once the answer has been sent. Both limits (per IP, per address)
    count every request, so a 429 says nothing about the address either.
    """
    form = EmailKeysForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["email"]
        if not ratelimit.consume(request, action="email_my_keys", key=address):
            return ratelimit.respond_429(request)
        user = account_for_address(address)
        queued = emails.queue_my_keys(user=user, to=address) if user is not None else None
        response = render(request, "accounts/email_my_keys.html", {"sent_to": address})
        if queued is not None and settings.EMAIL_OUTBOX_SEND_ON_COMMIT:
            response._resource_closers.append(lambda: _deliver_quietly(queued.pk))
        return response
    return render(request, "accounts/email_my_keys.html", {"form": form})


def _deliver_quietly(pk: int) -> None:
    # Runs after the response has gone out: a failure stays in the outbox for send_queued_emails.
    try:
        outbox.deliver(pk)
    except Exception:
        logger.exception("Email %s could not be tried after the response; it stays queued.", pk)


# The account page (issue 12 item 7): name, email, password and two-factor authentication. Email,
# password and 2FA are allauth's own pages (templates/account/, templates/mfa/); this one
# summarises them and edits the name.


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    user = request.user
    form = NameForm(request.POST or None, instance=user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your name is saved.")
            return redirect("account")
        # The page shows the stored name elsewhere; a refused one must not leak into it.
        user.refresh_from_db(fields=["name"])
    return render(request, "accounts/account.html", {"form": form, **account_security(user)})


mfa_activate_totp = never_cache(allauth_totp_views.activate_totp)
mfa_view_recovery_codes = never_cache(allauth_recovery_views.view_recovery_codes)


# --- Sessions: log out everywhere ------------------------------------------------------------


@login_required
@require_POST
def sessions_end_all(request):
    """End every session of the account (allauth.usersessions), this one included."""
    from allauth.usersessions.internal.flows.sessions import end_sessions
    from allauth.usersessions.models import UserSession

    end_sessions(request, list(UserSession.objects.filter(user_id=request.user.pk)))
    if request.user.is_authenticated:  # a session allauth did not record (e.g. an admin login)
        from django.contrib.auth import logout

        logout(request)
    messages.info(request, "You are logged out everywhere. Log in again to continue.")
    return redirect("account_login")

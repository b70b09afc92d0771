from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import ApiTokenForm
from accounts.models import ApiToken
from accounts.selectors import api_tokens_of

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

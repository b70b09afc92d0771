"""Team pages. Objects are fetched only through the user's memberships: another account's
team, member or invitation is a 404; a member trying a manager's action gets a 403."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from licensing.models import License
from teams import services
from teams.forms import InviteForm, JoinByCodeForm, RenameTeamForm, RoleForm
from teams.models import Invitation, Membership, invitation_token_digest
from teams.selectors import invitation_for_digest, membership_for, team_view

# An invitation link opened before logging in is remembered by its token's digest, never the
# token itself: the session store holds nothing that would open the link.
SESSION_INVITATION = "teams_invitation_digest"


def _forbidden(request, exc: services.TeamError):
    return render(request, "teams/forbidden.html", {"detail": str(exc)}, status=403)


def _on_team(request, team, service, success: str, *, done=None):
    """A POST from the team page: run the service; a member trying a manager's action gets a 403,
    a refusal shows as an error, else `success`; then back to the team page (or `done`)."""
    try:
        service()
    except services.TeamPermissionDenied as exc:
        return _forbidden(request, exc)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
        if done:
            return redirect(done)
    return redirect("teams:team", team_id=team.public_id)


def _team_page(request, membership: Membership, *, invite_form=None, rename_form=None):
    view = team_view(membership, user=request.user)
    if invite_form is None and view.can_manage:
        invite_form = InviteForm(can_invite_admins=view.membership.is_owner)
    if rename_form is None and view.can_manage:
        rename_form = RenameTeamForm(initial={"name": view.team.name})
    return render(
        request,
        "teams/team.html",
        {
            "view": view,
            "team": view.team,
            "me": view.membership,
            "invite_form": invite_form,
            "rename_form": rename_form,
            "invitation_days": settings.TEAM_INVITATION_DAYS,
        },
    )


@login_required
def team_detail(request, team_id=None):
    membership = membership_for(request.user, team_id)
    if membership is None:
        return _no_team(request)
    return _team_page(request, membership)


def _no_team(request):
    license_ = License.objects.filter(owner=request.user).select_related("plan").first()
    pending = request.session.get(SESSION_INVITATION)
    return render(
        request,
        "teams/no_team.html",
        {"license": license_, "pending_join_url": reverse("teams:pending_invitation") if pending else ""},
    )


def _my_team(request, team_id) -> Membership:
    membership = membership_for(request.user, team_id)
    if membership is None:
        raise Http404("No such team.")
    return membership


@login_required
@require_POST
def invite(request, team_id):
    membership = _my_team(request, team_id)
    form = InviteForm(request.POST, can_invite_admins=membership.is_owner)
    if form.is_valid():
        try:
            sent = services.team_invite_member(
                team=membership.team,
                email=form.cleaned_data["email"],
                role=form.cleaned_data.get("role") or "member",
                by=request.user,
            )
        except services.TeamPermissionDenied as exc:
            return _forbidden(request, exc)
        except services.TeamError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invitation sent to {sent.invitation.email}.")
            return redirect("teams:team", team_id=membership.team.public_id)
    return _team_page(request, membership, invite_form=form)


@login_required
@require_POST
def rename(request, team_id):
    """The owner or an admin renames the team; a bad name is shown beside the field, unchanged."""
    membership = _my_team(request, team_id)
    if not membership.can_manage:
        refusal = services.TeamPermissionDenied("Only the team's owner and admins can do this.")
        return _forbidden(request, refusal)
    form = RenameTeamForm(request.POST)
    if form.is_valid():
        try:
            team = services.team_rename(team=membership.team, name=form.cleaned_data["name"], by=request.user)
        except services.TeamPermissionDenied as exc:
            return _forbidden(request, exc)
        except services.TeamError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"The team is now called {team.name}.")
            return redirect("teams:team", team_id=team.public_id)
    return _team_page(request, membership, rename_form=form)


@login_required
def code_regenerate(request, team_id):
    """POST makes a new code and shows it once; the page is not stored anywhere."""
    membership = _my_team(request, team_id)
    if request.method != "POST":
        return redirect("teams:team", team_id=membership.team.public_id)
    try:
        new = services.team_code_regenerate(team=membership.team, by=request.user)
    except services.TeamPermissionDenied as exc:
        return _forbidden(request, exc)
    response = render(request, "teams/code_created.html", {"team": new.team, "code": new.code})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def code_disable(request, team_id):
    membership = _my_team(request, team_id)
    return _on_team(
        request,
        membership.team,
        lambda: services.team_code_disable(team=membership.team, by=request.user),
        "The invite code no longer works.",
    )


@login_required
@require_POST
def leave(request, team_id):
    membership = _my_team(request, team_id)
    return _on_team(
        request,
        membership.team,
        lambda: services.member_leave(team=membership.team, user=request.user),
        f"You left {membership.team.name}. Your key for it no longer works.",
        done="teams:detail",
    )


def _member(request, public_id) -> Membership:
    return get_object_or_404(
        Membership.objects.visible_to(request.user).select_related("team", "user"), public_id=public_id
    )


@login_required
@require_POST
def member_remove(request, public_id):
    target = _member(request, public_id)
    return _on_team(
        request,
        target.team,
        lambda: services.member_remove(membership=target, by=request.user),
        f"{target.user.email} was removed; their key no longer works.",
    )


@login_required
@require_POST
def member_role(request, public_id):
    target = _member(request, public_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin or member.")
        return redirect("teams:team", team_id=target.team.public_id)
    role = form.cleaned_data["role"]
    return _on_team(
        request,
        target.team,
        lambda: services.member_set_role(membership=target, role=role, by=request.user),
        f"{target.user.email} is now {role}.",
    )


def _invitation(request, public_id) -> Invitation:
    return get_object_or_404(
        Invitation.objects.visible_to(request.user).select_related("team"), public_id=public_id
    )


@login_required
@require_POST
def invitation_resend(request, public_id):
    invitation = _invitation(request, public_id)
    return _on_team(
        request,
        invitation.team,
        lambda: services.invitation_resend(invitation=invitation, by=request.user),
        f"A new invitation link was sent to {invitation.email}.",
    )


@login_required
@require_POST
def invitation_revoke(request, public_id):
    invitation = _invitation(request, public_id)
    return _on_team(
        request,
        invitation.team,
        lambda: services.invitation_revoke(invitation=invitation, by=request.user),
        f"The invitation to {invitation.email} was revoked.",
    )


def join(request, token: str):
    """The invitation link. Visitors are asked to sign up or log in and come back here."""
    return _invitation_page(request, digest=invitation_token_digest(token))


def pending_invitation(request):
    """The invitation link opened earlier in this session, for a visitor who lost `next` on the way."""
    digest = request.session.get(SESSION_INVITATION)
    if not digest:
        return redirect("teams:detail")
    return _invitation_page(request, digest=digest)


def _invitation_page(request, *, digest: str):
    invitation = invitation_for_digest(digest)
    if not request.user.is_authenticated:
        problem = services.invitation_problem(invitation)
        if not problem:
            # Kept so /team/ can point back here if the visitor loses `next` on the way.
            request.session[SESSION_INVITATION] = digest
        return _join_page(request, invitation, problem)
    error = ""
    if request.method == "POST":
        try:
            membership = services.invitation_accept_by_digest(digest=digest, user=request.user)
        except services.TeamError as exc:
            error = str(exc)
        else:
            request.session.pop(SESSION_INVITATION, None)
            messages.success(request, f"Welcome to {membership.team.name}! Your own license key is below.")
            return redirect("teams:team", team_id=membership.team.public_id)
    problem = error or services.invitation_problem(invitation, user=request.user)
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        request.session.pop(SESSION_INVITATION, None)
    return _join_page(request, invitation, problem)


def _join_page(request, invitation: Invitation | None, problem: str):
    return render(
        request,
        "teams/join.html",
        {"invitation": invitation, "problem": problem, "next": request.path},
        status=404 if invitation is None else 200,
    )


@login_required
def join_by_code(request):
    form = JoinByCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.team_join_by_code(code=form.cleaned_data["code"], user=request.user)
        except services.TeamError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, f"Welcome to {membership.team.name}! Your own license key is below.")
            return redirect("teams:team", team_id=membership.team.public_id)
    return render(request, "teams/join_code.html", {"form": form})


def invited_email(request) -> str:
    """The address of the usable invitation this visitor opened before signing up, or "".

    The sign-up form starts with it (accounts/signup.py): the session holds only the invitation's
    digest, so neither the token nor the address travels in a URL.
    """
    digest = request.session.get(SESSION_INVITATION)
    if not digest:
        return ""
    invitation = invitation_for_digest(digest)
    if invitation is None or services.invitation_problem(invitation):
        return ""
    return invitation.email

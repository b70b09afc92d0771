"""The team API: one view per operation, session (with CSRF) or the project's default auth.

Objects are reached only through the requesting user's memberships, so another account's
team, member or invitation is a 404; a member asking for a manager's action gets a 403.
"""

from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from qualitybytes.api.errors import ErrorOutput
from qualitybytes.api.views import APIView, answer_with
from teams import services
from teams.api import serializers
from teams.models import Invitation, Membership
from teams.selectors import membership_for, team_view

# A refusal from the team services answers in the one error shape with its `code`.
answer_with(services.TeamError, status.HTTP_400_BAD_REQUEST)
answer_with(services.TeamPermissionDenied, status.HTTP_403_FORBIDDEN)
answer_with(services.SeatLimitReached, status.HTTP_409_CONFLICT)

ERRORS = {
    400: OpenApiResponse(
        ErrorOutput,
        description=(
            "Invalid input (`INVALID_REQUEST` with field `errors`), or the team's state does not allow "
            "it (a code such as `ALREADY_INVITED`)."
        ),
    ),
    401: OpenApiResponse(ErrorOutput, description="Not logged in, or an invalid API token."),
    403: OpenApiResponse(ErrorOutput, description="Not the team's owner or admin (`PERMISSION_DENIED`)."),
    404: OpenApiResponse(ErrorOutput, description="Not one of your teams, members or invitations."),
    413: OpenApiResponse(ErrorOutput, description="Body too large (`PAYLOAD_TOO_LARGE`)."),
}
SEAT_CONFLICT = {
    409: OpenApiResponse(ErrorOutput, description="`SEAT_LIMIT_REACHED`: no seat is free."),
}
TEAM_PARAMETER = OpenApiParameter(
    "team", type=str, required=False, description="Public id of one of your teams; default: your first team."
)


def team_schema(operation_id: str, summary: str, *, request, responses: dict, seats: bool = False, **kwargs):
    """The schema of one team operation: its own answers, the shared errors, the team tag."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        request=request,
        responses={**responses, **ERRORS, **(SEAT_CONFLICT if seats else {})},
        tags=["team"],
        **kwargs,
    )


class TeamAPIView(APIView):
    def membership(self, team_id) -> Membership:
        membership = membership_for(self.request.user, team_id)
        if membership is None:
            raise NotFound("You are not in a team.")
        return membership

    def parse(self, serializer_class, data=None) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class TeamDetailView(TeamAPIView):
    @team_schema(
        "team_retrieve",
        "Your team: seats, members and open invitations",
        request=None,
        responses={200: serializers.TeamOutput},
        parameters=[TEAM_PARAMETER],
    )
    def get(self, request):
        data = self.parse(serializers.TeamChoiceInput, data=request.query_params)
        view = team_view(self.membership(data.get("team")), user=request.user)
        return Response(serializers.TeamOutput(view).data)

    @team_schema(
        "team_rename",
        "Rename your team (owner, admins)",
        description="Surrounding spaces are removed; an empty name or one over 100 characters is refused.",
        request=serializers.TeamRenameInput,
        responses={200: serializers.TeamOutput},
    )
    def patch(self, request):
        data = self.parse(serializers.TeamRenameInput)
        membership = self.membership(data.get("team"))
        services.team_rename(team=membership.team, name=data["name"], by=request.user)
        membership.team.refresh_from_db(fields=["name"])
        return Response(serializers.TeamOutput(team_view(membership, user=request.user)).data)


class InvitationCreateView(TeamAPIView):
    @team_schema(
        "team_invitations_create",
        "Invite someone by email",
        description=(
            "Emails a single-use link; the pending invitation holds a seat until it is accepted, "
            "revoked or expires."
        ),
        request=serializers.TeamInviteInput,
        responses={201: serializers.TeamInvitationOutput},
        seats=True,
    )
    def post(self, request):
        data = self.parse(serializers.TeamInviteInput)
        membership = self.membership(data.get("team"))
        sent = services.team_invite_member(
            team=membership.team, email=data["email"], role=data["role"], by=request.user
        )
        return Response(
            serializers.TeamInvitationOutput(sent.invitation).data, status=status.HTTP_201_CREATED
        )


def _invitation(request, public_id) -> Invitation:
    return get_object_or_404(
        Invitation.objects.visible_to(request.user).select_related("team"), public_id=public_id
    )


class InvitationRevokeView(TeamAPIView):
    @team_schema("team_invitations_revoke", "Revoke an invitation", request=None, responses={204: None})
    def delete(self, request, public_id):
        services.invitation_revoke(invitation=_invitation(request, public_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendView(TeamAPIView):
    @team_schema(
        "team_invitations_resend",
        "Resend an invitation with a new link and expiry",
        request=None,
        responses={200: serializers.TeamInvitationOutput},
        seats=True,
    )
    def post(self, request, public_id):
        sent = services.invitation_resend(invitation=_invitation(request, public_id), by=request.user)
        return Response(serializers.TeamInvitationOutput(sent.invitation).data)


class JoiningView(TeamAPIView):
    """Accepting an invitation and joining by code: one input, one service, a new membership."""

    input_serializer: type[serializers.serializers.Serializer]

    def join(self, data: dict, user) -> Membership:
        raise NotImplementedError

    def post(self, request):
        membership = self.join(self.parse(self.input_serializer), request.user)
        return Response(serializers.TeamMembershipOutput(membership).data, status=status.HTTP_201_CREATED)


JOINED = {201: serializers.TeamMembershipOutput}


@extend_schema_view(
    post=team_schema(
        "team_invitations_accept",
        "Accept an invitation (the token from its link)",
        description="The invitation's email must be yours. You get your own key on the team's license.",
        request=serializers.TeamAcceptInput,
        responses=JOINED,
        seats=True,
    )
)
class InvitationAcceptView(JoiningView):
    input_serializer = serializers.TeamAcceptInput

    def join(self, data, user):
        return services.invitation_accept(token=data["token"], user=user)


@extend_schema_view(
    post=team_schema(
        "team_join",
        "Join a team with its invite code",
        request=serializers.TeamJoinByCodeInput,
        responses=JOINED,
        seats=True,
    )
)
class JoinByCodeView(JoiningView):
    input_serializer = serializers.TeamJoinByCodeInput

    def join(self, data, user):
        return services.team_join_by_code(code=data["code"], user=user)


class CodeRegenerateView(TeamAPIView):
    @team_schema(
        "team_code_regenerate",
        "Make a new invite code (the old one stops working)",
        request=serializers.TeamChoiceInput,
        responses={201: serializers.TeamCodeOutput},
    )
    def post(self, request):
        data = self.parse(serializers.TeamChoiceInput)
        new = services.team_code_regenerate(team=self.membership(data.get("team")).team, by=request.user)
        response = Response(serializers.TeamCodeOutput(new).data, status=status.HTTP_201_CREATED)
        add_never_cache_headers(response)  # the code is shown only here
        return response


def _member(request, public_id) -> Membership:
    return get_object_or_404(
        Membership.objects.visible_to(request.user).select_related("team", "user"), public_id=public_id
    )


class MemberRemoveView(TeamAPIView):
    @team_schema(
        "team_members_remove",
        "Remove a member",
        description=(
            "Their key is revoked at once (validation answers REVOKED) and their devices are released. "
            "The owner cannot be removed; admins can remove members but not admins."
        ),
        request=None,
        responses={204: None},
    )
    def delete(self, request, public_id):
        services.member_remove(membership=_member(request, public_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberRoleView(TeamAPIView):
    @team_schema(
        "team_members_set_role",
        "Make a member an admin, or an admin a member (owner only)",
        request=serializers.TeamRoleInput,
        responses={200: serializers.TeamMembershipOutput},
    )
    def post(self, request, public_id):
        data = self.parse(serializers.TeamRoleInput)
        membership = services.member_set_role(
            membership=_member(request, public_id), role=data["role"], by=request.user
        )
        return Response(serializers.TeamMembershipOutput(membership).data)


class LeaveView(TeamAPIView):
    @team_schema(
        "team_leave",
        "Leave a team (your key stops working; the owner cannot leave)",
        request=serializers.TeamChoiceInput,
        responses={204: None},
    )
    def post(self, request):
        data = self.parse(serializers.TeamChoiceInput)
        services.member_leave(team=self.membership(data.get("team")).team, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

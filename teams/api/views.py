"""The team API: one view per operation, session (with CSRF) or the project's default auth.

Objects are reached only through the requesting user's memberships, so another account's
team, member or invitation is a 404; a member asking for a manager's action gets a 403.
"""

from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from teams import services
from teams.api import serializers
from teams.models import Invitation, Membership
from teams.selectors import membership_for, team_view

TAGS = ["team"]

ERRORS = {
    # A 400 is a team error with a code, or DRF's field errors (checked by `make schemathesis`).
    400: OpenApiResponse(
        {
            "oneOf": [
                {"$ref": "#/components/schemas/TeamErrorOutput"},
                {
                    "type": "object",
                    "description": 'Field errors, e.g. {"email": ["Enter a valid email address."]}.',
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            ]
        },
        description="Invalid input (field errors), or the team's state does not allow it (a code).",
    ),
    403: OpenApiResponse(
        serializers.TeamErrorOutput, description="Not logged in, or not the team's owner or admin."
    ),
    404: OpenApiResponse(
        serializers.TeamErrorOutput, description="Not one of your teams, members or invitations."
    ),
}
SEAT_CONFLICT = {
    409: OpenApiResponse(serializers.TeamErrorOutput, description="`SEAT_LIMIT_REACHED`: no seat is free."),
}
TEAM_PARAMETER = OpenApiParameter(
    "team", type=str, required=False, description="Public id of one of your teams; default: your first team."
)


class TeamAPIView(APIView):
    def handle_exception(self, exc):
        if isinstance(exc, services.TeamError):
            code = status.HTTP_400_BAD_REQUEST
            if isinstance(exc, services.TeamPermissionDenied):
                code = status.HTTP_403_FORBIDDEN
            elif isinstance(exc, services.SeatLimitReached):
                code = status.HTTP_409_CONFLICT
            return Response({"code": exc.code, "detail": str(exc)}, status=code)
        response = super().handle_exception(exc)
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        if detail is not None and "code" not in response.data:
            # 403 / 404 from DRF carry a code like the team errors do, as the schema says.
            response.data["code"] = str(getattr(detail, "code", "error")).upper()
        return response

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
    @extend_schema(
        operation_id="team_retrieve",
        summary="Your team: seats, members and open invitations",
        parameters=[TEAM_PARAMETER],
        responses={200: serializers.TeamOutput, **ERRORS},
        tags=TAGS,
    )
    def get(self, request):
        data = self.parse(serializers.TeamChoiceInput, data=request.query_params)
        view = team_view(self.membership(data.get("team")), user=request.user)
        return Response(serializers.TeamOutput(view).data)


class InvitationCreateView(TeamAPIView):
    @extend_schema(
        operation_id="team_invitations_create",
        summary="Invite someone by email",
        description=(
            "Emails a single-use link; the pending invitation holds a seat until it is accepted, "
            "revoked or expires."
        ),
        request=serializers.TeamInviteInput,
        responses={201: serializers.TeamInvitationOutput, **ERRORS, **SEAT_CONFLICT},
        tags=TAGS,
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
    @extend_schema(
        operation_id="team_invitations_revoke",
        summary="Revoke an invitation",
        request=None,
        responses={204: None, **ERRORS},
        tags=TAGS,
    )
    def delete(self, request, public_id):
        services.invitation_revoke(invitation=_invitation(request, public_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendView(TeamAPIView):
    @extend_schema(
        operation_id="team_invitations_resend",
        summary="Resend an invitation with a new link and expiry",
        request=None,
        responses={200: serializers.TeamInvitationOutput, **ERRORS, **SEAT_CONFLICT},
        tags=TAGS,
    )
    def post(self, request, public_id):
        sent = services.invitation_resend(invitation=_invitation(request, public_id), by=request.user)
        return Response(serializers.TeamInvitationOutput(sent.invitation).data)


class InvitationAcceptView(TeamAPIView):
    @extend_schema(
        operation_id="team_invitations_accept",
        summary="Accept an invitation (the token from its link)",
        description="The invitation's email must be yours. You get your own key on the team's license.",
        request=serializers.TeamAcceptInput,
        responses={201: serializers.TeamMembershipOutput, **ERRORS, **SEAT_CONFLICT},
        tags=TAGS,
    )
    def post(self, request):
        data = self.parse(serializers.TeamAcceptInput)
        membership = services.invitation_accept(token=data["token"], user=request.user)
        return Response(serializers.TeamMembershipOutput(membership).data, status=status.HTTP_201_CREATED)


class JoinByCodeView(TeamAPIView):
    @extend_schema(
        operation_id="team_join",
        summary="Join a team with its invite code",
        request=serializers.TeamJoinByCodeInput,
        responses={201: serializers.TeamMembershipOutput, **ERRORS, **SEAT_CONFLICT},
        tags=TAGS,
    )
    def post(self, request):
        data = self.parse(serializers.TeamJoinByCodeInput)
        membership = services.team_join_by_code(code=data["code"], user=request.user)
        return Response(serializers.TeamMembershipOutput(membership).data, status=status.HTTP_201_CREATED)


class CodeRegenerateView(TeamAPIView):
    @extend_schema(
        operation_id="team_code_regenerate",
        summary="Make a new invite code (the old one stops working)",
        request=serializers.TeamChoiceInput,
        responses={201: serializers.TeamCodeOutput, **ERRORS},
        tags=TAGS,
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
    @extend_schema(
        operation_id="team_members_remove",
        summary="Remove a member",
        description=(
            "Their key is revoked at once (validation answers REVOKED) and their devices are released. "
            "The owner cannot be removed; admins can remove members but not admins."
        ),
        request=None,
        responses={204: None, **ERRORS},
        tags=TAGS,
    )
    def delete(self, request, public_id):
        services.member_remove(membership=_member(request, public_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberRoleView(TeamAPIView):
    @extend_schema(
        operation_id="team_members_set_role",
        summary="Make a member an admin, or an admin a member (owner only)",
        request=serializers.TeamRoleInput,
        responses={200: serializers.TeamMembershipOutput, **ERRORS},
        tags=TAGS,
    )
    def post(self, request, public_id):
        data = self.parse(serializers.TeamRoleInput)
        membership = services.member_set_role(
            membership=_member(request, public_id), role=data["role"], by=request.user
        )
        return Response(serializers.TeamMembershipOutput(membership).data)


class LeaveView(TeamAPIView):
    @extend_schema(
        operation_id="team_leave",
        summary="Leave a team (your key stops working; the owner cannot leave)",
        request=serializers.TeamChoiceInput,
        responses={204: None, **ERRORS},
        tags=TAGS,
    )
    def post(self, request):
        data = self.parse(serializers.TeamChoiceInput)
        services.member_leave(team=self.membership(data.get("team")).team, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

from django.urls import path

from teams.api import views

app_name = "teams_api"

urlpatterns = [
    path("api/v1/team", views.TeamDetailView.as_view(), name="detail"),
    path("api/v1/team/invitations", views.InvitationCreateView.as_view(), name="invitation_create"),
    path("api/v1/team/invitations/accept", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path(
        "api/v1/team/invitations/<uuid:public_id>",
        views.InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path(
        "api/v1/team/invitations/<uuid:public_id>/resend",
        views.InvitationResendView.as_view(),
        name="invitation_resend",
    ),
    path("api/v1/team/members/<uuid:public_id>", views.MemberRemoveView.as_view(), name="member_remove"),
    path("api/v1/team/members/<uuid:public_id>/role", views.MemberRoleView.as_view(), name="member_role"),
    path("api/v1/team/leave", views.LeaveView.as_view(), name="leave"),
    path("api/v1/team/join", views.JoinByCodeView.as_view(), name="join"),
    path("api/v1/team/code", views.CodeRegenerateView.as_view(), name="code_regenerate"),
]

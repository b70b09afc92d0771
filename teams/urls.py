from django.urls import path

from teams import views

app_name = "teams"

urlpatterns = [
    path("", views.team_detail, name="detail"),
    path("code/", views.join_by_code, name="join_code"),
    path("join/<str:token>/", views.join, name="join"),
    path("invitation/", views.pending_invitation, name="pending_invitation"),
    path("members/<uuid:public_id>/remove/", views.member_remove, name="member_remove"),
    path("members/<uuid:public_id>/role/", views.member_role, name="member_role"),
    path("invitations/<uuid:public_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<uuid:public_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("<uuid:team_id>/", views.team_detail, name="team"),
    path("<uuid:team_id>/invite/", views.invite, name="invite"),
    path("<uuid:team_id>/rename/", views.rename, name="rename"),
    path("<uuid:team_id>/code/regenerate/", views.code_regenerate, name="code_regenerate"),
    path("<uuid:team_id>/code/disable/", views.code_disable, name="code_disable"),
    path("<uuid:team_id>/leave/", views.leave, name="leave"),
]

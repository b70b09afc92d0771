from django.urls import path

from accounts import views

urlpatterns = [
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("keys/email/", views.email_my_keys, name="email_my_keys"),
    path("tokens/<uuid:public_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    # Export my data, sessions and account deletion (issue 12 item 7, second half).
    path("export/", views.account_export, name="account_export"),
    path("sessions/end-all/", views.sessions_end_all, name="account_sessions_end_all"),
    path("delete/", views.account_delete, name="account_delete"),
    path("deleted/", views.account_deleted, name="account_deleted"),
]

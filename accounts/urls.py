from django.urls import path

from accounts import views

urlpatterns = [
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("keys/email/", views.email_my_keys, name="email_my_keys"),
    path("tokens/<uuid:public_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    # Log out everywhere (issue 12 item 7); export and deletion are privacy/urls.py.
    path("sessions/end-all/", views.sessions_end_all, name="account_sessions_end_all"),
]

# The account page (issue 12 item 7); allauth's own pages live under /accounts/.
urlpatterns += [
    path("", views.account, name="account"),
]

# allauth's pages that show a two-factor secret (the TOTP key with its QR code, the recovery codes)
# answer `Cache-Control: no-store`; qualitybytes/urls.py mounts these ahead of allauth's own.
mfa_secret_pages = [
    path("totp/activate/", views.mfa_activate_totp, name="mfa_activate_totp"),
    path("recovery-codes/", views.mfa_view_recovery_codes, name="mfa_view_recovery_codes"),
]

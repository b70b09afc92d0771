from django.urls import path

from accounts import views

urlpatterns = [
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("keys/email/", views.email_my_keys, name="email_my_keys"),
    path("tokens/<uuid:public_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView

from accounts import urls as account_urls
from billing import views as billing_views
from licensing.tokens import jwks_view
from qualitybytes import views as site_views
from qualitybytes.views import ApiDocsView
from qualitybytes.webhook_guard import stripe_webhook

handler404 = "qualitybytes.views.page_not_found"
handler500 = "qualitybytes.views.server_error"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("favicon.ico", site_views.favicon),
    path("pricing/", billing_views.pricing, name="pricing"),
    path("billing/", include("billing.urls")),
    # dj-stripe's webhook URL, answered first by the size and signature gate (webhook_guard.py).
    path("stripe/webhook/<uuid:uuid>/", stripe_webhook, name="stripe-webhook"),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("dashboard/", include("licensing.dashboard_urls")),
    path("accounts/2fa/", include(account_urls.mfa_secret_pages)),  # the same views, no-store
    path("accounts/", include("allauth.urls")),
    path("team/", include("teams.urls")),
    path("account/", include("accounts.urls")),
    path("account/", include("privacy.urls")),
    path("admin/", admin.site.urls),
    path(".well-known/jwks.json", jwks_view, name="jwks"),
    path("", include("licensing.urls")),
    path("api/v1/me/", include("licensing.api.customer_urls")),
    path("", include("teams.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and ReDoc with the inline styles they need allowed (qualitybytes/views.py).
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

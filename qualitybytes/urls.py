from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from billing import views as billing_views
from licensing.tokens import jwks_view

handler404 = "qualitybytes.views.page_not_found"
handler500 = "qualitybytes.views.server_error"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("pricing/", billing_views.pricing, name="pricing"),
    path("billing/", include("billing.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path(".well-known/jwks.json", jwks_view, name="jwks"),
]

from django.urls import path

from licensing.api import views

app_name = "licensing"

urlpatterns = [
    path("api/v1/licenses/validate", views.ValidateLicenseView.as_view(), name="validate"),
    path("validate-license", views.ValidateLicenseAliasView.as_view(), name="validate-alias"),
    path("api/v1/licenses/activate", views.ActivateDeviceView.as_view(), name="activate"),
    path("api/v1/licenses/deactivate", views.DeactivateDeviceView.as_view(), name="deactivate"),
    path("api/v1/licenses/heartbeat", views.HeartbeatView.as_view(), name="heartbeat"),
    path("api/v1/licenses/usage", views.UsageReportView.as_view(), name="usage"),
]

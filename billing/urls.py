from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.manage, name="manage"),
    path("change/", views.change_plan, name="change_plan"),
    path("change/preview/", views.change_preview, name="change_preview"),
    path("change/confirm/", views.change_confirm, name="change_confirm"),
    path("subscribe/<slug:slug>/", views.subscribe, name="subscribe"),
    path("success/", views.success, name="success"),
    path("canceled/", views.cancel, name="cancel"),
    path("cancel/", views.cancel_subscription, name="cancel_subscription"),
    path("resume/", views.resume_subscription, name="resume_subscription"),
    path("pay/", views.pay, name="pay"),
    path("portal/", views.portal, name="portal"),
]

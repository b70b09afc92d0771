from django.urls import path

from licensing import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("devices/<uuid:public_id>/remove/", views.device_remove, name="device_remove"),
]

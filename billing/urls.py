from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("subscribe/<slug:slug>/", views.subscribe, name="subscribe"),
]

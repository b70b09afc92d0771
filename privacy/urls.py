from django.urls import path

from privacy import views

# Mounted under /account/ beside the account page (qualitybytes/urls.py).
urlpatterns = [
    path("export/", views.account_export, name="account_export"),
    path("delete/", views.account_delete, name="account_delete"),
    path("deleted/", views.account_deleted, name="account_deleted"),
]

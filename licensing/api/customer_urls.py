from django.urls import path

from licensing.api import customer

urlpatterns = [
    path("licenses", customer.MyLicensesView.as_view(), name="me-licenses"),
    path("keys/<uuid:public_id>/reveal", customer.RevealKeyView.as_view(), name="me-key-reveal"),
    path("devices", customer.MyDevicesView.as_view(), name="me-devices"),
    path("devices/<uuid:public_id>", customer.MyDeviceView.as_view(), name="me-device"),
    path("usage", customer.MyUsageView.as_view(), name="me-usage"),
]

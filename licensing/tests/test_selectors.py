"""Licensing's read side: each read answers for its user only, and a device reads the same
wherever it is shown."""

from django.utils import timezone

from accounts.tests.factories import UserFactory
from licensing import selectors
from licensing.models import UsageDaily
from licensing.tests.factories import DeviceFactory, LicenseKeyFactory


def test_each_read_shows_the_owner_their_own_and_an_outsider_nothing(db):
    owner, outsider = UserFactory(), UserFactory()
    key = LicenseKeyFactory(holder=owner, license__owner=owner)
    DeviceFactory(key=key)
    UsageDaily.objects.create(key=key, day=timezone.localdate(), feature="export", count=3)
    assert [k.pk for k in selectors.keys_held_by(owner)] == [key.pk]
    assert [d.key_id for d in selectors.devices_of(owner)] == [key.pk]
    assert selectors.usage_summary(owner, days=1)["features"] == [{"feature": "export", "count": 3}]
    assert not selectors.keys_held_by(outsider).exists()
    assert not selectors.devices_of(outsider).exists()
    assert selectors.usage_summary(outsider, days=1)["features"] == []
    assert not selectors.invoices_of(outsider)


def test_activation_and_my_devices_describe_a_device_the_same_way(client, user, plan):
    key = LicenseKeyFactory(holder=user, license__owner=user, license__plan=plan)
    activated = client.post(
        "/api/v1/licenses/activate",
        {"key": key.plaintext, "fingerprint": "fp-1", "name": "Ada's Mac"},
        content_type="application/json",
    ).json()["device"]
    client.force_login(user)
    listed = client.get("/api/v1/me/devices").json()
    assert listed == [activated]
    assert activated["key_prefix"] == key.prefix

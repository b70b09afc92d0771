import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.tests.factories import PlanFactory
from licensing import keys
from licensing.models import Device, License, LicenseKey


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = License

    owner = factory.SubFactory(UserFactory)
    plan = factory.SubFactory(PlanFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=30))


class LicenseKeyFactory(factory.django.DjangoModelFactory):
    """A key whose plaintext is on the instance as `plaintext` (it is never stored)."""

    class Meta:
        model = LicenseKey
        exclude = ["plaintext"]
        skip_postgeneration_save = True

    license = factory.SubFactory(LicenseFactory)
    holder = factory.LazyAttribute(lambda o: o.license.owner)
    plaintext = factory.LazyFunction(keys.generate)
    digest = factory.LazyAttribute(lambda o: keys.digest(o.plaintext))
    encrypted_key = factory.LazyAttribute(lambda o: keys.encrypt(o.plaintext))
    prefix = factory.LazyAttribute(lambda o: keys.public_prefix(o.plaintext))

    @factory.post_generation
    def keep_plaintext(obj, create, extracted, **kwargs):
        obj.plaintext = obj.reveal()


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    key = factory.SubFactory(LicenseKeyFactory)
    fingerprint = factory.Sequence(lambda n: f"fingerprint-{n:08d}")
    name = factory.Sequence(lambda n: f"Laptop {n}")
    platform = "linux"
    app_version = "4.2.0"

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from accounts.models import User

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        """Users are created with a verified primary email unless `verified=False`."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)
        if create:
            obj.save()

    @factory.post_generation
    def totp(obj, create, extracted, **kwargs):
        """Staff get an authenticator app (the admin opens only with one) unless `totp=False`;
        anyone gets one with `totp=True`. The secret is kept on the object for `totp_code`."""
        if create and (extracted if extracted is not None else obj.is_staff):
            obj.totp_secret = enrol_totp(obj)


def enrol_totp(user: User) -> str:
    """Give `user` an authenticator app, as allauth's activation does; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for `secret` (allauth's own TOTP arithmetic)."""
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))

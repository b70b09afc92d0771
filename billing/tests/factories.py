import factory

from billing.models import AccessLevel, Plan


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    access_level = AccessLevel.SOLO
    seats = 1
    devices_per_seat = 2
    entitlements = factory.LazyFunction(lambda: ["core"])
    grace_days = 7
    monthly_amount = 1200
    yearly_amount = 12000
    monthly_lookup_key = factory.LazyAttribute(lambda o: f"qb_{o.slug}_monthly")
    yearly_lookup_key = factory.LazyAttribute(lambda o: f"qb_{o.slug}_yearly")
    is_public = True

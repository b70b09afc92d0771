from django.core.management.base import BaseCommand
from django.db import transaction

from billing.models import DEFAULT_CATALOGUE, Plan


class Command(BaseCommand):
    help = (
        "Create the default Solo / Team / Enterprise plans. "
        "Safe to run twice: existing plans are left as staff edited them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Overwrite existing default plans with the catalogue values."
        )

    @transaction.atomic
    def handle(self, *args, reset: bool = False, **options):
        for entry in DEFAULT_CATALOGUE:
            values = dict(entry)
            slug = values.pop("slug")
            values.setdefault("monthly_lookup_key", f"qb_{slug}_monthly")
            values.setdefault("yearly_lookup_key", f"qb_{slug}_yearly")
            if reset:
                plan, created = Plan.objects.update_or_create(slug=slug, defaults=values)
            else:
                plan, created = Plan.objects.get_or_create(slug=slug, defaults=values)
            verb = "created" if created else ("reset" if reset else "exists")
            self.stdout.write(f"{plan.name}: {verb}")

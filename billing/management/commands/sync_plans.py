import stripe
from django.core.management.base import BaseCommand, CommandError

from billing.models import Plan
from billing.services import plan_sync


class Command(BaseCommand):
    help = "Create or update the Stripe product and prices of every plan; idempotent by lookup key."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Only these plans (default: all).")

    def handle(self, *args, slugs: list[str], **options):
        plans = Plan.objects.all()
        if slugs:
            plans = plans.filter(slug__in=slugs)
            missing = set(slugs) - set(plans.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No such plan: {', '.join(sorted(missing))}")
        if not plans:
            raise CommandError("The catalogue is empty: run `manage.py seed_plans` first.")
        for plan in plans:
            try:
                synced = plan_sync(plan=plan)
            except stripe.StripeError as exc:
                raise CommandError(f"Stripe refused {plan.slug}: {exc.user_message or exc}") from exc
            for price in synced:
                verb = "created" if price.created else "up to date"
                self.stdout.write(f"{plan.name}: {price.lookup_key} → {price.price_id} ({verb})")

import stripe
from django.core.management.base import BaseCommand, CommandError

from billing.services import BillingError, license_apply, stripe_options
from licensing.models import License


def _describe(license_: License | None) -> tuple:
    if license_ is None:
        return ()
    return (
        license_.plan_id,
        license_.status,
        license_.expires_at,
        license_.grace_ends_at,
        license_.cancel_at_period_end,
    )


class Command(BaseCommand):
    help = "Re-fetch every subscription from Stripe and repair the licenses (after lost webhooks)."

    def handle(self, *args, **options):
        changed = errors = seen = 0
        try:
            subscriptions = stripe.Subscription.list(status="all", limit=100, **stripe_options())
            for data in subscriptions.auto_paging_iter():
                seen += 1
                before = _describe(License.objects.filter(stripe_subscription_id=data["id"]).first())
                try:
                    after = _describe(license_apply(data=data))
                except BillingError as exc:
                    errors += 1
                    self.stderr.write(f"{data['id']}: {exc}")
                    continue
                if before != after:
                    changed += 1
                    self.stdout.write(f"{data['id']}: {'created' if not before else 'repaired'}")
        except stripe.StripeError as exc:
            raise CommandError(f"Stripe refused the listing: {exc.user_message or exc}") from exc
        self.stdout.write(f"{seen} subscription(s) checked, {changed} license(s) changed, {errors} error(s).")
        if errors:
            raise CommandError(f"{errors} subscription(s) could not be reconciled.")

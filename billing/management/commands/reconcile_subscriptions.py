import logging

import stripe
from django.core.management.base import BaseCommand, CommandError

from billing.services import BillingError, stripe_options, subscription_data_apply
from licensing.models import License

logger = logging.getLogger(__name__)


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
    help = (
        "Re-fetch every subscription from Stripe and repair the licenses (after lost webhooks). "
        "One subscription that cannot be reconciled is reported and skipped; the exit status is 1 "
        "if any could not."
    )

    def handle(self, *args, **options):
        changed = seen = 0
        failures: list[str] = []
        try:
            subscriptions = stripe.Subscription.list(status="all", limit=100, **stripe_options())
            for data in subscriptions.auto_paging_iter():
                seen += 1
                before = _describe(License.objects.filter(stripe_subscription_id=data["id"]).first())
                try:
                    # The same path as a webhook: dj-stripe's mirror, then the license.
                    after = _describe(subscription_data_apply(data))
                except BillingError as exc:
                    failures.append(data["id"])
                    self.stderr.write(f"{data['id']}: {exc}")
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad subscription must not stop the rest
                    failures.append(data["id"])
                    logger.exception("reconcile_subscriptions: %s failed", data["id"])
                    self.stderr.write(f"{data['id']}: unexpected {type(exc).__name__}: {exc}")
                    continue
                if before != after:
                    changed += 1
                    self.stdout.write(f"{data['id']}: {'created' if not before else 'repaired'}")
        except stripe.StripeError as exc:
            raise CommandError(f"Stripe refused the listing: {exc.user_message or exc}") from exc
        self.stdout.write(
            f"{seen} subscription(s) checked, {changed} license(s) changed, {len(failures)} error(s)."
        )
        if failures:
            raise CommandError(
                f"{len(failures)} subscription(s) could not be reconciled: {', '.join(failures)}."
            )

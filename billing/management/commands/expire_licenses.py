from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from billing.expiry import licenses_expire


class Command(BaseCommand):
    help = (
        "Mark licenses whose period or grace has ended: hand-issued ones become inactive, Stripe ones are "
        "reconciled from Stripe. Safe to run any time, e.g. hourly from cron; exits 1 if Stripe failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stripe-margin-hours",
            type=int,
            default=24,
            help="Ask Stripe only this long after a subscription's end (renewal webhooks can be late).",
        )

    def handle(self, *args, stripe_margin_hours, **options):
        if stripe_margin_hours < 0:
            raise CommandError("--stripe-margin-hours cannot be negative.")
        report = licenses_expire(stripe_margin=timedelta(hours=stripe_margin_hours))
        self.stdout.write(
            f"Expired {report.comp_expired} hand-issued license(s); reconciled {report.reconciled} "
            f"subscription(s) from Stripe, {report.now_inactive} now inactive; {report.failed} failed."
        )
        if report.failed:
            raise CommandError(f"{report.failed} subscription(s) could not be reconciled; see the log.")

"""Bound dj-stripe's log of webhook deliveries (safe from cron, safe to rerun).

manage.py prune_webhook_triggers                   # older than STRIPE_WEBHOOK_TRIGGER_DAYS (30)
manage.py prune_webhook_triggers --older-than 14
manage.py prune_webhook_triggers --events          # also dj-stripe Event rows that old
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone
from djstripe.models import Event, WebhookEventTrigger

BATCH = 5000
# Stripe retries a delivery for up to three days; an Event row younger than a week may still be
# what makes dj-stripe skip a retried event instead of running its handlers again.
EVENTS_MIN_DAYS = 7


def delete_in_batches(queryset) -> int:
    """Delete the rows in chunks of BATCH, so no statement holds locks on a whole table."""
    deleted = 0
    while True:
        pks = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return deleted
        _, per_model = queryset.model.objects.filter(pk__in=pks).delete()
        deleted += per_model.get(queryset.model._meta.label, 0)


class Command(BaseCommand):
    help = (
        "Delete stored Stripe webhook deliveries (dj-stripe WebhookEventTrigger rows: body, "
        "headers, IP) older than --older-than DAYS (default STRIPE_WEBHOOK_TRIGGER_DAYS). A "
        "trigger goes once it is that old and either processed successfully or invalid (failed "
        "verification; the webhook gate stores none now, older rows may exist). A verified "
        "trigger that was never processed (its event raised an error) is kept whatever its age: "
        "it is the record of a failure for staff to look at (admin: dj-stripe, webhook event "
        "triggers) and is counted in the output. dj-stripe Event rows are kept unless --events "
        "is given: dj-stripe skips an event whose id it already has, so an Event row is what "
        "stops a re-sent event from running its handlers twice; with --events (DAYS at least "
        f"{EVENTS_MIN_DAYS}, beyond Stripe's three days of retries) Events stored before the "
        "cut-off go too. Licenses, subscriptions and payment records are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            "--days",
            dest="days",
            type=int,
            metavar="DAYS",
            help="Age in days (default STRIPE_WEBHOOK_TRIGGER_DAYS, 30).",
        )
        parser.add_argument(
            "--events",
            action="store_true",
            help=f"Also delete dj-stripe Event rows stored more than DAYS ago (DAYS ≥ {EVENTS_MIN_DAYS}).",
        )

    def handle(self, *args, days=None, events=False, **options):
        days = settings.STRIPE_WEBHOOK_TRIGGER_DAYS if days is None else days
        if days < 1:
            raise CommandError(f"--older-than must be a whole number of days, at least 1 (got {days}).")
        if events and days < EVENTS_MIN_DAYS:
            raise CommandError(
                f"--events needs --older-than {EVENTS_MIN_DAYS} or more: Stripe retries an event "
                "for up to three days, and its Event row is what makes dj-stripe skip the retry."
            )
        cutoff = timezone.now() - timedelta(days=days)
        old = WebhookEventTrigger.objects.filter(created__lt=cutoff)
        processed = delete_in_batches(old.filter(processed=True))
        invalid = delete_in_batches(old.filter(processed=False, valid=False))
        self.stdout.write(
            f"Deleted {processed + invalid} webhook trigger(s) older than {days} days "
            f"({processed} processed, {invalid} invalid)."
        )
        failed = old.filter(Q(processed=False) & Q(valid=True)).count()
        if failed:
            self.stdout.write(
                f"Kept {failed} verified trigger(s) older than {days} days that were never processed "
                "(see their exception in the admin); they are not pruned."
            )
        if events:
            deleted = delete_in_batches(Event.objects.filter(djstripe_created__lt=cutoff))
            self.stdout.write(f"Deleted {deleted} Stripe event(s) stored more than {days} days ago.")

"""Create the Stripe webhook endpoint and its dj-stripe `WebhookEndpoint` row (safe to run twice).

    manage.py create_webhook_endpoint                     # SITE_URL, on Stripe or the simulator
    manage.py create_webhook_endpoint --base-url URL      # another public base URL
    manage.py create_webhook_endpoint --secret whsec_...  # local row for `stripe listen` only

Prints the webhook URL (/stripe/webhook/<uuid>/). With `--secret`, nothing is created on Stripe:
the row carries the signing secret printed by `stripe listen --print-secret`, and
`stripe listen --forward-to <that URL>` delivers to it.
"""

import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from djstripe.models import WebhookEndpoint
from djstripe.settings import djstripe_settings
from stripe import InvalidRequestError

DESCRIPTION = "QualityBytes license server (dj-stripe)"


def webhook_url(base_url: str, endpoint_uuid) -> str:
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint_uuid})
    return base_url.rstrip("/") + path


def webhook_endpoint_create(*, base_url: str, secret: str | None = None) -> tuple[WebhookEndpoint, bool]:
    """The endpoint delivering to `base_url`, reused when it still exists on Stripe."""
    livemode = bool(djstripe_settings.STRIPE_LIVE_MODE)
    for endpoint in WebhookEndpoint.objects.filter(livemode=livemode).order_by("-djstripe_created"):
        if endpoint.url != webhook_url(base_url, endpoint.djstripe_uuid):
            continue
        if secret:
            if endpoint.secret != secret:
                endpoint.secret = secret
                endpoint.save(update_fields=["secret", "djstripe_updated"])
            return endpoint, False
        if endpoint.id.startswith("we_local_"):
            continue
        try:
            endpoint.api_retrieve()
        except InvalidRequestError as exc:
            if getattr(exc, "code", None) != "resource_missing":
                raise
            endpoint.delete()  # gone on Stripe's side (e.g. simulator state reset): create a new one
            continue
        return endpoint, False

    endpoint_uuid = uuid.uuid4()
    url = webhook_url(base_url, endpoint_uuid)
    if secret:
        endpoint = WebhookEndpoint.objects.create(
            id=f"we_local_{endpoint_uuid.hex[:20]}",
            url=url,
            secret=secret,
            enabled_events=["*"],
            status="enabled",
            livemode=livemode,
            api_version=djstripe_settings.STRIPE_API_VERSION,
            djstripe_uuid=endpoint_uuid,
        )
        return endpoint, True
    data = WebhookEndpoint._api_create(
        url=url,
        enabled_events=["*"],
        api_version=djstripe_settings.STRIPE_API_VERSION,
        description=DESCRIPTION,
        metadata={"djstripe_uuid": str(endpoint_uuid)},
    )
    with transaction.atomic():
        endpoint = WebhookEndpoint.sync_from_stripe_data(data)
    return endpoint, True


class Command(BaseCommand):
    help = "Create (once) the Stripe webhook endpoint for this site and print its URL."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default=settings.SITE_URL, help="Public base URL (default SITE_URL)."
        )
        parser.add_argument(
            "--secret",
            help="Signing secret from `stripe listen --print-secret`: record a local endpoint only.",
        )

    def handle(self, *args, base_url, secret, **options):
        if secret and not secret.startswith("whsec_"):
            raise CommandError("The signing secret printed by `stripe listen` starts with whsec_.")
        endpoint, created = webhook_endpoint_create(base_url=base_url, secret=secret)
        verb = "Created" if created else "Already exists:"
        self.stdout.write(f"{verb} webhook endpoint {endpoint.id}")
        self.stdout.write(endpoint.url)

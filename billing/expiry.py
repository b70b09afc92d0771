"""Mark licenses whose paid period or grace has ended (`manage.py expire_licenses`, from cron).

Validation already answers EXPIRED from the dates alone, so this never changes what a client is
told; it keeps the stored status true for the dashboard, the admin and the accounting export.

It never fights the Stripe reconcile. A license bought through Stripe gets its state from
Stripe only: once its end (plus a margin for a renewal whose webhook is late) has passed, it is
reconciled from the subscription as Stripe has it now, which renews it or makes it inactive.
Only licenses issued by hand, which no webhook will ever touch, are set inactive here. Staff
suspensions and revocations are left alone. Running it twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from billing.services import subscription_reconcile
from licensing.models import License, LicenseStatus

logger = logging.getLogger(__name__)


@dataclass
class ExpiryReport:
    comp_expired: int = 0
    reconciled: int = 0
    now_inactive: int = 0
    failed: int = 0


def licenses_expire(
    *, now: datetime | None = None, stripe_margin: timedelta = timedelta(hours=24)
) -> ExpiryReport:
    now = now or timezone.now()
    report = ExpiryReport()
    live = License.objects.exclude(status=LicenseStatus.INACTIVE).filter(revoked_at__isnull=True)
    report.comp_expired = (
        live.ended(now)
        .filter(stripe_subscription_id__isnull=True)
        .update(status=LicenseStatus.INACTIVE, updated_at=now)
    )
    subscription_ids = list(
        live.ended(now - stripe_margin)
        .filter(stripe_subscription_id__isnull=False)
        .values_list("stripe_subscription_id", flat=True)
    )
    for subscription_id in subscription_ids:
        try:
            license_ = subscription_reconcile(subscription_id=subscription_id)
        except Exception as exc:  # Stripe or data errors: one bad subscription must not stop the run.
            report.failed += 1
            logger.warning("expire_licenses: could not reconcile %s: %s", subscription_id, exc)
            continue
        report.reconciled += 1
        if license_ is not None and license_.status == LicenseStatus.INACTIVE:
            report.now_inactive += 1
    return report

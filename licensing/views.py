"""The customer dashboard: plan, keys, devices, usage and invoices on one page."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from licensing import selectors
from licensing.figures import bar_chart
from licensing.models import LicenseState

CHART_DAYS = 30


@login_required
def dashboard(request):
    user = request.user
    keys = list(selectors.keys_held_by(user))
    devices = {
        key_id: list(group) for key_id, group in groupby(selectors.devices_of(user), lambda d: d.key_id)
    }
    now = timezone.now()
    for key in keys:
        key.device_list = devices.get(key.pk, [])
        key.current_state = LicenseState.of(key, now)
    subscription = selectors.live_license_for(user)
    usage = selectors.usage_summary(user, days=CHART_DAYS)
    invoices = selectors.invoices_of(user)
    last_seen = max((key.last_validated_at for key in keys if key.last_validated_at), default=None)
    return render(
        request,
        "licensing/dashboard.html",
        {
            "keys": keys,
            "subscription": subscription,
            "chart": bar_chart(usage["days"], width=600, height=140, top=20, gap=2, field="validations"),
            "features": usage["features"],
            "invoices": invoices,
            "last_seen": last_seen,
        },
    )


@login_required
@require_POST
def device_remove(request, public_id):
    device = get_object_or_404(selectors.devices_of(request.user), public_id=public_id)
    device.delete()
    messages.success(request, f"“{device}” is removed; its slot is free for another device.")
    return redirect("dashboard")

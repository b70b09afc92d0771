"""The customer dashboard: plan, keys, devices, usage and invoices on one page."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from licensing import selectors

CHART_WIDTH, CHART_HEIGHT, CHART_DAYS = 600, 140, 30


def usage_chart(days: list[dict]) -> dict:
    """Bar geometry for a server-rendered SVG of validations per day."""
    peak = max((day["validations"] for day in days), default=0)
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = round((CHART_HEIGHT - 20) * day["validations"] / peak, 1) if peak else 0
        bars.append(
            {
                "x": round(index * slot + 1, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(slot - 2, 1),
                "height": height,
                "day": day["day"],
                "count": day["validations"],
            }
        )
    return {
        "bars": bars,
        "peak": peak,
        "total": sum(day["validations"] for day in days),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


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
        key.current_state = key.state(now)
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
            "chart": usage_chart(usage["days"]),
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

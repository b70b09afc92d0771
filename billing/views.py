from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from billing.models import Interval, Plan


def pricing(request):
    interval = request.GET.get("interval", Interval.MONTH)
    if interval not in Interval.values:
        interval = Interval.MONTH
    plans = Plan.objects.public()
    return render(request, "billing/pricing.html", {"plans": plans, "interval": interval})


def subscribe(request, slug: str):
    plan = get_object_or_404(Plan.objects.public(), slug=slug)
    interval = request.GET.get("interval", Interval.MONTH)
    if interval not in Interval.values:
        interval = Interval.MONTH
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("account_signup"))
    return render(request, "billing/subscribe_soon.html", {"plan": plan, "interval": interval})

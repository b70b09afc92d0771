from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from billing import services
from billing.forms import CancelForm, PlanChangeConfirmForm, PlanChoiceForm
from billing.models import Interval, Plan
from billing.selectors import cancellation_facts
from licensing import selectors
from licensing.models import LicenseState


def _interval(request) -> str:
    interval = request.GET.get("interval", Interval.MONTH)
    return interval if interval in Interval.values else Interval.MONTH


def pricing(request):
    """The plans, with each card's action for this visitor: Subscribe (or Resubscribe after an
    ended subscription), or, for a live subscriber, "Current plan" and Switch, never a second
    Checkout. A subscription that cannot change plan now (past due, revoked) points to billing."""
    current = selectors.live_license_for(request.user) if request.user.is_authenticated else None
    interval = _interval(request)
    if current and "interval" not in request.GET:
        interval = current.billing_interval
    context = {
        "plans": Plan.objects.public(),
        "interval": interval,
        "current": current,
        "current_state": current.current_state if current else None,
        "can_switch": bool(current) and current.current_state == LicenseState.ACTIVE,
        "resubscribe": not current
        and request.user.is_authenticated
        and selectors.had_subscription(request.user),
    }
    return render(request, "billing/pricing.html", context)


def subscribe(request, slug: str):
    """Send a visitor to sign up, a subscriber to change plan, anyone else to Checkout."""
    plan = get_object_or_404(Plan.objects.public(), slug=slug)
    interval = _interval(request)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("account_signup"))
    if selectors.live_license_for(request.user):
        messages.info(request, "You already have a subscription: here is what switching costs.")
        return redirect(_preview_url(plan.slug, interval))
    if request.method != "POST":
        return render(request, "billing/subscribe.html", {"plan": plan, "interval": interval})
    try:
        url = services.checkout_create(user=request.user, plan=plan, interval=interval)
    except services.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("pricing")
    return redirect(url)


@login_required
@never_cache  # shows the buyer's key in full
def success(request):
    session_id = request.GET.get("session_id", "")
    license_ = None
    error = None
    if session_id:
        try:
            license_ = services.checkout_complete(user=request.user, session_id=session_id)
        except services.BillingError as exc:
            error = str(exc)
    else:
        error = "The link is missing its checkout session."
    keys = license_.keys.filter(holder=request.user).active() if license_ else []
    return render(request, "billing/success.html", {"license": license_, "keys": keys, "error": error})


@login_required
def cancel(request):
    return render(request, "billing/cancel.html")


@login_required
def manage(request):
    """The subscription: its plan and state, with "Change plan", cancel and the portal. The old
    `?plan=&interval=` links (emails, bookmarks) open the preview of that change."""
    if request.GET.get("plan"):
        return redirect(_preview_url(request.GET["plan"], _interval(request)))
    license_ = selectors.live_license_for(request.user)
    context = {
        "license": license_,
        "duplicates": selectors.duplicate_subscriptions(request.user) if license_ else [],
    }
    return render(request, "billing/manage.html", context)


def _preview_url(plan: str, interval: str) -> str:
    query = QueryDict(mutable=True)
    query.update({"plan": plan, "interval": interval})
    return f"{reverse('billing:change_preview')}?{query.urlencode()}"


def _change_page(request, license_, *, form=None, error=None, payment=None):
    """The change-plan page: every public plan at both intervals, the current one marked; with
    the error of a refused choice or change above the plans (and a Pay button when an invoice
    waits for its payment)."""
    context = {
        "license": license_,
        "plans": Plan.objects.public(),
        "can_change": license_.current_state == LicenseState.ACTIVE,
        "form": form,
        "error": error,
        "payment": payment,
    }
    return render(request, "billing/change_plan.html", context)


def _live_license_or_redirect(request):
    license_ = selectors.live_license_for(request.user)
    if license_ is None or not license_.stripe_subscription_id:
        messages.info(request, "You have no subscription to change: choose a plan to start one.")
        return None, redirect("pricing")
    return license_, None


@login_required
def change_plan(request):
    license_, away = _live_license_or_redirect(request)
    if away:
        return away
    return _change_page(request, license_)


@login_required
@never_cache
def change_preview(request):
    """What Stripe will charge now and on the next invoice for the chosen plan, and the
    confirmation that states the amount. Nothing is charged here."""
    license_, away = _live_license_or_redirect(request)
    if away:
        return away
    if license_.current_state != LicenseState.ACTIVE:
        return _change_page(request, license_)  # the page says why no change can be made now
    form = PlanChoiceForm(request.GET)
    if not form.is_valid():
        return _change_page(request, license_, form=form)
    try:
        preview = services.plan_change_preview(
            license=license_, plan=form.cleaned_data["plan"], interval=form.cleaned_data["interval"]
        )
    except services.PaymentRequired as exc:
        return _change_page(request, license_, error=str(exc), payment=exc)
    except services.BillingError as exc:
        return _change_page(request, license_, error=str(exc))
    confirm = PlanChangeConfirmForm(
        initial={"plan": preview.plan.slug, "interval": preview.interval, "token": preview.token}
    )
    context = {"license": license_, "preview": preview, "form": confirm}
    return render(request, "billing/change_preview.html", context)


@login_required
@require_POST
def change_confirm(request):
    """Make the previewed change, once (see services.plan_change_confirm)."""
    license_, away = _live_license_or_redirect(request)
    if away:
        return away
    if license_.current_state != LicenseState.ACTIVE:
        return _change_page(request, license_)
    form = PlanChangeConfirmForm(request.POST)
    if not form.is_valid():
        return _change_page(request, license_, form=form)
    plan, interval = form.cleaned_data["plan"], form.cleaned_data["interval"]
    try:
        license_ = services.plan_change_confirm(
            license=license_, plan=plan, interval=interval, token=form.cleaned_data["token"]
        )
    except services.PlanChangeStale as exc:
        messages.warning(request, str(exc))
        return redirect(_preview_url(plan.slug, interval))
    except services.PlanChangeAlreadyMade as exc:
        messages.info(request, str(exc))
        return redirect("billing:manage")
    except services.PaymentRequired as exc:
        return _change_page(request, license_, error=str(exc), payment=exc)
    except services.BillingError as exc:
        return _change_page(request, license_, error=str(exc))
    messages.success(request, f"Your plan is now {plan.name}, billed {Interval(interval).label.lower()}.")
    return redirect("billing:manage")


@login_required
@never_cache
def pay(request):
    """The payment-failed email's link: the open invoice of the user's own live subscription as
    it is now (Stripe's hosted page), so an old email never points at a stale invoice."""
    license_ = selectors.live_license_for(request.user)
    if license_ is None:
        messages.info(request, "You have no subscription with an invoice to pay.")
        return redirect("billing:manage")
    try:
        invoice = services.open_invoice_for(license=license_)
    except services.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("billing:manage")
    if invoice is None:
        messages.info(request, "Nothing is due: your subscription has no open invoice.")
        return redirect("billing:manage")
    return redirect(invoice.url)


@login_required
def cancel_subscription(request):
    """Cancel at the period end, after a page that says when access ends and whose keys stop."""
    license_ = selectors.live_license_for(request.user)
    if license_ is None:
        messages.error(request, "You have no active subscription.")
        return redirect("pricing")
    if license_.cancel_at_period_end:
        # Already cancelled (a second tab, a double submit, the portal): say so, change nothing.
        messages.info(request, _ending_message(license_))
        return redirect("billing:manage")
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            license_ = services.subscription_cancel(license=license_)
        except services.BillingError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, _ending_message(license_))
        return redirect("billing:manage")
    facts = cancellation_facts(license_)
    return render(request, "billing/cancel_confirm.html", {"license": license_, "facts": facts, "form": form})


def _ending_message(license_) -> str:
    when = f"on {date_format(license_.expires_at, 'j M Y')}" if license_.expires_at else "at the period end"
    return (
        f"Your subscription is cancelled and ends {when}; nothing more will be charged. "
        "Until then everything keeps working, and “Keep my plan” on this page undoes it."
    )


@login_required
@require_POST
def resume_subscription(request):
    license_ = selectors.live_license_for(request.user)
    if license_ is None:
        messages.error(request, "You have no active subscription.")
        return redirect("pricing")
    if not license_.cancel_at_period_end:
        messages.info(request, "Your subscription renews as usual.")
        return redirect("billing:manage")
    try:
        services.subscription_resume(license=license_)
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "You kept your plan: your subscription will renew as usual.")
    return redirect("billing:manage")


@login_required
@require_POST
def portal(request):
    try:
        return redirect(services.portal_session_create(user=request.user))
    except services.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("pricing")

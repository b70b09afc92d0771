"""The operator panel: Django's admin with our branding, the business figures on its index and
a limit on failed staff logins.

Installed through `qualitybytes.apps.AdminConfig`, so `admin.site` and `@admin.register` are this
site and every app's admin.py is unchanged by it.
"""

import hashlib

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.template.response import TemplateResponse

from qualitybytes.http import client_ip

# Failed logins allowed per account (whatever the client IP) and per IP before the form refuses
# to check passwords. The account counter is what stops a password guesser who rotates IPs; the
# IP counter stops one address trying many accounts. A locked account waits out the window (or
# another administrator resets its password); its owner logging in from elsewhere is refused too,
# which is the price of not letting anyone guess a staff password without limit.
LOGIN_FAILURES_PER_ACCOUNT = 5
LOGIN_FAILURES_PER_IP = 20
LOGIN_WINDOW_SECONDS = 5 * 60
LOCKED_MESSAGE = (
    "Too many failed logins. For your protection, logging in is paused for {minutes} minutes; "
    "try again later or ask another administrator to reset your password."
)


class LoginLimiter:
    """Counts failed admin logins in the shared cache, per email (any IP) and per IP."""

    def __init__(self, request):

        ip = client_ip(request) or "unknown"
        email = (request.POST.get("username") or "").strip().lower()
        # Hashed, so the cache never holds the addresses people typed.
        account = hashlib.sha256(email.encode()).hexdigest()
        self.account_key = f"admin:login-failures:account:{account}"
        self.counters = [
            (self.account_key, LOGIN_FAILURES_PER_ACCOUNT),
            (f"admin:login-failures:ip:{ip}", LOGIN_FAILURES_PER_IP),
        ]

    def locked(self) -> bool:
        return any((cache.get(key) or 0) >= limit for key, limit in self.counters)

    def failed(self) -> None:
        for key, _ in self.counters:
            # The window starts at the first failure; later failures do not extend it.
            cache.add(key, 0, timeout=LOGIN_WINDOW_SECONDS)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=LOGIN_WINDOW_SECONDS)

    def succeeded(self) -> None:
        """The right password before the lock: the account's earlier failures are forgotten."""
        cache.delete(self.account_key)


class OperatorAdminSite(admin.AdminSite):
    site_header = "QualityBytes operator panel"
    site_title = "QualityBytes admin"
    index_title = "Operations"
    # Lists have many columns; the breadcrumbs and the index are enough to move around.
    enable_nav_sidebar = False

    # Our apps first, in the order staff use them; library apps (auth, allauth, dj-stripe) after.
    app_order = ["licensing", "accounts", "teams", "billing"]
    app_names = {"account": "Email addresses (allauth)", "djstripe": "Stripe mirror (dj-stripe)"}

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            app["name"] = self.app_names.get(app["app_label"], app["name"])
        rank = {label: index for index, label in enumerate(self.app_order)}
        return sorted(apps, key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"]))

    # What the index shows above the app list: an app registers a callable returning its context
    # (licensing registers the business figures), so this base layer imports no app.
    index_context: dict = {}

    def index(self, request, extra_context=None):
        context = {name: build() for name, build in self.index_context.items()}
        return super().index(request, {**context, **(extra_context or {})})

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        limiter = LoginLimiter(request)
        if limiter.locked():
            return self._locked(request)
        response = super().login(request, extra_context)
        # The login view answers a redirect on success and the form again on failure.
        if response.status_code == 302:
            limiter.succeeded()
        else:
            limiter.failed()
        return response

    def _locked(self, request) -> TemplateResponse:
        form = self.login_form or AdminAuthenticationForm
        unbound = form(request, initial={"username": request.POST.get("username", "")})
        unbound.cleaned_data = {}  # unbound: add_error would otherwise find nothing to clean up
        unbound.add_error(None, LOCKED_MESSAGE.format(minutes=LOGIN_WINDOW_SECONDS // 60))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
            "form": unbound,
            "next": request.POST.get("next", ""),
        }
        return TemplateResponse(request, self.login_template or "admin/login.html", context, status=429)

"""The operator panel: Django's admin with our branding, the business figures on its index, and
its door: staff only, logged in through the site's login (allauth: rate-limited, and asking for the
authenticator code), with two-factor authentication set up before any admin page opens.

Installed through `qualitybytes.apps.AdminConfig`, so `admin.site` and `@admin.register` are this
site and every app's admin.py is unchanged by it.
"""

from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

ENROL_MESSAGE = (
    "The operator panel needs two-factor authentication. Set it up with an authenticator app; "
    "the admin opens once it is on."
)


def has_second_factor(user) -> bool:
    """An authenticator app is set up (recovery codes alone come with it and do not count)."""
    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


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

    def has_permission(self, request):
        # Every admin URL asks this (admin_view), so no page opens for staff without a second
        # factor; the answer is kept on the request because the page asks again while rendering.
        if not super().has_permission(request):
            return False
        if not hasattr(request, "_qb_second_factor"):
            request._qb_second_factor = has_second_factor(request.user)
        return request._qb_second_factor

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        """Not a login form: Django's would check a password and skip the second factor. Visitors
        go to the site's login and come back; staff without an authenticator are sent to set one
        up; customers are told the panel is for staff."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, reverse("account_login"))
        if not (user.is_active and user.is_staff):
            return TemplateResponse(request, "accounts/staff_only.html", status=403)
        if not self.has_permission(request):
            messages.warning(request, ENROL_MESSAGE)
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return HttpResponseRedirect(next_url)

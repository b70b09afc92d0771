from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin with the operator panel's site (qualitybytes/admin_site.py) as `admin.site`."""

    default_site = "qualitybytes.admin_site.OperatorAdminSite"


class QualityBytesConfig(AppConfig):
    """The project's own models: the email outbox (qualitybytes/models.py, qualitybytes/outbox.py)."""

    name = "qualitybytes"
    verbose_name = "Emails"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qualitybytes import outbox_admin  # noqa: F401  registers the outbox with the operator panel

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin with the operator panel's site (qualitybytes/admin_site.py) as `admin.site`."""

    default_site = "qualitybytes.admin_site.OperatorAdminSite"

from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"

    def ready(self):
        from django.contrib import admin

        from licensing.figures import business_figures

        # The admin index's business figures (qualitybytes/admin_site.py shows what apps register).
        admin.site.index_context = {**admin.site.index_context, "figures": business_figures}

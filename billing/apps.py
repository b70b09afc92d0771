from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from billing import webhooks  # noqa: F401  (connects the dj-stripe receivers)

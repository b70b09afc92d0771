from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from allauth.account.signals import email_changed

        from billing import webhooks  # noqa: F401  (connects the dj-stripe receivers)

        # allauth's email change (the account page): the new address is confirmed and primary.
        email_changed.connect(_stripe_customer_follows, dispatch_uid="billing.customer_email_sync")


def _stripe_customer_follows(sender, request, user, **kwargs):
    from billing.customers import customer_email_sync

    customer_email_sync(user=user)

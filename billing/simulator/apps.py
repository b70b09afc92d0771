from django.apps import AppConfig


class StripeSimulatorConfig(AppConfig):
    """Installed by settings only when the simulator stands in for Stripe (DEBUG on, no key)."""

    name = "billing.simulator"
    label = "stripe_simulator"
    verbose_name = "Stripe simulator"

    def ready(self):
        from billing.simulator import dev

        dev.install()

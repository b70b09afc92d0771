from django.apps import AppConfig


class StripeSimulatorConfig(AppConfig):
    """Installed by settings only when the simulator stands in for Stripe (DEBUG on, no key)."""

    name = "stripe_simulator"
    label = "stripe_simulator"
    verbose_name = "Stripe simulator"

    def ready(self):
        from stripe_simulator import dev

        dev.install()

"""Customer Portal sessions (a mixin of `StripeSimulator`); the portal's pages are in wsgi.py."""

from __future__ import annotations

from stripe_simulator.common import (
    check_params,
    new_id,
)


class PortalMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    # ------------------------------------------------------- billing portal

    def portal_session_create(self, params: dict) -> dict:
        check_params(params, ("customer", "return_url", "configuration", "locale"), required=("customer",))
        with self.lock:
            customer = self._get("customer", params["customer"], "customer")
            session = {
                "configuration": params.get("configuration") or "bpc_1QbSimulatorPortalConfig",
                "created": self.now(),
                "customer": customer["id"],
                "customer_account": None,
                "flow": None,
                "id": new_id("bps_"),
                "livemode": False,
                "locale": params.get("locale") or None,
                "object": "billing_portal.session",
                "on_behalf_of": None,
                "return_url": params.get("return_url") or None,
                "url": "",
            }
            session["url"] = f"{self.public_url}/portal/{session['id']}"
            self._store("billing_portal.session", session)
            return self.render(session["id"])

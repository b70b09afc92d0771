"""Webhook endpoints (a mixin of `StripeSimulator`): the API, their signing secrets, and the
tests' direct registration. Delivery itself is delivery.py's.
"""

from __future__ import annotations

from stripe_simulator.common import (
    StripeError,
    as_bool,
    as_list,
    check_params,
    merge_metadata,
    missing_param,
    new_id,
)


class WebhookEndpointsMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    # ------------------------------------------------------ webhook endpoints

    def webhook_endpoint_create(self, params: dict) -> dict:
        check_params(
            params,
            ("url", "enabled_events", "api_version", "description", "metadata", "connect"),
            required=("url",),
        )
        if not str(params["url"]).startswith(("http://", "https://")):
            raise StripeError(400, f"Invalid URL: {params['url']}", param="url")
        events = as_list(params.get("enabled_events"), "enabled_events")
        if not events:
            raise missing_param("enabled_events")
        if as_bool(params.get("connect", False), "connect"):
            raise StripeError(400, "Stripe simulator: Connect endpoints are not modelled", param="connect")
        with self.lock:
            endpoint = {
                "api_version": params.get("api_version") or None,
                "application": None,
                "created": self.now(),
                "description": params.get("description") or None,
                "enabled_events": events,
                "id": new_id("we_"),
                "livemode": False,
                "metadata": merge_metadata({}, params.get("metadata")),
                "object": "webhook_endpoint",
                "status": "enabled",
                "url": params["url"],
            }
            secret = "whsec_" + new_id("", 32)
            self._store("webhook_endpoint", endpoint, secret=secret)
            return {**self.render(endpoint["id"]), "secret": secret}

    def webhook_endpoint_update(self, endpoint_id: str, params: dict) -> dict:
        check_params(params, ("url", "enabled_events", "description", "metadata", "disabled"))
        with self.lock:
            endpoint = self._get("webhook_endpoint", endpoint_id)
            if "url" in params:
                endpoint["url"] = params["url"]
            if "enabled_events" in params:
                endpoint["enabled_events"] = as_list(params["enabled_events"], "enabled_events")
            if "description" in params:
                endpoint["description"] = params["description"] or None
            if "metadata" in params:
                endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
            if "disabled" in params:
                endpoint["status"] = "disabled" if as_bool(params["disabled"], "disabled") else "enabled"
            return self.render(endpoint_id)

    def webhook_endpoint_delete(self, endpoint_id: str) -> dict:
        with self.lock:
            endpoint = self._get("webhook_endpoint", endpoint_id)
            endpoint["deleted"] = True
            return {"deleted": True, "id": endpoint_id, "object": "webhook_endpoint"}

    def webhook_secret(self, endpoint_id: str) -> str:
        return self.internal[endpoint_id]["secret"]

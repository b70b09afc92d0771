"""The catalogue (a mixin of `StripeSimulator`): products and prices, and the legacy `plan`
that subscription items still embed.
"""

from __future__ import annotations

import copy

from stripe_simulator.common import (
    StripeError,
    as_bool,
    as_int,
    as_list,
    check_params,
    matching,
    merge_metadata,
    new_id,
    only_modelled,
)


def _active_and_named(objects: list[dict], params: dict, names_param: str, field: str) -> list[dict]:
    """The catalogue lists' own filters: `active`, and a list of names (`ids`, `lookup_keys`)."""
    if "active" in params:
        active = as_bool(params["active"], "active")
        objects = [o for o in objects if o["active"] == active]
    if params.get(names_param):
        names = set(as_list(params[names_param], names_param))
        objects = [o for o in objects if o[field] in names]
    return objects


class CatalogMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    # -------------------------------------------------------------- products

    PRODUCT_PARAMS = (
        "id",
        "name",
        "description",
        "active",
        "metadata",
        "unit_label",
        "statement_descriptor",
        "url",
    )

    def product_create(self, params: dict) -> dict:
        check_params(params, self.PRODUCT_PARAMS, required=("name",))
        now = self.now()
        with self.lock:
            product_id = params.get("id") or new_id("prod_", 14)
            if product_id in self.objects:
                raise StripeError(
                    400, f"Product already exists: {product_id}", code="resource_already_exists"
                )
            product = {
                "active": as_bool(params.get("active", True), "active"),
                "created": now,
                "default_price": None,
                "description": params.get("description") or None,
                "id": product_id,
                "images": [],
                "livemode": False,
                "marketing_features": [],
                "metadata": merge_metadata({}, params.get("metadata")),
                "name": params["name"],
                "object": "product",
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": params.get("statement_descriptor") or None,
                "tax_code": None,
                "type": "service",
                "unit_label": params.get("unit_label") or None,
                "updated": now,
                "url": params.get("url") or None,
            }
            self._store("product", product)
            self._emit("product.created", product)
            return self.render(product_id)

    def product_update(self, product_id: str, params: dict) -> dict:
        check_params(params, (*self.PRODUCT_PARAMS[1:], "default_price"))
        with self.lock:
            product = self._get("product", product_id)
            previous = {}
            for key, value in params.items():
                if key == "metadata":
                    new = merge_metadata(product["metadata"], value)
                elif key == "active":
                    new = as_bool(value, key)
                elif key == "default_price":
                    new = value or None
                    if new:
                        self._get("price", new, "default_price")
                else:
                    new = value or None
                if product.get(key) != new:
                    previous[key] = copy.deepcopy(product.get(key))
                    product[key] = new
            if previous:
                product["updated"] = self.now()
                self._emit("product.updated", product, previous)
            return self.render(product_id)

    def product_list(self, params: dict) -> dict:
        check_params(params, ("active", "ids", "limit", "starting_after", "ending_before", "created"))
        with self.lock:
            products = _active_and_named(self._all("product"), params, "ids", "id")
            return self.paginate(products, params, "/v1/products")

    # ---------------------------------------------------------------- prices

    PRICE_PARAMS = (
        "product",
        "currency",
        "unit_amount",
        "recurring",
        "lookup_key",
        "transfer_lookup_key",
        "nickname",
        "metadata",
        "active",
        "tax_behavior",
        "billing_scheme",
    )

    def price_create(self, params: dict) -> dict:
        check_params(params, self.PRICE_PARAMS, required=("currency", "product", "unit_amount"))
        only_modelled(params, "billing_scheme", "per_unit")
        now = self.now()
        with self.lock:
            product = self._get("product", params["product"], "product")
            recurring = params.get("recurring") or None
            if recurring is not None:
                check_params(recurring, ("interval", "interval_count", "usage_type"))
                if recurring.get("interval") not in ("day", "week", "month", "year"):
                    raise StripeError(400, "Invalid recurring[interval]", param="recurring[interval]")
                recurring = {
                    "interval": recurring["interval"],
                    "interval_count": as_int(recurring.get("interval_count", 1), "recurring[interval_count]"),
                    "meter": None,
                    "trial_period_days": None,
                    "usage_type": recurring.get("usage_type", "licensed"),
                }
            lookup_key = params.get("lookup_key") or None
            if lookup_key:
                transfer = as_bool(params.get("transfer_lookup_key", False), "transfer_lookup_key")
                self._take_lookup_key(lookup_key, transfer=transfer)
            amount = as_int(params["unit_amount"], "unit_amount")
            price = {
                "active": as_bool(params.get("active", True), "active"),
                "billing_scheme": "per_unit",
                "created": now,
                "currency": str(params["currency"]).lower(),
                "custom_unit_amount": None,
                "id": new_id("price_"),
                "livemode": False,
                "lookup_key": lookup_key,
                "metadata": merge_metadata({}, params.get("metadata")),
                "nickname": params.get("nickname") or None,
                "object": "price",
                "product": product["id"],
                "recurring": recurring,
                "tax_behavior": params.get("tax_behavior") or "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "recurring" if recurring else "one_time",
                "unit_amount": amount,
                "unit_amount_decimal": str(amount),
            }
            self._store("price", price)
            self._emit("price.created", price)
            return self.render(price["id"])

    def price_update(self, price_id: str, params: dict) -> dict:
        check_params(
            params, ("active", "lookup_key", "transfer_lookup_key", "nickname", "metadata", "tax_behavior")
        )
        with self.lock:
            price = self._get("price", price_id)
            previous = {}
            transfer = as_bool(params.get("transfer_lookup_key", False), "transfer_lookup_key")
            for key, value in params.items():
                if key == "transfer_lookup_key":
                    continue
                if key == "metadata":
                    new = merge_metadata(price["metadata"], value)
                elif key == "active":
                    new = as_bool(value, key)
                else:
                    new = value or None
                if key == "lookup_key" and new:
                    self._take_lookup_key(new, transfer=transfer, to=price)
                if price.get(key) != new:
                    previous[key] = copy.deepcopy(price.get(key))
                    price[key] = new
            if previous:
                self._emit("price.updated", price, previous)
            return self.render(price_id)

    def _take_lookup_key(self, lookup_key: str, *, transfer: bool, to: dict | None = None) -> None:
        """A lookup key names one price: the price holding it gives it up (`price.updated`) when
        the request transfers it, else the request is refused."""
        holder = next((p for p in self._all("price") if p["lookup_key"] == lookup_key and p is not to), None)
        if holder is None:
            return
        if not transfer:
            raise StripeError(
                400, f"A price (`{holder['id']}`) already uses that lookup key.", param="lookup_key"
            )
        holder["lookup_key"] = None
        self._emit("price.updated", holder, {"lookup_key": lookup_key})

    def price_list(self, params: dict) -> dict:
        check_params(
            params,
            (
                "active",
                "lookup_keys",
                "product",
                "type",
                "currency",
                "recurring",
                "limit",
                "starting_after",
                "ending_before",
                "created",
            ),
        )
        with self.lock:
            prices = _active_and_named(self._all("price"), params, "lookup_keys", "lookup_key")
            prices = matching(prices, params, "product", "type", "currency")
            return self.paginate(prices, params, "/v1/prices")

    @staticmethod
    def _plan_from_price(price: dict) -> dict:
        recurring = price["recurring"] or {}
        return {
            "active": price["active"],
            "amount": price["unit_amount"],
            "amount_decimal": price["unit_amount_decimal"],
            "billing_scheme": price["billing_scheme"],
            "created": price["created"],
            "currency": price["currency"],
            "id": price["id"],
            "interval": recurring.get("interval"),
            "interval_count": recurring.get("interval_count"),
            "livemode": False,
            "metadata": copy.deepcopy(price["metadata"]),
            "meter": None,
            "nickname": price["nickname"],
            "object": "plan",
            "product": price["product"],
            "tiers_mode": None,
            "transform_usage": None,
            "trial_period_days": None,
            "usage_type": recurring.get("usage_type", "licensed"),
        }

"""Constants and helpers shared by the Stripe simulator's modules: ids, Stripe's errors,
parameter parsing. Framework-free. Values the project's settings hold (the API version, the
simulator's API key) are not repeated here: the simulator reads them from Django settings
(state.py)."""

from __future__ import annotations

import calendar
import secrets
import string
from collections.abc import Iterable
from datetime import UTC, datetime

ACCOUNT_ID = "acct_1QbSimulatorAcct"
ALNUM = string.ascii_letters + string.digits
PAYMENT_FAILED_MESSAGE = "Your card was declined."

PREFIX_KIND = {
    "cus_": "customer",
    "prod_": "product",
    "price_": "price",
    "cs_": "checkout.session",
    "sub_": "subscription",
    "in_": "invoice",
    "bps_": "billing_portal.session",
    "we_": "webhook_endpoint",
    "evt_": "event",
    "pi_": "payment_intent",
    "ch_": "charge",
    "inpay_": "invoice_payment",
    "re_": "refund",
    "du_": "dispute",
    "txn_": "balance_transaction",
    "pm_": "payment_method",
}
KIND_NAME = {  # as Stripe spells them in "No such ..." messages
    "customer": "customer",
    "product": "product",
    "price": "price",
    "checkout.session": "checkout.session",
    "subscription": "subscription",
    "invoice": "invoice",
    "billing_portal.session": "billing_portal.session",
    "webhook_endpoint": "webhook endpoint",
    "event": "event",
    "payment_intent": "payment_intent",
    "charge": "charge",
    "invoice_payment": "invoice_payment",
    "refund": "refund",
    "dispute": "dispute",
    "balance_transaction": "balance transaction",
    "payment_method": "PaymentMethod",
}


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(length))


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    """Calendar arithmetic as Stripe bills: Jan 31 + 1 month = Feb 28/29."""
    if interval == "day":
        return ts + 86400 * count
    if interval == "week":
        return ts + 7 * 86400 * count
    months = count * (12 if interval == "year" else 1)
    dt = datetime.fromtimestamp(ts, UTC)
    month_index = dt.month - 1 + months
    year, month = dt.year + month_index // 12, month_index % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    if currency == "usd":
        return f"{sign}${abs(amount) / 100:,.2f}"
    return f"{sign}{abs(amount) / 100:,.2f} {currency.upper()}"


def day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%-d %B %Y")


class StripeError(Exception):
    """An error the simulator answers the way Stripe does: HTTP status + error JSON."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> dict:
        error = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        return {"error": error}


def card_declined() -> StripeError:
    """The 402 a declined card answers (the simulator's cards decline generically)."""
    return StripeError(
        402, PAYMENT_FAILED_MESSAGE, type="card_error", code="card_declined", decline_code="generic_decline"
    )


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404, f"No such {KIND_NAME.get(kind, kind)}: '{object_id}'", code="resource_missing", param=param
    )


def unknown_parameter(name: str) -> StripeError:
    return StripeError(
        400,
        f"Received unknown parameter: {name}. (Stripe simulator: this parameter is not modelled; "
        "extend stripe_simulator if the app needs it.)",
        param=name,
    )


def as_bool(value, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1"):
        return True
    if value in ("false", "False", "0", ""):
        return False
    raise StripeError(400, f"Invalid boolean: {value}", param=param)


def as_int(value, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


def as_list(value, param: str) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, dict):  # a[0]=x&a[1]=y parsed as {"0": x, "1": y}
        return [value[k] for k in sorted(value, key=lambda k: int(k) if str(k).isdigit() else 0)]
    if isinstance(value, list):
        return value
    return [value]


def matching(objects: list[dict], params: dict, *fields: str) -> list[dict]:
    """Stripe's list filters by equality: each of `fields` given in `params` keeps the objects
    whose field holds that value."""
    for field in fields:
        if params.get(field) not in (None, ""):
            objects = [o for o in objects if o[field] == params[field]]
    return objects


def merge_metadata(current: dict | None, new) -> dict:
    """Stripe's metadata update: keys merge, an empty string unsets a key or, whole, all keys."""
    result = dict(current or {})
    if new in ("", None):
        return {} if new == "" else result
    if not isinstance(new, dict):
        raise StripeError(400, "Invalid object", param="metadata")
    for key, value in new.items():
        if value in ("", None):
            result.pop(key, None)
        else:
            result[str(key)] = str(value)
    return result


def missing_param(name: str) -> StripeError:
    return StripeError(400, f"Missing required param: {name}.", param=name)


def check_params(params: dict, allowed: Iterable[str], *, required: Iterable[str] = ()) -> None:
    """Stripe's first checks on a request: every parameter is known, the required ones are given."""
    allowed = set(allowed) | {"expand"}
    for name in params:
        if name not in allowed:
            raise unknown_parameter(name)
    for name in required:
        if params.get(name) in (None, ""):
            raise missing_param(name)


PAYMENT_BEHAVIORS = ("allow_incomplete", "error_if_incomplete", "default_incomplete", "pending_if_incomplete")
PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")


def one_of(params: dict, name: str, choices: tuple[str, ...]) -> str:
    """An enum parameter: its value (an empty one is Stripe's default, the first choice), or 400."""
    value = params.get(name) or choices[0]
    if value not in choices:
        raise StripeError(400, f"Invalid {name}: {value}", param=name)
    return value


def only_modelled(params: dict, name: str, value: str) -> None:
    """Refuse, loudly, a parameter value the simulator does not model (Stripe's default: `value`)."""
    if params.get(name, value) != value:
        raise StripeError(400, f"Stripe simulator: only {name}={value} is modelled", param=name)

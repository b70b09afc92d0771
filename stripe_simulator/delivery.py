"""Webhook signing and delivery, as Stripe does it.

Each event is POSTed as JSON to every enabled endpoint whose `enabled_events` match, with
`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is
the real wall-clock time (not the simulator's clock), because the receiver checks it against
its own clock.

Modes:
- normal: a background worker delivers in emission order; `flush()` waits for it. Stripe-side
  actions flush before they return; events caused by API calls are delivered asynchronously
  (as Stripe does), so a test calls `simulator.flush()` when it needs them delivered.
- held: inside `with simulator.hold_webhooks():` deliveries are kept back. `pending_events()`
  lists them; `deliver(events, times=2, shuffle=True, concurrently=True)` sends them in any
  order, any number of times, from parallel threads; `deliver()` with no events sends all.
  Held deliveries left when the block exits stay pending until delivered.
Every attempt is recorded; failed ones (non-2xx or no answer) are listed by `failed()` and can
be sent again with `redeliver(event_id)`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Delivery:
    event: dict
    endpoint_id: str
    url: str
    held: bool = False
    attempts: list[dict] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return any(200 <= (a["status"] or 0) < 300 for a in self.attempts)


class WebhookOutbox:
    def __init__(self, simulator, timeout: float = 30.0):
        self.simulator = simulator
        self.timeout = timeout
        self.cv = threading.Condition()
        self.worker: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        with self.cv:
            self.queue: deque[Delivery] = deque()
            self.deliveries: list[Delivery] = []
            self.hold_depth = 0
            self.batch_depth = 0
            self.in_flight = 0

    # ------------------------------------------------------------- producing

    def enqueue(self, event: dict, endpoints: list[dict]) -> None:
        with self.cv:
            for endpoint in endpoints:
                delivery = Delivery(
                    event=event, endpoint_id=endpoint["id"], url=endpoint["url"], held=self.hold_depth > 0
                )
                self.deliveries.append(delivery)
                if not delivery.held:
                    self.queue.append(delivery)
            if self.queue:
                self._ensure_worker()
                self.cv.notify_all()

    def move_before(self, event_id: str, before_event_id: str) -> None:
        """Reorder a not-yet-sent delivery (used to send events in Stripe's usual order)."""
        with self.cv:
            for container in (self.queue, self.deliveries):
                items = list(container)
                moving = [d for d in items if d.event["id"] == event_id]
                rest = [d for d in items if d.event["id"] != event_id]
                index = next((i for i, d in enumerate(rest) if d.event["id"] == before_event_id), None)
                if index is None or not moving:
                    continue
                reordered = rest[:index] + moving + rest[index:]
                container.clear()
                container.extend(reordered)

    @contextmanager
    def batch(self):
        """Deliver nothing until the block ends, so one action's events go out together, in order."""
        with self.cv:
            self.batch_depth += 1
        try:
            yield self
        finally:
            with self.cv:
                self.batch_depth -= 1
                self.cv.notify_all()

    @contextmanager
    def hold(self):
        with self.cv:
            self.hold_depth += 1
        try:
            yield self
        finally:
            with self.cv:
                self.hold_depth -= 1

    # ------------------------------------------------------------ delivering

    def _ensure_worker(self) -> None:
        if self.worker is None or not self.worker.is_alive():
            self.worker = threading.Thread(target=self._run, name="stripe-simulator-webhooks", daemon=True)
            self.worker.start()

    def _run(self) -> None:
        while True:
            with self.cv:
                while not self.queue or self.batch_depth:
                    if not self.cv.wait(timeout=30) and not self.queue:
                        self.worker = None
                        return
                delivery = self.queue.popleft()
                self.in_flight += 1
            try:
                self.send(delivery)
            finally:
                with self.cv:
                    self.in_flight -= 1
                    self.cv.notify_all()

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every queued (not held) delivery has been attempted."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while self.queue or self.in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("Stripe simulator: webhook deliveries did not finish in time")
                self.cv.wait(timeout=remaining)

    def send(self, delivery: Delivery) -> int | None:
        """POST one delivery now; records and returns the HTTP status (None: no answer)."""
        if not delivery.url.startswith(("http://", "https://")):
            raise ValueError(f"Stripe simulator: webhook URL must be http(s): {delivery.url}")
        secret = self.simulator.webhook_secret(delivery.endpoint_id)
        payload = json.dumps(delivery.event, indent=2)
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            delivery.url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign(payload, secret),
            },
        )
        status, error = None, None
        for pause in (0.05, 0.2, 0.5, None):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - loopback URL
                    status = response.status
            except urllib.error.HTTPError as exc:
                status, error = exc.code, exc.read(2000).decode(errors="replace")
            except (urllib.error.URLError, OSError) as exc:
                error = str(exc)
                # A reset while connecting is the receiver's full accept queue (many concurrent
                # deliveries into a small test server), not an answer: try that connection again.
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, ConnectionResetError) and pause is not None:
                    time.sleep(pause)
                    continue
            break
        with self.cv:
            delivery.attempts.append({"status": status, "error": error, "at": time.time()})
        return status

    # -------------------------------------------------- test controls

    def pending_events(self) -> list[dict]:
        with self.cv:
            seen, events = set(), []
            for delivery in self.deliveries:
                if delivery.held and delivery.event["id"] not in seen:
                    seen.add(delivery.event["id"])
                    events.append(delivery.event)
            return events

    def deliver(
        self,
        events=None,
        *,
        times: int = 1,
        shuffle: bool = False,
        concurrently: bool = False,
        seed: int | None = None,
    ) -> list[int | None]:
        """Send held deliveries (all, or those of `events`: event dicts, ids or types)."""
        with self.cv:
            held = [d for d in self.deliveries if d.held]
            if events is not None:
                wanted = {e if isinstance(e, str) else e["id"] for e in events}
                held = [d for d in held if d.event["id"] in wanted or d.event["type"] in wanted]
            for delivery in held:
                delivery.held = False
        batch = [d for d in held for _ in range(times)]
        if shuffle:
            random.Random(seed).shuffle(batch)
        if not concurrently:
            return [self.send(d) for d in batch]
        results: list[int | None] = [None] * len(batch)
        barrier = threading.Barrier(len(batch)) if batch else None

        def run(index: int, delivery: Delivery) -> None:
            barrier.wait()
            results[index] = self.send(delivery)

        threads = [threading.Thread(target=run, args=(i, d)) for i, d in enumerate(batch)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def redeliver(self, event_id: str) -> list[int | None]:
        """Send an event again to the endpoints it was meant for (Stripe's "Resend")."""
        with self.cv:
            targets = {d.endpoint_id: d for d in self.deliveries if d.event["id"] == event_id}
        if not targets:
            raise KeyError(f"Stripe simulator: no delivery recorded for event {event_id}")
        return [self.send(d) for d in targets.values()]

    def failed(self) -> list[dict]:
        with self.cv:
            return [
                {
                    "event_id": d.event["id"],
                    "type": d.event["type"],
                    "url": d.url,
                    "attempts": list(d.attempts),
                }
                for d in self.deliveries
                if d.attempts and not d.succeeded and not d.held
            ]

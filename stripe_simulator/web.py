"""What the simulator's API (api.py) and hosted pages (pages.py) share: the `Response` they
answer with and the id pattern of their routes."""

from __future__ import annotations

ID = r"(?P<id>[A-Za-z0-9_]+)"


class Response:
    def __init__(self, status: int, body: str | bytes, content_type: str, headers: list | None = None):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = [("Content-Type", content_type), *(headers or [])]

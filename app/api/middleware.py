"""One ASGI middleware for what every request needs before routing: a request id echoed in
X-Request-ID and a structured access log line, security headers, the body size limit and a
per-client rate limit. Pure ASGI, so it adds almost nothing to a request's cost."""

import hashlib
import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

log = logging.getLogger("policydb.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class TokenBuckets:
    """A token bucket per client, the least recently seen forgotten beyond ``capacity``."""

    def __init__(self, rate: float, burst: int, capacity: int = 10_000) -> None:
        self.rate, self.burst, self.capacity = rate, burst, capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, now: float) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return wait


def _problem(status: int, title: str, detail: str, path: str) -> bytes:
    return json.dumps(
        {
            "type": "urn:policydb:problem:" + title.lower().replace(" ", "-"),
            "title": title,
            "status": status,
            "detail": detail,
            "instance": path,
        }
    ).encode()


class GuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.buckets = (
            TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
            if settings.rate_limit_per_second > 0
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        incoming_id = headers.get("x-request-id", "")
        request_id = incoming_id if _REQUEST_ID.match(incoming_id) else uuid.uuid4().hex
        path: str = scope["path"]
        client = _client(scope, headers)
        status_holder = {"status": 500}
        docs = path.startswith(("/docs", "/redoc", "/static-offline-docs"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [
                    (b"x-request-id", request_id.encode()),
                    *_SECURITY_HEADERS,
                    (b"content-security-policy", (_DOCS_CSP if docs else _API_CSP).encode()),
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        async def refuse(status: int, title: str, detail: str, extra: list[Any]) -> None:
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/problem+json"), *extra],
                }
            )
            await send_with_headers(
                {"type": "http.response.body", "body": _problem(status, title, detail, path)}
            )

        try:
            wait = self.buckets.take(client, time.monotonic()) if self.buckets else 0.0
            declared = headers.get("content-length", "")
            if wait > 0:
                await refuse(
                    429,
                    "Too many requests",
                    "rate limit exceeded; retry after the number of seconds in Retry-After",
                    [(b"retry-after", str(max(1, round(wait))).encode())],
                )
            elif declared.isdigit() and int(declared) > self.max_body:
                await refuse(
                    413,
                    "Request too large",
                    f"the body is {declared} bytes; at most {self.max_body} are accepted",
                    [],
                )
            elif not declared and scope["method"] in ("POST", "PUT", "PATCH"):
                # No declared length (chunked): read the body here, up to the limit, and
                # replay it to the app, so an oversized one is refused before any work.
                body = await self._read_limited(receive)
                if body is None:
                    await refuse(
                        413,
                        "Request too large",
                        f"the body exceeds {self.max_body} bytes",
                        [],
                    )
                else:
                    await self.app(scope, _replay(body, receive), send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": path,
                        "status": status_holder["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client,
                    }
                )
            )

    async def _read_limited(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it grows past the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # e.g. http.disconnect

    return replay


def _client(scope: Scope, headers: dict[str, str]) -> str:
    """Who a request counts against: its API key if it sends one, else its address."""
    authorization = headers.get("authorization", "")
    if authorization:
        return "key:" + hashlib.sha256(authorization.encode()).hexdigest()[:16]
    host = scope.get("client")
    return f"ip:{host[0]}" if host else "ip:unknown"

"""One ASGI middleware for what every request needs before routing: a request id echoed in
X-Request-ID and a structured access log line, security headers, the body size limit and a
per-client rate limit. Pure ASGI, so it adds almost nothing to a request's cost."""

import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import serves
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


# Probes answer whoever asks, however often: a load balancer must never be rate limited.
_UNLIMITED = frozenset({"/healthz", "/readyz"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that only read (the Reconciliation API sends its queries as a form): no key needed.
_READING_POSTS = frozenset({"/api/v1/reconcile"})
# Bodies of these are whole datasets, read as a stream by the import (up to max_body_bytes);
# every other body is one record or a key, held to max_record_body_bytes.
_BULK_PATHS = frozenset({"/api/v1/import"})

_REFUSALS = {401: "Authentication required", 403: "API key revoked", 503: "Service unavailable"}

KeyCheck = Callable[[Scope, str], Awaitable["KeyVerdict"]]


@dataclass(frozen=True)
class KeyVerdict:
    """What an Authorization header turned out to be."""

    name: str | None  # the key's name, if the header holds a valid, unrevoked key
    status: int = 200  # 401 unknown, 403 revoked
    detail: str = ""


# (status, title, detail, extra headers) of a request refused before the app sees it.
Refusal = tuple[int, str, str, list[tuple[bytes, bytes]]]


def _key_refusal(verdict: KeyVerdict | None) -> Refusal:
    if verdict is None:
        status, detail = 401, "this request needs an API key: Authorization: Bearer <key>"
    else:
        status, detail = verdict.status, verdict.detail
    extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
    if status == 503:
        extra = [(b"retry-after", b"5")]
    return status, _REFUSALS[status], detail, extra


class _Response:
    """The way back to the client: every response start gets the request id and security
    headers, and its status is kept for the access log."""

    def __init__(self, send: Send, request_id: str, path: str) -> None:
        self._send = send
        self.request_id = request_id
        self.path = path
        self.docs = path.startswith(("/docs", "/redoc", "/static-offline-docs"))
        self.status = 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            extra = [
                (b"x-request-id", self.request_id.encode()),
                *_SECURITY_HEADERS,
                (b"content-security-policy", (_DOCS_CSP if self.docs else _API_CSP).encode()),
            ]
            message["headers"] = [*message.get("headers", []), *extra]
        await self._send(message)

    async def refuse(
        self, status: int, title: str, detail: str, extra: list[tuple[bytes, bytes]]
    ) -> None:
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/problem+json"), *extra],
            }
        )
        await self.send(
            {"type": "http.response.body", "body": _problem(status, title, detail, self.path)}
        )


class GuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, check_key: KeyCheck) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.max_record_body = settings.max_record_body_bytes
        self.max_depth = settings.max_json_depth
        self.check_key = check_key
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
        client = _address(scope)
        response = _Response(send, request_id, path)
        try:
            # Who the request really is: a verified key's name, else the connecting address
            # (a proxy's X-Forwarded-For counts only when the server was told to trust it,
            # see POLICYDB_TRUSTED_PROXIES). An unverified Authorization header is no one.
            authorization = headers.get("authorization", "")
            verdict = await self.check_key(scope, authorization) if authorization else None
            if verdict is not None and verdict.name is not None:
                client = f"key:{verdict.name}"
            refusal = self._refusal(scope, headers, client, verdict)
            if refusal is not None:
                await response.refuse(*refusal)
            else:
                await self._forward(scope, receive, response, headers.get("content-length", ""))
        finally:
            log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": path,
                        "status": response.status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client,
                    }
                )
            )

    def _body_limit(self, path: str) -> int:
        return self.max_body if path in _BULK_PATHS else self.max_record_body

    def _refusal(
        self, scope: Scope, headers: dict[str, str], client: str, verdict: KeyVerdict | None
    ) -> Refusal | None:
        """Why the request is refused before its body is read (None: it goes ahead)."""
        path: str = scope["path"]
        limited = self.buckets is not None and path not in _UNLIMITED
        wait = self.buckets.take(client, time.monotonic()) if limited and self.buckets else 0
        if wait > 0:
            return (
                429,
                "Too many requests",
                "rate limit exceeded; retry after the number of seconds in Retry-After",
                [(b"retry-after", str(max(1, round(wait))).encode())],
            )
        write = (
            scope["method"] in _WRITES
            and path.startswith("/api/")
            and path.rstrip("/") not in _READING_POSTS
        )
        if write and (verdict is None or verdict.name is None) and serves(scope["app"], scope):
            # Every write needs a key: refused before a byte of the body is read.
            return _key_refusal(verdict)
        declared = headers.get("content-length", "")
        limit = self._body_limit(path)
        if declared and not (declared.isascii() and declared.isdigit()):
            return 400, "Bad request", "the Content-Length header is not a number", []
        if declared and int(declared) > limit:
            return (
                413,
                "Request too large",
                f"the body is {declared} bytes; at most {limit} are accepted here",
                [],
            )
        return None

    async def _forward(
        self, scope: Scope, receive: Receive, response: _Response, declared: str
    ) -> None:
        """Hand the request to the app, a body read here first where it must be checked."""
        path: str = scope["path"]
        limit = self._body_limit(path)
        has_body = scope["method"] in ("POST", "PUT", "PATCH")
        if has_body and path not in _BULK_PATHS:
            # A record's body is read here, up to its limit, and its nesting checked
            # before any parser builds it; then it is replayed to the app.
            body = await self._read_limited(receive, limit)
            problem = None
            if body is None:
                problem = (413, "Request too large", f"the body exceeds {limit} bytes")
            elif (depth := await self._too_deep(body)) is not None:
                problem = (400, "Bad request", depth)
            if problem is not None:
                await response.refuse(*problem, [])
            else:
                await self.app(scope, _replay(body or b"", receive), response.send)
        elif not declared and has_body:
            # An import without a declared length (chunked): read it here, up to the
            # limit, and replay it, so an oversized one is refused before any work.
            body = await self._read_limited(receive, limit)
            if body is None:
                await response.refuse(
                    413, "Request too large", f"the body exceeds {limit} bytes", []
                )
            else:
                await self.app(scope, _replay(body, receive), response.send)
        elif scope["method"] == "HEAD" and serves(scope["app"], {**scope, "method": "GET"}):
            # HEAD is the GET without its body, wherever there is a GET (RFC 9110 9.3.2);
            # the headers, Content-Length included, are the GET's.
            await self.app({**scope, "method": "GET"}, receive, _headers_only(response.send))
        else:
            await self.app(scope, receive, response.send)

    async def _too_deep(self, body: bytes) -> str | None:
        # A large body is scanned off the event loop (a megabyte takes up to ~0.1 s).
        if len(body) <= 64 * 1024:
            return json_depth_exceeds(body, self.max_depth)
        return await run_in_threadpool(json_depth_exceeds, body, self.max_depth)

    async def _read_limited(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None as soon as it grows past ``limit``."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _headers_only(send: Send) -> Send:
    """``send`` with every body left out (the answer to a HEAD)."""

    async def send_headers(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return send_headers


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # e.g. http.disconnect

    return replay


def _address(scope: Scope) -> str:
    """The connecting address (uvicorn has already applied trusted proxies' headers)."""
    host = scope.get("client")
    return f"ip:{host[0]}" if host else "ip:unknown"


def json_depth_exceeds(body: bytes, max_depth: int) -> str | None:
    """Why a JSON body nests deeper than ``max_depth`` (None if it does not).

    Brackets inside strings do not count; the scan stops at the first one too deep, so a
    hostile body costs one pass over at most its first few kilobytes.
    """
    depth = 0
    for match in _STRUCTURE.finditer(body):
        token = match.group()
        if token in (b"{", b"["):
            depth += 1
            if depth > max_depth:
                return f"the body nests deeper than {max_depth} levels (at byte {match.start()})"
        elif token in (b"}", b"]"):
            depth -= 1
    return None


# A JSON string (skipped whole) or a bracket.
# A JSON string (skipped whole; possessive, and an unterminated one runs to the end, so the
# scan never backtracks) or a bracket.
_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.|\\\Z)*+(?:"|\Z)|[\[\]{}]')

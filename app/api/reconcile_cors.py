"""CORS for the reconciliation service only (the Reconciliation API requires it; the rest of
the API keeps CORS off unless POLICYDB_CORS_ORIGINS is set).

It sits outside every other middleware, so problem answers (400, 413, 429 ...) carry the
header too, and it answers preflights itself. Previews are also allowed to be framed:
OpenRefine shows them in an iframe.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PATH = "/api/v1/reconcile"
PREVIEW = PATH + "/preview"
_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"X-Request-ID, Retry-After"),
]
_PREVIEW_CSP = b"default-src 'none'; style-src 'unsafe-inline'"
_PREFLIGHT = [
    *_CORS,
    (b"access-control-allow-methods", b"GET, POST"),
    (b"access-control-allow-headers", b"Content-Type"),
    (b"access-control-max-age", b"600"),
]


class ReconcileCORS:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PATH or path.startswith(PATH + "/")):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
            await send({"type": "http.response.body", "body": b""})
            return
        preview = path == PREVIEW

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                drop = {name for name, _ in _CORS}
                if preview:
                    drop |= {b"x-frame-options", b"content-security-policy"}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in drop]
                if preview:
                    kept.append((b"content-security-policy", _PREVIEW_CSP))
                message["headers"] = kept + _CORS
            await send(message)

        await self.app(scope, receive, send_with_cors)

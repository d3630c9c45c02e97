"""The MCP server at /mcp over streamable HTTP (stateless, JSON answers), behind the API's
own middleware."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.config import Settings


class _Endpoint:
    """The ASGI app at /mcp: the running session manager (one per app lifespan)."""

    def __init__(self) -> None:
        self.manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.manager is None:  # the app was not started (no lifespan)
            body = json.dumps(
                {
                    "type": "urn:policydb:problem:service-unavailable",
                    "title": "Service Unavailable",
                    "status": 503,
                    "detail": "the MCP server is not running (the app was not started)",
                    "instance": scope.get("path", "/mcp"),
                }
            ).encode()
            headers = [(b"content-type", b"application/problem+json"), (b"retry-after", b"5")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.manager.handle_request(scope, receive, send)


def mount_server(app: FastAPI, settings: Settings, server: MCPServer) -> None:
    """Serve ``server`` at /mcp over streamable HTTP (stateless; read-only tools)."""
    endpoint = _Endpoint()
    # Stateless JSON answers: no GET event stream (one would stay open per client for free).
    app.router.routes.append(Route("/mcp", endpoint=endpoint, methods=["POST", "DELETE"]))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        # A session manager runs once; each start of the app gets its own.
        endpoint.manager = StreamableHTTPSessionManager(
            app=server._lowlevel_server,
            json_response=True,
            stateless=True,
            max_request_body_size=min(settings.max_body_bytes, 1024 * 1024),
            # Reads are open to anyone who can reach the API, as they are over REST.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        try:
            async with outer(a) as state, endpoint.manager.run():
                yield state
        finally:
            endpoint.manager = None

    app.router.lifespan_context = lifespan

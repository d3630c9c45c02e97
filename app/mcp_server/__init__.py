"""policydb for AI agents: a read-only MCP server (the official ``mcp`` SDK).

``policydb mcp`` serves it over stdio; ``create_app`` mounts the same server at ``/mcp`` over
streamable HTTP (``over_http``: stateless, JSON answers), behind the API's own middleware
(rate limit, body limit, request ids). Every tool (``tools``: what agents see) calls the
services the HTTP routes call (``records``, ``explore``: the answers), within the same
limits (page sizes, graph depth and size, the per-request database time limit), and answers
structured content with an output schema (``shapes``). Records carry their citations inline;
long lists are trimmed (``max_items``, default 5) and ``truncated`` says how long each list
really is.
"""

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer

from app.config import Settings
from app.mcp_server.context import SessionFactory, ToolContext
from app.mcp_server.over_http import mount_server
from app.mcp_server.tools import register_tools

__all__ = ["build_server", "mount"]


def build_server(settings: Settings, session_factory: SessionFactory) -> MCPServer:
    """The MCP server; ``session_factory`` is asked for the sessionmaker at each call."""
    server = MCPServer(
        name="policydb",
        title="policydb",
        instructions="A cited database of public policy: policies, the actors behind them, "
        "the regions they apply to, the goals they set and the sources that state each fact. "
        "Search first, then get records by type and slug; every fact carries citations "
        "(source, section, paragraph, verbatim excerpt). Read-only.",
        version="0.1.0",
    )
    register_tools(server, ToolContext(settings, session_factory))
    return server


def mount(app: FastAPI, settings: Settings, session_factory: SessionFactory) -> None:
    """Serve the MCP server at /mcp over streamable HTTP (stateless; read-only tools)."""
    mount_server(app, settings, build_server(settings, session_factory))

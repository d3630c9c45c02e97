"""The FastAPI application, built from Settings (nothing connects until a request needs it)."""

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app import mcp_server
from app.api.deps import get_session_factory, key_check, read_slots
from app.api.middleware import GuardMiddleware
from app.api.openapi import finish_openapi
from app.api.problems import COMMON_PROBLEMS, install_problem_handlers, problem_responses
from app.api.reconcile_cors import ReconcileCORS
from app.api.routes import admin, bundle, explore, linked, meta, reconcile, records, sources
from app.config import Settings, get_settings
from app.db import make_engine, make_session_factory

DESCRIPTION = """
A structured, cited database of public policy: **policies** (plans, laws, measures, funds,
zones, sanctions, initiatives), the **actors** behind them, the **regions** they apply to, the
**goals** they set, and the **sources** that state each fact.

* Reads are open; writes need `Authorization: Bearer <key>` (`policydb keys create NAME`).
* Lists page with an opaque `cursor` (see `next` and the `Link` header), sort with
  `sort=-announced,title`, and skip the total with `count=false`.
* Dates may be known only to the year or month (`"2019"`, `"2019-07"`); date filters match
  by overlap, so `announced_from=2019` matches `"2019-07"` and a filter for July 2019 matches
  a policy dated just `"2019"`.
* Every error is RFC 9457 `application/problem+json`.
"""


def configure_logging() -> None:
    """Plain lines on stderr: `policydb.access {json}` per request (app/api/middleware.py).

    Called by `policydb serve` and in each worker process before the app is built, so that
    no library (the MCP SDK would install rich's handler) configures the root logger first.
    """
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPIOffline(
        title="policydb",
        version="0.1.0",
        description=DESCRIPTION,
        favicon_url=None,
        responses=problem_responses(*COMMON_PROBLEMS),
    )
    app.add_middleware(GuardMiddleware, settings=settings, check_key=key_check(app))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Link", "Location", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(ReconcileCORS)  # outermost: problems carry the header too
    app.state.settings = settings
    # As many pooled connections as worker threads that may hold one (anyio's default is
    # 40, with the overflow): under load, connections are reused, never opened and closed
    # per request (a new SQLite connection also starts with a cold page cache).
    app.state.engine = make_engine(settings.database_url, serving=True, pool_size=32)
    app.state.read_slots = read_slots(settings, app.state.engine.dialect.name)
    app.state.session_factory = make_session_factory(app.state.engine)
    install_problem_handlers(app)
    app.include_router(records.router)
    app.include_router(sources.router)
    app.include_router(linked.router)
    app.include_router(bundle.router)
    app.include_router(admin.router)
    app.include_router(explore.router)
    app.include_router(meta.router)
    app.include_router(reconcile.router)
    mcp_server.mount(app, settings, lambda: _session_factory(app))
    finish_openapi(app)
    return app


def _session_factory(app: FastAPI) -> Any:
    """The sessionmaker routes get (tests point it at their transaction by an override)."""
    override = app.dependency_overrides.get(get_session_factory)
    return override() if override else app.state.session_factory

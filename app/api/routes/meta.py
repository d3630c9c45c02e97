"""The API's front doors (`/`, the `/api/v1` index), vocabularies and health checks."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import SessionDep
from app.api.problems import problem_responses
from app.services.migrations import is_at_head
from app.vocabularies import VOCABULARIES, label

router = APIRouter()
API_PREFIX = "/api/v1"


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    """A browser landing on the server gets the interactive documentation."""
    return RedirectResponse("/docs", status_code=307)


class Collection(BaseModel):
    name: str
    href: str
    summary: str


class ApiIndex(BaseModel):
    collections: list[Collection]
    docs: str = "/docs"
    openapi: str = "/openapi.json"


@router.get(
    API_PREFIX,
    tags=["meta"],
    summary="Index of the API",
    description="Every collection under /api/v1 (a URL answering GET with no path "
    "parameter), with where the documentation and the OpenAPI document are.",
    response_model=ApiIndex,
)
async def api_index(request: Request) -> ApiIndex:
    # Read off the OpenAPI document, so a new collection is listed without anyone adding it.
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    collections = [
        Collection(
            name=path.removeprefix(API_PREFIX + "/"),
            href=path,
            summary=operations["get"].get("summary", ""),
        )
        for path, operations in paths.items()
        if path.startswith(API_PREFIX + "/") and "{" not in path and "get" in operations
    ]
    return ApiIndex(collections=collections)


class Term(BaseModel):
    value: str
    label: str


@router.get(
    "/api/v1/vocabularies",
    tags=["meta"],
    summary="Controlled vocabularies",
    description="Every controlled vocabulary (kinds, statuses, roles, relations, topics) "
    "with its values and labels.",
    response_model=dict[str, list[Term]],
)
def vocabularies() -> dict[str, list[Term]]:
    return {
        name: [Term(value=v.value, label=label(v.value)) for v in enum]
        for name, enum in VOCABULARIES.items()
    }


@router.get("/healthz", tags=["meta"], summary="Liveness", description="The process is up.")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["meta"],
    summary="Readiness",
    description="The database answers and its schema is migrated to the latest revision.",
    responses=problem_responses(503),
)
def readyz(request: Request, session: SessionDep) -> Any:
    try:
        session.execute(text("SELECT 1"))
        migrated = is_at_head(session.get_bind().engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return _not_ready(request, f"database unreachable: {type(exc).__name__}")
    if not migrated:
        return _not_ready(request, "database is not migrated to head: run `policydb db upgrade`")
    return {"status": "ready"}


def _not_ready(request: Request, detail: str) -> JSONResponse:
    from app.api.problems import problem_response

    return problem_response(request, 503, detail)

"""Vocabularies and health checks."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import SessionDep
from app.api.problems import problem_responses
from app.services.migrations import is_at_head
from app.vocabularies import VOCABULARIES, label

router = APIRouter()


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

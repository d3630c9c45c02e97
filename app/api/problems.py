"""Every error leaves as RFC 9457 application/problem+json; this is the only place that maps
domain errors to HTTP status codes."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.db import is_timeout
from app.errors import (
    BadQuery,
    Conflict,
    ErrorDetail,
    InsufficientScope,
    InvalidInput,
    KeyRevoked,
    NotAuthenticated,
    NotFound,
    PolicyDBError,
    PreconditionFailed,
    PreconditionRequired,
    QueryTimeout,
    TooLarge,
    pointer,
)
from app.safe_text import error_message

log = logging.getLogger("policydb")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:policydb:problem:"
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"

STATUS: dict[type[PolicyDBError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    BadQuery: 400,
    NotAuthenticated: 401,
    KeyRevoked: 403,
    TooLarge: 413,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    InsufficientScope: 403,
    QueryTimeout: 503,
}


class ProblemError(BaseModel):
    pointer: str = Field(description="JSON Pointer to the field at fault, e.g. /actors/0/role.")
    detail: str
    slug: str | None = None
    file: str | None = None
    line: int | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:policydb:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no policy with id or slug 'nope'"])
    instance: str | None = Field(default=None, examples=["/api/v1/policies/nope"])
    errors: list[ProblemError] = Field(default_factory=list)
    errors_total: int | None = Field(
        default=None,
        description="How many problems there were, when `errors` lists only the first ones.",
    )


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
    errors_total: int | None = None,
) -> JSONResponse:
    title = title or HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        # However many there were, an answer lists at most max_errors (and says how many).
        shown = request.app.state.settings.max_errors
        total = max(errors_total or 0, len(errors))
        body["errors"] = [e.as_dict() for e in errors[:shown]]
        if total > len(body["errors"]):
            body["errors_total"] = total
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PolicyDBError)
    status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
    headers: dict[str, str] | None = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, PreconditionFailed) and exc.current_etag:
        headers = {"ETag": exc.current_etag}
    elif status == 503:
        headers = {"Retry-After": "1"}
    return problem_response(
        request,
        status,
        exc.detail,
        title=exc.title,
        errors=exc.errors,
        headers=headers,
        errors_total=exc.errors_total,
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        ErrorDetail(pointer=pointer(*err["loc"]), detail=error_message(err)) for err in exc.errors()
    ]
    in_body = any(err["loc"][:1] == ("body",) for err in exc.errors())
    malformed = any(err["type"] == "json_invalid" for err in exc.errors())
    if in_body and not malformed:
        return problem_response(
            request, 422, "the request body is invalid", title="Invalid input", errors=errors
        )
    detail = "the request body is not valid JSON" if malformed else "invalid query parameters"
    return problem_response(request, 400, detail, title=BadQuery.title, errors=errors)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return problem_response(request, exc.status_code, detail, headers=headers or None)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route serves at this path (Starlette lists only one route's)."""
    allowed = {m for m in _METHODS if serves(request.app, {**request.scope, "method": m})}
    return allowed | {"HEAD"} if "GET" in allowed else allowed  # HEAD: see app/api/middleware.py


def serves(app: Any, scope: Any) -> bool:
    """Whether some route answers this method at this path (included routers too)."""
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if is_timeout(exc):
        return problem_response(
            request,
            503,
            "the query took longer than this server allows; narrow the filters or retry",
            title=QueryTimeout.title,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            request, 503, "the database is unavailable; retry shortly", headers={"Retry-After": "5"}
        )
    return _unexpected_error(request, exc)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Never leak a trace or SQL; the log has it.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "an unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PolicyDBError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)


# Answers any operation may give, documented on every one: a malformed request, a body over
# the size limit, input the data cannot take, the rate limit, and a query over its time limit.
COMMON_PROBLEMS = (400, 413, 422, 429, 503)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries documenting the problem+json answers of an endpoint."""
    # The schema sits under the media type the server sends (FastAPI's ``model`` would put it
    # under application/json, which no error ever is): generated clients then read errors.
    # app/api/openapi.py puts the Problem schema into the components.
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        for status in statuses
    }

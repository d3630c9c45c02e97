"""Domain errors. Services raise these; only app/api/problems.py turns them into HTTP."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.safe_text import error_message


@dataclass
class ErrorDetail:
    """One thing wrong with the input, and where (a JSON Pointer into the request or bundle)."""

    pointer: str
    detail: str
    slug: str | None = None
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def pointer(*parts: str | int) -> str:
    """RFC 6901 JSON Pointer: pointer("policies", 3, "actors") -> "/policies/3/actors"."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/" + "/".join(escaped) if parts else ""


# Problems kept per request or import, whatever the input (an answer lists fewer, see
# POLICYDB_MAX_ERRORS): a bundle of a million bad records must not take a million objects.
KEPT_ERRORS = 1000


class ErrorList(list[ErrorDetail]):
    """Errors as found: the first ``limit`` kept, every one counted in ``total``."""

    def __init__(self, errors: Iterable[ErrorDetail] = (), limit: int = KEPT_ERRORS) -> None:
        super().__init__()
        self.limit, self.total = limit, 0
        self.extend(errors)

    def append(self, error: ErrorDetail) -> None:
        self.total += 1
        if len(self) < self.limit:
            super().append(error)

    def extend(self, errors: Iterable[ErrorDetail]) -> None:
        for error in errors:
            self.append(error)


class PolicyDBError(Exception):
    """Base class of every error policydb reports to a user."""

    title = "Error"

    def __init__(self, detail: str, errors: list[ErrorDetail] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[ErrorDetail] = errors or []
        # How many problems there were (more than ``errors`` holds if they were capped).
        self.errors_total = errors.total if isinstance(errors, ErrorList) else len(self.errors)


class NotFound(PolicyDBError):
    title = "Not found"


class Conflict(PolicyDBError):
    title = "Conflict"


class InvalidInput(PolicyDBError):
    """A request body or bundle that cannot be written as it is."""

    title = "Invalid input"


class BadQuery(PolicyDBError):
    """Query parameters that cannot be answered (unknown filter value, tampered cursor ...)."""

    title = "Bad request"


class NotAuthenticated(PolicyDBError):
    title = "Authentication required"


class KeyRevoked(PolicyDBError):
    title = "API key revoked"


class TooLarge(PolicyDBError):
    title = "Request too large"


class PreconditionFailed(PolicyDBError):
    """The record changed since the client last saw it (If-Match did not match)."""

    title = "Precondition failed"

    def __init__(self, detail: str, current_etag: str | None = None) -> None:
        super().__init__(detail)
        self.current_etag = current_etag


class PreconditionRequired(PolicyDBError):
    title = "Precondition required"


class InsufficientScope(PolicyDBError):
    title = "Insufficient scope"


class QueryTimeout(PolicyDBError):
    """A query ran past the per-request time limit."""

    title = "Query took too long"


def validation_errors(
    exc: ValidationError, prefix: tuple[str | int, ...] = ()
) -> list[ErrorDetail]:
    """Pydantic's errors as ErrorDetails, every one with its location."""
    return [
        ErrorDetail(
            pointer=pointer(*prefix, *err["loc"]),
            detail=error_message(err),
        )
        for err in exc.errors()
    ]

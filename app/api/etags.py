"""Strong ETags and conditional requests (RFC 9110 section 13)."""

import hashlib
from collections.abc import Callable

from app.errors import PreconditionFailed, PreconditionRequired

Precondition = Callable[[], None]


def etag_of_body(body: bytes) -> str:
    """A strong ETag: it changes whenever any byte of the record's JSON would change."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match header names this ETag (or is ``*``)."""
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


def write_precondition(
    if_match: str | None, required: bool, current_etag: Callable[[], str]
) -> Precondition | None:
    """The If-Match check a write runs once it holds the write lock (None: no check)."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "this server requires If-Match on writes: GET the record and send its ETag"
            )
        return None

    def check() -> None:
        etag = current_etag()
        if not matches(if_match, etag):
            raise PreconditionFailed(
                "the record has changed since you fetched it (If-Match does not match); "
                "GET it again, re-apply your change and retry",
                current_etag=etag,
            )

    return check

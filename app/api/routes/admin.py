"""The changes feed and API key management."""

import re
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from app.api.deps import AdminKey, CodecDep, SessionDep, local_url, reject_unknown_query_params
from app.api.problems import problem_responses
from app.errors import BadQuery, ErrorDetail
from app.models import ApiKey
from app.safe_text import SAFE_TEXT_PATTERN
from app.schemas.common import Page
from app.schemas.history import ChangesPage
from app.services import history as history_service
from app.services import keys as key_service
from app.services.writes import begin_write

router = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query_params)])
CHANGES_SORT = "changes"


@router.get(
    "/changes",
    tags=["history"],
    response_model=ChangesPage,
    summary="Changes feed",
    description="Every create, update and delete, oldest first. Follow `next` until it is "
    "null: you have caught up. Then poll later with the returned `cursor` as `since` to "
    "receive only what changed after the last entry you saw (see the README).",
    responses=problem_responses(400),
)
def changes(
    request: Request,
    session: SessionDep,
    codec: CodecDep,
    since: Annotated[
        str | None,
        Query(
            description="Where to start: the `cursor` of a previous answer, or an RFC 3339 "
            "time (changes made after it); omit to start from the beginning.",
            examples=["2026-01-01T00:00:00Z"],
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="Entries per answer.", examples=[100])
    ] = 100,
) -> ChangesPage:
    moment = _moment(since)
    after = None
    if since and moment is None:
        after = codec.decode(since, CHANGES_SORT, [int], param="since")[0]
    entries, last, more = history_service.changes_since(
        session=session, after=after, after_time=moment, limit=limit
    )
    cursor = codec.encode(CHANGES_SORT, [last])
    next_url = None
    if more:
        url = request.url.remove_query_params("since").include_query_params(since=cursor)
        next_url = local_url(url)
    return ChangesPage(
        items=[history_service.entry_out(e) for e in entries], next=next_url, cursor=cursor
    )


_RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _moment(since: str | None) -> datetime | None:
    """``since`` as a moment when it is an RFC 3339 time (None: it is a cursor, or absent)."""
    if since is None or not _RFC_3339.match(since):
        return None
    try:
        return datetime.fromisoformat(since.upper().replace("Z", "+00:00"))
    except ValueError:
        raise BadQuery(
            "invalid time in since",
            [ErrorDetail(pointer="/query/since", detail="not a valid RFC 3339 time")],
        ) from None


class KeyIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=100, pattern=SAFE_TEXT_PATTERN, examples=["ingest-script"]
    )
    scope: Literal["read-write", "admin"] = "read-write"


class KeyOut(BaseModel):
    name: str
    scope: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, key: ApiKey) -> "KeyOut":
        return cls(
            name=key.name,
            scope=key.scope,
            prefix=key.prefix,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class NewKeyOut(KeyOut):
    key: str = Field(description="The secret: shown this once, stored only as a hash.")


@router.get(
    "/keys",
    tags=["keys"],
    response_model=Page[KeyOut],
    summary="List API keys",
    description="Needs an admin key. Names, scopes and prefixes; never the secrets.",
    responses=problem_responses(401, 403),
)
def list_keys(session: SessionDep, _admin: AdminKey) -> Page[KeyOut]:
    # The list envelope of every list, on one page: there are few keys.
    items = [KeyOut.from_model(k) for k in key_service.list_keys(session=session)]
    return Page(items=items, total=len(items), next=None, cursor=None)


@router.post(
    "/keys",
    tags=["keys"],
    response_model=NewKeyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
    description="Needs an admin key. The answer holds the new secret, shown only this once.",
    responses=problem_responses(401, 403, 409, 422),
)
def create_key(body: KeyIn, session: SessionDep, _admin: AdminKey) -> NewKeyOut:
    begin_write(session)
    key, secret = key_service.create_key(session=session, name=body.name, scope=body.scope)
    return NewKeyOut(**KeyOut.from_model(key).model_dump(), key=secret)


@router.delete(
    "/keys/{name:path}",
    tags=["keys"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    description="Needs an admin key. Requests with the revoked key get 403 from then on.",
    responses=problem_responses(401, 403, 404),
)
def revoke_key(
    name: Annotated[str, Path(description="The key's name.", examples=["ingest-script"])],
    session: SessionDep,
    _admin: AdminKey,
) -> Response:
    begin_write(session)
    key_service.revoke_key(session=session, name=name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

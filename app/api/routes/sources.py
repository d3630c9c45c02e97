"""What a source supports, page by page (a GET of the source embeds only the first ones)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.api.deps import (
    CodecDep,
    SessionDep,
    local_url,
    reading,
    record_key,
    reject_unknown_query_params,
)
from app.api.problems import problem_responses
from app.schemas.source import SupportsPage
from app.services.documents import record_id
from app.services.embedded import support_counts, supported_facts

router = APIRouter(
    prefix="/api/v1/sources",
    tags=["sources"],
    dependencies=[Depends(reject_unknown_query_params)],
)
SUPPORTS_SORT = "supports"


@router.get(
    "/{key}/supports",
    response_model=SupportsPage,
    summary="What a source supports",
    operation_id="supports_of_source",
    description="Every record and link that cites the source, oldest citation first, with "
    "the citation's section, paragraph and excerpt; `next` fetches the following page.",
    responses=problem_responses(400, 404),
)
def supports(
    key: Annotated[str, Depends(record_key("source", "digichina-2020-12-21-ai-self-reliance"))],
    request: Request,
    session: SessionDep,
    codec: CodecDep,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="Facts per page.", examples=[100])
    ] = 100,
    cursor: Annotated[
        str | None, Query(description="From the `next` link.", examples=[None])
    ] = None,
) -> SupportsPage:
    after = codec.decode(cursor, SUPPORTS_SORT, [int])[0] if cursor else 0
    with reading(request):
        source_id = record_id(session, "sources", key)
        facts, last = supported_facts(session, source_id, after=after, limit=limit)
        total = support_counts(session, [source_id]).get(source_id, 0)
    next_url = None
    if last is not None:
        token = codec.encode(SUPPORTS_SORT, [last])
        next_url = local_url(request.url.include_query_params(cursor=token))
    return SupportsPage.model_validate({"items": facts, "total": total, "next": next_url})

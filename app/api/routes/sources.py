"""What a source supports, page by page (a GET of the source embeds only the first ones)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api.deps import (
    IdPage,
    SessionDep,
    id_paging,
    reading,
    record_key,
    reject_unknown_query_params,
)
from app.api.problems import problem_responses
from app.resources import RESOURCES
from app.resources.sources import SupportsPage
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
    key: Annotated[str, Depends(record_key(RESOURCES["sources"]))],
    request: Request,
    session: SessionDep,
    page: Annotated[IdPage, Depends(id_paging(SUPPORTS_SORT, "Facts"))],
) -> SupportsPage:
    with reading(request):
        source_id = record_id(session, "sources", key)
        facts, last = supported_facts(session, source_id, after=page.after, limit=page.limit)
        total = support_counts(session, [source_id]).get(source_id, 0)
    return SupportsPage.model_validate(
        {"items": facts, "total": total, "next": page.next_url(last)}
    )

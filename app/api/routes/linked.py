"""The policies linked to a region or an actor, page by page (a GET of the record embeds only
the first ones)."""

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
from app.schemas.links import PolicyRefPage
from app.services.documents import record_id
from app.services.embedded import linked_policies
from app.services.resources import RESOURCES, ResourceName

router = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query_params)])
LINKS_SORT = "links"


def _add(resource: ResourceName, example: str) -> None:
    @router.get(
        f"/{resource}/{{key}}/policies",
        response_model=PolicyRefPage,
        tags=[resource],
        summary=f"Policies linked to one of the {resource}",
        operation_id=f"policies_of_{resource}",
        description="Every policy linked to the record, with its role, in the order the links "
        "were made; `next` fetches the following page.",
        responses=problem_responses(400, 404),
    )
    def policies(
        key: Annotated[str, Depends(record_key(RESOURCES[resource].singular, example))],
        request: Request,
        session: SessionDep,
        codec: CodecDep,
        limit: Annotated[
            int, Query(ge=1, le=1000, description="Policies per page.", examples=[100])
        ] = 100,
        cursor: Annotated[
            str | None, Query(description="From the `next` link.", examples=[None])
        ] = None,
    ) -> PolicyRefPage:
        after = codec.decode(cursor, LINKS_SORT, [int])[0] if cursor else 0
        with reading(request):
            owner = record_id(session, resource, key)
            items, total, last = linked_policies(session, resource, owner, after=after, limit=limit)
        next_url = None
        if last is not None:
            token = codec.encode(LINKS_SORT, [last])
            next_url = local_url(request.url.include_query_params(cursor=token))
        return PolicyRefPage.model_validate({"items": items, "total": total, "next": next_url})


_add("regions", "tianjin")
_add("actors", "ministry-of-education")

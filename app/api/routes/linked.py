"""The policies linked to a region or an actor, page by page (a GET of the record embeds only
the first ones)."""

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
        page: Annotated[IdPage, Depends(id_paging(LINKS_SORT, "Policies"))],
    ) -> PolicyRefPage:
        with reading(request):
            owner = record_id(session, resource, key)
            items, total, last = linked_policies(
                session, resource, owner, after=page.after, limit=page.limit
            )
        return PolicyRefPage(items=items, total=total, next=page.next_url(last))


_add("regions", "tianjin")
_add("actors", "ministry-of-education")

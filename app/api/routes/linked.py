"""The policies linked to a record (a region or an actor), page by page (a GET of the record
embeds only the first ones)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api.deps import (
    IdPage,
    SessionDep,
    for_resource,
    id_paging,
    reading,
    record_key,
    reject_unknown_query_params,
)
from app.api.problems import problem_responses
from app.resources import RESOURCE_NAMES, RESOURCES, Resource, links_to
from app.schemas.links import PolicyRefPage
from app.services.documents import record_id
from app.services.embedded import linked_policies

router = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query_params)])
LINKS_SORT = "links"


def policies_of(
    key: str,  # bound per resource
    request: Request,
    resource: Resource,  # bound per resource
    session: SessionDep,
    page: Annotated[IdPage, Depends(id_paging(LINKS_SORT, "Policies"))],
) -> PolicyRefPage:
    with reading(request):
        owner = record_id(session, resource.name, key)
        items, total, last = linked_policies(
            session, resource.name, owner, after=page.after, limit=page.limit
        )
    return PolicyRefPage(items=items, total=total, next=page.next_url(last))


# Every other type that policies link to (their actors and regions).
for _name in RESOURCE_NAMES:
    if _name == "policies" or not links_to("policies", _name):
        continue
    _key = Annotated[str, Depends(record_key(RESOURCES[_name]))]
    router.add_api_route(
        f"/{_name}/{{key}}/policies",
        for_resource(policies_of, RESOURCES[_name], key=_key),
        methods=["GET"],
        response_model=PolicyRefPage,
        tags=[_name],
        summary=f"Policies linked to one of the {_name}",
        operation_id=f"policies_of_{_name}",
        description="Every policy linked to the record, with its role, in the order the links "
        "were made; `next` fetches the following page.",
        responses=problem_responses(400, 404),
    )

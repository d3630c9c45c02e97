"""The five record endpoints share one shape: list, get, create, replace, patch, delete.

A router is built per resource from its schemas, filters and presenter, so every resource
behaves the same way and a fix lands everywhere at once.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.api.deps import (
    CodecDep,
    ListParamsDep,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    WriteKey,
    reject_unknown_query_params,
)
from app.api.problems import problem_responses
from app.api.routes import filters
from app.api.streaming import stream_rows
from app.errors import BadQuery, ErrorDetail
from app.schemas.actor import ActorOut, ActorRecord
from app.schemas.common import Page
from app.schemas.explore import ChainLink, FacetOut
from app.schemas.goal import GoalOut, GoalRecord
from app.schemas.policy import PolicyOut, PolicyRecord
from app.schemas.region import RegionOut, RegionRecord
from app.schemas.source import SourceOut, SourceRecord
from app.services import explore
from app.services import records as record_service
from app.services.queries import (
    Filters,
    filtered_query,
    get_record,
    iter_record_pages,
    list_records,
    region_ancestors,
)
from app.services.resources import RESOURCES, ResourceName


def _present_regions(session: Session, rows: Sequence[Any]) -> list[Any]:
    ancestors = region_ancestors(session=session, regions=rows)
    return [RegionOut.from_model(r, ancestors[r.id]) for r in rows]


def _simple(out: Any) -> Callable[[Session, Sequence[Any]], list[Any]]:
    return lambda _session, rows: [out.from_model(r) for r in rows]


@dataclass(frozen=True)
class RecordEndpoints:
    resource: ResourceName
    record: type[Any]
    out: type[Any]
    filters: Callable[..., Filters]
    present: Callable[[Session, Sequence[Any]], list[Any]]
    example_key: str


ENDPOINTS = [
    RecordEndpoints(
        "policies",
        PolicyRecord,
        PolicyOut,
        filters.policy_filters,
        _simple(PolicyOut),
        "new-generation-ai-development-plan",
    ),
    RecordEndpoints(
        "actors",
        ActorRecord,
        ActorOut,
        filters.actor_filters,
        _simple(ActorOut),
        "ministry-of-education",
    ),
    RecordEndpoints(
        "regions", RegionRecord, RegionOut, filters.region_filters, _present_regions, "tianjin"
    ),
    RecordEndpoints(
        "goals",
        GoalRecord,
        GoalOut,
        filters.goal_filters,
        _simple(GoalOut),
        "steve-chen-5m-ai-personnel",
    ),
    RecordEndpoints(
        "sources",
        SourceRecord,
        SourceOut,
        filters.source_filters,
        _simple(SourceOut),
        "digichina-2020-12-21-ai-self-reliance",
    ),
]


EXPANSIONS: dict[ResourceName, set[str]] = {"policies": {"relations"}}


def _negotiate(accept: str) -> str | None:
    if "text/csv" in accept:
        return "csv"
    if "ndjson" in accept:
        return "ndjson"
    return None


def build_router(spec: RecordEndpoints) -> APIRouter:
    """The list/detail/write endpoints of one resource."""
    name, singular = spec.resource, RESOURCES[spec.resource].singular
    Record: Any = spec.record
    Out: Any = spec.out
    router = APIRouter(
        prefix=f"/{name}",
        tags=[name],
        dependencies=[Depends(reject_unknown_query_params)],
    )
    Key = Annotated[
        str,
        Path(description="Numeric id or slug.", examples=[spec.example_key]),
    ]

    def present_one(session: Session, row: Any) -> Any:
        return spec.present(session, [row])[0]

    @router.get(
        "",
        response_model=Page[Out],
        summary=f"List {name}",
        description=f"Filter, sort and page through {name}. Each item embeds its relations; "
        "the `next` URL (and the `Link` header) fetches the following page. With "
        "`format=csv` or `format=ndjson` (or `Accept: text/csv` / `application/x-ndjson`) "
        "every matching row is streamed instead, in the same sort order.",
        responses={
            **problem_responses(400),
            200: {"content": {"text/csv": {}, "application/x-ndjson": {}}},
        },
    )
    def list_(
        request: Request,
        response: Response,
        session: SessionDep,
        factory: SessionFactoryDep,
        codec: CodecDep,
        params: ListParamsDep,
        filters: Annotated[Filters, Depends(spec.filters)],
        settings: SettingsDep,
        facet: Annotated[
            list[str],
            Query(
                description="Count matching rows per value of these facets (repeatable): "
                + ", ".join(explore.FACETS[name])
                + ".",
                examples=[next(iter(explore.FACETS[name]))],
            ),
        ] = [],  # noqa: B006
        format: Annotated[
            Literal["json", "csv", "ndjson"] | None,
            Query(
                description="json (a page), or csv / ndjson (every row, streamed).",
                examples=["csv"],
            ),
        ] = None,
    ) -> Any:
        stream_format = format or _negotiate(request.headers.get("accept", ""))
        if stream_format in ("csv", "ndjson"):
            pages = iter_record_pages(
                session=factory(), resource=name, filters=filters, sort=params.sort, codec=codec
            )
            return stream_rows(pages, spec.out, spec.present, stream_format, name)
        explore.check_facets(name, facet)
        page = list_records(
            session=session, resource=name, filters=filters, params=params, codec=codec
        )
        facets = None
        if facet:
            counted = explore.facet_counts(
                session=session,
                resource=name,
                filtered=filtered_query(session, name, filters),
                names=facet,
                max_values=settings.facet_max_values,
                budget_ms=settings.facet_budget_ms,
            )
            facets = {
                k: FacetOut.model_validate(v, from_attributes=True) for k, v in counted.items()
            }
        next_url = None
        if page.next_cursor:
            next_url = str(request.url.include_query_params(cursor=page.next_cursor))
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return Page[Out](
            items=spec.present(session, page.rows), total=page.total, next=next_url, facets=facets
        )

    @router.get(
        "/{key}",
        response_model=Out,
        summary=f"Get one {singular}",
        description=f"A {singular} by id or slug, with its relations and citations embedded.",
        responses=problem_responses(404),
    )
    def get_(
        key: Key,
        session: SessionDep,
        settings: SettingsDep,
        expand: Annotated[
            list[str],
            Query(
                description="Extra detail: `relations` (policies only) adds `relation_chain`, "
                "the policies reached by following implements/supports/amends onward.",
                examples=["relations"],
            ),
        ] = [],  # noqa: B006
    ) -> Any:
        allowed = EXPANSIONS.get(name, set())
        unknown = [e for e in expand if e not in allowed]
        if unknown:
            raise BadQuery(
                f"cannot expand {', '.join(unknown)} on {name}",
                [ErrorDetail("/query/expand", f"allowed: {', '.join(sorted(allowed)) or 'none'}")],
            )
        row = get_record(session=session, resource=name, key=key)
        out = present_one(session, row)
        if "relations" in expand:
            out.relation_chain = [
                ChainLink(**link)
                for link in explore.relation_chain(
                    session=session, policy=row, max_depth=settings.expand_max_depth
                )
            ]
        return out

    @router.post(
        "",
        response_model=Out,
        status_code=status.HTTP_201_CREATED,
        summary=f"Create a {singular}",
        description="Needs an API key. References to other records are by slug.",
        responses=problem_responses(401, 403, 409, 422),
    )
    def create(record: Record, session: SessionDep, response: Response, _key: WriteKey) -> Any:
        row = record_service.create_record(session=session, resource=name, record=record)
        response.headers["Location"] = f"/api/v1/{name}/{row.slug}"
        return present_one(session, get_record(session=session, resource=name, key=row.slug))

    @router.put(
        "/{key}",
        response_model=Out,
        summary=f"Replace a {singular}",
        description="Needs an API key. The body is the whole record (the shape a GET returns; "
        "read-only fields are ignored). A different slug renames the record.",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    def replace(key: Key, record: Record, session: SessionDep, _key: WriteKey) -> Any:
        row = record_service.replace_record(session=session, resource=name, key=key, record=record)
        return present_one(session, get_record(session=session, resource=name, key=row.slug))

    @router.patch(
        "/{key}",
        response_model=Out,
        summary=f"Patch a {singular}",
        description="Needs an API key. An RFC 7396 JSON merge patch: given fields replace "
        "the stored ones, `null` clears a field; lists are replaced whole.",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    def patch(
        key: Key,
        session: SessionDep,
        _key: WriteKey,
        body: Annotated[
            dict[str, Any],
            Body(
                media_type="application/merge-patch+json",
                examples=[{"summary": "A corrected summary."}],
            ),
        ],
    ) -> Any:
        row = record_service.patch_record(session=session, resource=name, key=key, patch=body)
        return present_one(session, get_record(session=session, resource=name, key=row.slug))

    @router.delete(
        "/{key}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary=f"Delete a {singular}",
        description="Needs an API key. Refused (409) while other records point at it, unless "
        "`force=true`, which removes those links first.",
        responses=problem_responses(401, 403, 404, 409),
    )
    def delete(
        key: Key,
        session: SessionDep,
        _key: WriteKey,
        force: Annotated[
            bool, Query(description="Also remove links and references to the record.")
        ] = False,
    ) -> Response:
        record_service.delete_record(session=session, resource=name, key=key, force=force)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router

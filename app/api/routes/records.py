"""The five record endpoints share one shape: list, get, create, replace, patch, delete.

A router is built per resource from its schemas, filters and presenter, so every resource
behaves the same way and a fix lands everywhere at once.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.api.deps import (
    CodecDep,
    ListParamsDep,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    WriteKey,
    local_url,
    reading,
    record_key,
    reject_unknown_query_params,
)
from app.api.etags import etag_of_body, matches, write_precondition
from app.api.problems import problem_responses
from app.api.routes import filters
from app.api.streaming import stream_csv, stream_ndjson
from app.errors import BadQuery, ErrorDetail
from app.models import ApiKey
from app.schemas.actor import ActorOut, ActorRecord
from app.schemas.common import Page
from app.schemas.explore import ChainLink, FacetOut
from app.schemas.goal import GoalOut, GoalRecord
from app.schemas.history import HistoryPage, RecordAsOf
from app.schemas.policy import PolicyOut, PolicyRecord
from app.schemas.region import RegionOut, RegionRecord
from app.schemas.source import SourceOut, SourceRecord
from app.services import explore
from app.services import history as history_service
from app.services import records as record_service
from app.services.documents import (
    document,
    document_json,
    documents,
    documents_json,
    render,
    render_page,
)
from app.services.queries import (
    Filters,
    filtered_query,
    iter_documents,
    list_records,
)
from app.services.resources import RESOURCES, ResourceName


@dataclass(frozen=True)
class RecordEndpoints:
    resource: ResourceName
    record: type[Any]
    out: type[Any]
    filters: Callable[..., Awaitable[Filters]]
    example_key: str


ENDPOINTS = [
    RecordEndpoints(
        "policies",
        PolicyRecord,
        PolicyOut,
        filters.policy_filters,
        "new-generation-ai-development-plan",
    ),
    RecordEndpoints(
        "actors",
        ActorRecord,
        ActorOut,
        filters.actor_filters,
        "ministry-of-education",
    ),
    RecordEndpoints("regions", RegionRecord, RegionOut, filters.region_filters, "tianjin"),
    RecordEndpoints(
        "goals",
        GoalRecord,
        GoalOut,
        filters.goal_filters,
        "steve-chen-5m-ai-personnel",
    ),
    RecordEndpoints(
        "sources",
        SourceRecord,
        SourceOut,
        filters.source_filters,
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
    Key = Annotated[str, Depends(record_key(singular, spec.example_key))]

    @router.get(
        "",
        response_model=Page[Out],
        summary=f"List {name}",
        operation_id=f"list_{name}",
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
            every = partial(
                iter_documents,
                session=factory(),
                resource=name,
                filters=filters,
                sort=params.sort,
                codec=codec,
            )
            if stream_format == "csv":
                return stream_csv(every(build=documents), spec.out, name)
            return stream_ndjson(every(build=documents_json), name)
        explore.check_facets(name, facet)
        with reading(request):
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
                    k: FacetOut.model_validate(v, from_attributes=True).model_dump(mode="json")
                    for k, v in counted.items()
                }
            items = documents_json(session, name, page.ids)
        headers = {}
        next_url = None
        if page.next_cursor:
            next_url = local_url(request.url.include_query_params(cursor=page.next_cursor))
            headers["Link"] = f'<{next_url}>; rel="next"'
        # The shape of Page[Out], built from documents (see app/services/documents.py).
        rest: dict[str, Any] = {"total": page.total, "next": next_url}
        if page.total_capped:
            rest["total_capped"] = True
        if facets is not None:
            rest["facets"] = facets
        return Response(render_page(items, rest), media_type="application/json", headers=headers)

    def current(session: Session, key: str) -> Callable[[], str]:
        return lambda: etag_of_body(document_json(session, name, key))

    def answer(session: Session, slug: str, status_code: int = 200, **headers: str) -> Response:
        body = document_json(session, name, slug)
        headers["ETag"] = etag_of_body(body)
        return Response(body, status_code, headers, media_type="application/json")

    @router.get(
        "/{key}",
        response_model=Out | RecordAsOf,
        summary=f"Get one {singular}",
        operation_id=f"get_{singular}",
        description=f"A {singular} by id or slug, with its relations and citations embedded. "
        "The `ETag` header changes whenever the record or its links change; send it back in "
        "`If-None-Match` (304 when unchanged) or `If-Match` on writes. With `as_of`, the "
        f"{singular} as it was at that moment, read from its history (also after deletion).",
        responses={**problem_responses(400, 404), 304: {"description": "Not modified"}},
    )
    def get_(
        key: Key,
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        if_none_match: Annotated[
            str | None,
            Header(description="ETags you hold.", examples=['"3f2a9c0d1e4b5a6978c8d7e6f5a4b3c2"']),
        ] = None,
        expand: Annotated[
            list[str],
            Query(
                description="Extra detail: `relations` (policies only) adds `relation_chain`, "
                "the policies reached by following implements/supports/amends onward.",
                examples=["relations"],
            ),
        ] = [],  # noqa: B006
        as_of: Annotated[
            datetime | None,
            Query(
                description="An ISO 8601 moment: answer with the record as it was then.",
                examples=["2026-01-01T00:00:00Z"],
            ),
        ] = None,
    ) -> Any:
        if as_of is not None:
            moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
            entry = history_service.record_as_of(
                session=session, record_type=singular, key=key, moment=moment
            )
            return JSONResponse(
                RecordAsOf(
                    as_of=moment,
                    changed_at=entry.changed_at,
                    changed_by=entry.changed_by,
                    history_id=entry.id,
                    record=entry.snapshot,
                ).model_dump(mode="json")
            )
        allowed = EXPANSIONS.get(name, set())
        unknown = [e for e in expand if e not in allowed]
        if unknown:
            raise BadQuery(
                f"cannot expand {', '.join(unknown)} on {name}",
                [ErrorDetail("/query/expand", f"allowed: {', '.join(sorted(allowed)) or 'none'}")],
            )
        with reading(request):
            if "relations" in expand:
                doc = document(session, name, key)
                chain, truncated = explore.relation_chain(
                    session=session,
                    policy_id=doc["id"],
                    policy_slug=doc["slug"],
                    max_depth=settings.expand_max_depth,
                    max_links=settings.expand_max_links,
                )
                doc["relation_chain"] = [
                    ChainLink(**link).model_dump(mode="json") for link in chain
                ]
                if truncated:
                    doc["relation_chain_truncated"] = True
                body = render(doc)
            else:
                body = document_json(session, name, key)
        # Serialised once: the same bytes are hashed for the ETag and sent.
        etag = etag_of_body(body)
        if if_none_match is not None and matches(if_none_match, etag):
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})

    @router.get(
        "/{key}/history",
        response_model=HistoryPage,
        summary=f"History of a {singular}",
        operation_id=f"history_of_{singular}",
        description="Every create, update and delete of the record, newest first, with who "
        "made it and each changed field's old and new value. Deleted records keep theirs.",
        responses=problem_responses(400, 404),
    )
    def history(
        key: Key,
        request: Request,
        session: SessionDep,
        codec: CodecDep,
        limit: Annotated[
            int, Query(ge=1, le=200, description="Entries per page.", examples=[50])
        ] = 50,
        cursor: Annotated[
            str | None, Query(description="From the `next` link.", examples=[None])
        ] = None,
    ) -> HistoryPage:
        before = codec.decode(cursor, "history", [int])[0] if cursor else None
        entries, next_before = history_service.record_history(
            session=session, record_type=singular, key=key, limit=limit, before=before
        )
        next_url = None
        if next_before is not None:
            token = codec.encode("history", [next_before])
            next_url = local_url(request.url.include_query_params(cursor=token))
        return HistoryPage(items=[history_service.entry_out(e) for e in entries], next=next_url)

    write_responses = problem_responses(401, 403, 404, 409, 412, 422, 428)
    IfMatch = Annotated[
        str | None,
        Header(
            description="The ETag you last saw: the write fails (412) if stale.",
            examples=['"3f2a9c0d1e4b5a6978c8d7e6f5a4b3c2"'],
        ),
    ]

    @router.post(
        "",
        response_model=Out,
        status_code=status.HTTP_201_CREATED,
        summary=f"Create a {singular}",
        operation_id=f"create_{singular}",
        description="Needs an API key. References to other records are by slug.",
        responses={
            **problem_responses(401, 403, 409, 422),
            201: {
                "description": f"The new {singular}; `Location` names it.",
                "links": {
                    f"{verb.capitalize()}{singular.capitalize()}": {
                        "operationId": f"{verb}_{singular}",
                        "parameters": {"key": "$response.body#/slug"},
                    }
                    for verb in ("get", "replace", "patch", "delete")
                }
                | {
                    f"HistoryOf{singular.capitalize()}": {
                        "operationId": f"history_of_{singular}",
                        "parameters": {"key": "$response.body#/slug"},
                    }
                },
            },
        },
    )
    def create(record: Record, session: SessionDep, key: WriteKey) -> Any:
        row = record_service.create_record(
            session=session, resource=name, record=record, changed_by=changed_by(key)
        )
        return answer(session, row.slug, 201, Location=f"/api/v1/{name}/{row.slug}")

    @router.put(
        "/{key}",
        response_model=Out,
        summary=f"Replace a {singular}",
        operation_id=f"replace_{singular}",
        description="Needs an API key. The body is the whole record (the shape a GET returns; "
        "read-only fields are ignored). A different slug renames the record. Send `If-Match` "
        "with the ETag you read so that nobody else's change is overwritten.",
        responses=write_responses,
    )
    def replace(
        key: Key,
        record: Record,
        session: SessionDep,
        settings: SettingsDep,
        api_key: WriteKey,
        if_match: IfMatch = None,
    ) -> Any:
        check = write_precondition(if_match, settings.require_if_match, current(session, key))
        row = record_service.replace_record(
            session=session,
            resource=name,
            key=key,
            record=record,
            changed_by=changed_by(api_key),
            precondition=check,
        )
        return answer(session, row.slug)

    @router.patch(
        "/{key}",
        response_model=Out,
        summary=f"Patch a {singular}",
        operation_id=f"patch_{singular}",
        description="Needs an API key. An RFC 7396 JSON merge patch: given fields replace "
        "the stored ones, `null` clears a field; lists are replaced whole. Honours `If-Match`.",
        responses=write_responses,
    )
    def patch(
        key: Key,
        session: SessionDep,
        settings: SettingsDep,
        api_key: WriteKey,
        body: Annotated[
            dict[str, Any],
            Body(
                media_type="application/merge-patch+json",
                examples=[{"summary": "A corrected summary."}],
            ),
        ],
        if_match: IfMatch = None,
    ) -> Any:
        check = write_precondition(if_match, settings.require_if_match, current(session, key))
        row = record_service.patch_record(
            session=session,
            resource=name,
            key=key,
            patch=body,
            changed_by=changed_by(api_key),
            precondition=check,
        )
        return answer(session, row.slug)

    @router.delete(
        "/{key}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary=f"Delete a {singular}",
        operation_id=f"delete_{singular}",
        description="Needs an API key. Refused (409) while other records point at it, unless "
        "`force=true`, which rewrites those records without the reference first (each change "
        "recorded in their history). Honours `If-Match`.",
        responses=problem_responses(401, 403, 404, 409, 412, 428),
    )
    def delete(
        key: Key,
        session: SessionDep,
        settings: SettingsDep,
        api_key: WriteKey,
        force: Annotated[
            bool, Query(description="Also remove links and references to the record.")
        ] = False,
        if_match: IfMatch = None,
    ) -> Response:
        check = write_precondition(if_match, settings.require_if_match, current(session, key))
        record_service.delete_record(
            session=session,
            resource=name,
            key=key,
            force=force,
            changed_by=changed_by(api_key),
            precondition=check,
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def changed_by(key: ApiKey) -> str:
    """How history names a change made with this API key."""
    return f"key:{key.name}"

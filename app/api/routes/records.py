"""The record endpoints every resource has: list, get, history, create, replace, patch, delete.

The handlers are written once, for any resource; ``records_router`` binds one resource's URLs
to them, with that resource's filters, facets, body shape, key and documentation
(``for_resource``), so every resource behaves the same way.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.api.deps import (
    CodecDep,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    WriteKey,
    for_resource,
    list_parameters,
    local_url,
    reading,
    record_key,
    reject_unknown_query_params,
)
from app.api.etags import etag_of_body, matches, write_precondition
from app.api.routes.filters import filter_parameters
from app.api.routes.record_docs import operation_docs
from app.api.streaming import stream_csv, stream_ndjson
from app.models import ApiKey
from app.resources import RESOURCES, Resource
from app.schemas.common import WriteModel, merge_patch_shape
from app.schemas.history import HistoryPage, RecordAsOf
from app.services import explore
from app.services import history as history_service
from app.services import records as record_service
from app.services.documents import document_json, documents, documents_json
from app.services.listing import FacetLimits, list_page, record_document
from app.services.paging import CursorCodec
from app.services.queries import Filters, ListParams, iter_documents

StreamFormat = Literal["json", "csv", "ndjson"]
ETagHeader = Annotated[
    str | None,
    Header(description="ETags you hold.", examples=['"3f2a9c0d1e4b5a6978c8d7e6f5a4b3c2"']),
]
IfMatch = Annotated[
    str | None,
    # A made-up ETag would be stale (412): the example is `*`, "whatever is stored".
    Header(
        description="The ETag you last saw (from a GET): the write fails (412) if stale. "
        "`*` asks only that the record exists.",
        examples=["*"],
    ),
]


def list_records(
    request: Request,
    resource: Resource,  # bound per resource, as the parameters marked so
    session: SessionDep,
    factory: SessionFactoryDep,
    codec: CodecDep,
    params: ListParams,  # bound per resource: its sort fields
    filters: Filters,  # bound per resource: its filter parameters
    settings: SettingsDep,
    facet: list[str] = [],  # noqa: B006 - bound per resource: its facets
    format: Annotated[
        StreamFormat | None,
        Query(
            description="json (a page), or csv / ndjson (every row, streamed).",
            examples=["csv"],
        ),
    ] = None,
) -> Response:
    stream_format = format or _negotiate(request.headers.get("accept", ""))
    if stream_format in ("csv", "ndjson"):
        return _stream(stream_format, resource, factory(), filters, params.sort, codec)
    limits = FacetLimits(settings.facet_max_values, settings.facet_budget_ms)
    with reading(request):
        page = list_page(
            session=session,
            resource=resource,
            filters=filters,
            params=params,
            codec=codec,
            facets=facet,
            facet_limits=limits,
        )
    headers = {}
    next_url = None
    if page.next_cursor:
        next_url = local_url(request.url.include_query_params(cursor=page.next_cursor))
        headers["Link"] = f'<{next_url}>; rel="next"'
    return Response(page.body(next_url), media_type="application/json", headers=headers)


def _negotiate(accept: str) -> str | None:
    if "text/csv" in accept:
        return "csv"
    if "ndjson" in accept:
        return "ndjson"
    return None


def _stream(
    stream_format: str,
    resource: Resource,
    session: Session,
    filters: Filters,
    sort: str | None,
    codec: CursorCodec,
) -> StreamingResponse:
    """Every matching row, in the list's sort order (``session`` is the stream's own)."""
    name = resource.name
    if stream_format == "csv":
        pages = iter_documents(
            session=session, resource=name, filters=filters, sort=sort, codec=codec, build=documents
        )
        return stream_csv(pages, resource.document, name)
    rendered = iter_documents(
        session=session,
        resource=name,
        filters=filters,
        sort=sort,
        codec=codec,
        build=documents_json,
    )
    return stream_ndjson(rendered, name)


def read_record(
    key: str,  # bound per resource
    request: Request,
    resource: Resource,  # bound per resource, as the parameters marked so
    session: SessionDep,
    settings: SettingsDep,
    if_none_match: ETagHeader = None,
    expand: list[str] = [],  # noqa: B006 - bound per resource: its expansions
    as_of: Annotated[
        datetime | None,
        Query(
            description="An ISO 8601 moment: answer with the record as it was then.",
            examples=["2026-01-01T00:00:00Z"],
        ),
    ] = None,
) -> Response:
    if as_of is not None:
        moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        entry = history_service.record_as_of(
            session=session, record_type=resource.singular, key=key, moment=moment
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
    with reading(request):
        body = record_document(
            session=session,
            resource=resource,
            key=key,
            expand=expand,
            max_depth=settings.expand_max_depth,
            max_links=settings.expand_max_links,
        )
    # Serialised once: the same bytes are hashed for the ETag and sent.
    etag = etag_of_body(body)
    if if_none_match is not None and matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


def read_history(
    key: str,  # bound per resource
    request: Request,
    resource: Resource,  # bound per resource, as the parameters marked so
    session: SessionDep,
    codec: CodecDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Entries per page.", examples=[50])] = 50,
    cursor: Annotated[
        str | None, Query(description="From the `next` link.", examples=[None])
    ] = None,
) -> HistoryPage:
    before = codec.decode(cursor, "history", [int])[0] if cursor else None
    entries, next_before = history_service.record_history(
        session=session, record_type=resource.singular, key=key, limit=limit, before=before
    )
    next_url = None
    if next_before is not None:
        token = codec.encode("history", [next_before])
        next_url = local_url(request.url.include_query_params(cursor=token))
    return HistoryPage(items=[history_service.entry_out(e) for e in entries], next=next_url)


def create(
    record: WriteModel,  # bound per resource: its record shape
    resource: Resource,  # bound per resource, as the parameters marked so
    session: SessionDep,
    key: WriteKey,
) -> Response:
    row = record_service.create_record(
        session=session, resource=resource.name, record=record, changed_by=changed_by(key)
    )
    return _answer(session, resource, row.slug, 201, Location=f"/api/v1/{resource.name}/{row.slug}")


def replace(
    key: str,  # bound per resource
    record: WriteModel,  # bound per resource: its record shape
    resource: Resource,  # bound per resource, as the parameters marked so
    session: SessionDep,
    settings: SettingsDep,
    api_key: WriteKey,
    if_match: IfMatch = None,
) -> Response:
    check = write_precondition(if_match, settings.require_if_match, _etag(session, resource, key))
    row = record_service.replace_record(
        session=session,
        resource=resource.name,
        key=key,
        record=record,
        changed_by=changed_by(api_key),
        precondition=check,
    )
    return _answer(session, resource, row.slug)


def patch(
    key: str,  # bound per resource
    resource: Resource,  # bound per resource, as the parameters marked so
    session: SessionDep,
    settings: SettingsDep,
    api_key: WriteKey,
    body: WriteModel,  # bound per resource: its merge-patch shape
    if_match: IfMatch = None,
) -> Response:
    check = write_precondition(if_match, settings.require_if_match, _etag(session, resource, key))
    row = record_service.patch_record(
        session=session,
        resource=resource.name,
        key=key,
        patch=body.model_dump(mode="json", exclude_unset=True),
        changed_by=changed_by(api_key),
        precondition=check,
    )
    return _answer(session, resource, row.slug)


def delete(
    key: str,  # bound per resource
    resource: Resource,  # bound per resource, as the parameters marked so
    session: SessionDep,
    settings: SettingsDep,
    api_key: WriteKey,
    force: Annotated[
        bool, Query(description="Also remove links and references to the record.")
    ] = False,
    if_match: IfMatch = None,
) -> Response:
    check = write_precondition(if_match, settings.require_if_match, _etag(session, resource, key))
    record_service.delete_record(
        session=session,
        resource=resource.name,
        key=key,
        force=force,
        changed_by=changed_by(api_key),
        precondition=check,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _etag(session: Session, resource: Resource, key: str) -> Callable[[], str]:
    """The record's current ETag, computed when a write's precondition asks for it."""
    return lambda: etag_of_body(document_json(session, resource.name, key))


def _answer(
    session: Session, resource: Resource, slug: str, status_code: int = 200, **headers: str
) -> Response:
    body = document_json(session, resource.name, slug)
    headers["ETag"] = etag_of_body(body)
    return Response(body, status_code, headers, media_type="application/json")


def changed_by(key: ApiKey) -> str:
    """How history names a change made with this API key."""
    return f"key:{key.name}"


def facet_parameter(resource: Resource) -> Any:
    """The ``facet`` parameter of a resource's list, naming its facets (none: no parameter)."""
    facets = list(explore.FACETS.get(resource.name) or {})
    if not facets:
        return Annotated[list[str], Depends(_nothing_asked)]
    return Annotated[
        list[Literal[*facets]],  # type: ignore[valid-type]
        Query(
            description="Count matching rows per value of these facets (repeatable).",
            examples=facets[:1],
        ),
    ]


# What each expansion adds, shown in the ``expand`` parameter of resources that offer it.
EXPANSIONS = {
    "relations": "`relations` adds `relation_chain`, the policies reached by following "
    "implements/supports/amends onward",
}


def expand_parameter(resource: Resource) -> Any:
    """The ``expand`` parameter of a resource's records, naming its expansions (none: no
    parameter)."""
    expansions = sorted(resource.expansions)
    if not expansions:
        return Annotated[list[str], Depends(_nothing_asked)]
    return Annotated[
        list[Literal[*expansions]],  # type: ignore[valid-type]
        Query(
            description="Extra detail: " + "; ".join(EXPANSIONS[e] for e in expansions) + ".",
            examples=expansions[:1],
        ),
    ]


def patch_body(resource: Resource) -> Any:
    """The body of a resource's PATCH: its merge-patch shape, with an example that changes
    the record's label."""
    label = resource.label.key
    return Annotated[
        merge_patch_shape(resource.record),
        Body(
            media_type="application/merge-patch+json",
            openapi_examples={"relabel": {"value": {label: f"A corrected {label}"}}},
        ),
    ]


async def _nothing_asked() -> list[str]:
    return []


def records_router(resource: Resource) -> APIRouter:
    """One resource's URLs, bound to the handlers above."""
    router = APIRouter(
        prefix=f"/{resource.name}",
        tags=[resource.name],
        dependencies=[Depends(reject_unknown_query_params)],
    )
    docs = operation_docs(resource)
    key = Annotated[str, Depends(record_key(resource))]
    new_key = Annotated[str, Depends(record_key(resource, stored=False))]
    list_bound = {
        "filters": Annotated[Filters, Depends(filter_parameters(resource))],
        "params": Annotated[ListParams, Depends(list_parameters(resource))],
        "facet": facet_parameter(resource),
    }
    routes: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = [
        ("GET", "", list_records, list_bound),
        ("GET", "/{key}", read_record, {"key": key, "expand": expand_parameter(resource)}),
        ("GET", "/{key}/history", read_history, {"key": key}),
        ("POST", "", create, {"record": resource.record}),
        ("PUT", "/{key}", replace, {"key": new_key, "record": resource.record}),
        ("PATCH", "/{key}", patch, {"key": new_key, "body": patch_body(resource)}),
        ("DELETE", "/{key}", delete, {"key": new_key}),
    ]
    for method, path, handler, bound in routes:
        endpoint = for_resource(handler, resource, **bound)
        router.add_api_route(path, endpoint, methods=[method], **docs[handler.__name__])
    return router


router = APIRouter(prefix="/api/v1")
for _resource in RESOURCES.values():
    router.include_router(records_router(_resource))

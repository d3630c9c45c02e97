"""The OpenRefine reconciliation service (Reconciliation Service API 0.2) at /api/v1/reconcile.

CORS is open on these routes only (app/api/reconcile_cors.py): the spec requires it, for
browser clients calling from another origin.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.api.deps import SessionDep, reading, reject_unknown_query_params
from app.api.problems import problem_responses
from app.services import reconcile as service

PREFIX = "/api/v1/reconcile"
router = APIRouter(
    prefix=PREFIX, tags=["reconcile"], dependencies=[Depends(reject_unknown_query_params)]
)

QueriesParam = Annotated[
    str | None,
    Query(
        description="A reconciliation query batch (JSON).",
        examples=['{"q0": {"query": "Ministry of Education", "type": "actor"}}'],
    ),
]
ExtendParam = Annotated[
    str | None,
    Query(
        description="A data extension query (JSON).",
        examples=['{"ids": ["region:tianjin"], "properties": [{"id": "iso_code"}]}'],
    ),
]
Prefix = Annotated[
    str,
    Query(max_length=service.MAX_QUERY_CHARS, description="What was typed.", examples=["minis"]),
]
SuggestCursor = Annotated[
    int,
    Query(ge=0, le=service.MAX_SUGGEST_CURSOR, description="Suggestions to skip.", examples=[0]),
]


def manifest(request: Request) -> dict[str, Any]:
    # The identifier space must not change with the Host a client sends: set POLICYDB_PUBLIC_URL.
    base = (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")
    service_url = base + PREFIX
    types = [{"id": t, "name": name} for t, (name, _r) in service.TYPES.items()]
    return {
        "versions": ["0.2"],
        "name": "policydb",
        "identifierSpace": f"{base}/api/v1/",
        "schemaSpace": f"{base}/api/v1/vocabularies",
        "documentation": f"{base}/docs",
        "serviceVersion": request.app.version,
        "defaultTypes": types,
        "view": {"url": f"{service_url}/view/{{{{id}}}}"},
        "preview": {"url": f"{service_url}/preview?id={{{{id}}}}", "width": 400, "height": 160},
        "suggest": {
            "entity": {"service_url": service_url, "service_path": "/suggest/entity"},
            "type": {"service_url": service_url, "service_path": "/suggest/type"},
            "property": {"service_url": service_url, "service_path": "/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": service_url, "service_path": "/properties"}
        },
    }


def _results(answers: dict[str, list[service.Result]]) -> dict[str, Any]:
    return {
        key: {
            "result": [
                {
                    "id": r.id,
                    "name": r.name,
                    "description": r.description,
                    "type": [{"id": r.type, "name": service.TYPES[r.type][0]}],
                    "score": r.score,
                    "match": r.match,
                    "features": [{"id": k, "value": v} for k, v in r.features.items()],
                }
                for r in results
            ]
        }
        for key, results in answers.items()
    }


def _answer(
    request: Request, session: SessionDep, queries: str | None, extend: str | None, where: str
) -> dict[str, Any]:
    if queries is not None:
        batch = service.parse_batch(service.decode(queries, f"{where}/queries"), f"{where}/queries")
        with reading(request):
            return _results(service.reconcile(session=session, queries=batch))
    if extend is not None:
        query = service.parse_extend(service.decode(extend, f"{where}/extend"), f"{where}/extend")
        with reading(request):
            return service.extend(session=session, query=query)
    return manifest(request)


@router.get(
    "",
    summary="Reconciliation service: manifest, queries, data extension",
    description="Without parameters: the service manifest. With `queries`: a result batch. "
    "With `extend`: a data extension response.",
    responses=problem_responses(400),
)
def reconcile_get(
    request: Request, session: SessionDep, queries: QueriesParam = None, extend: ExtendParam = None
) -> JSONResponse:
    return JSONResponse(_answer(request, session, queries, extend, "/query"))


@router.post(
    "",
    summary="Reconciliation queries or data extension (form fields)",
    description="`application/x-www-form-urlencoded` with a `queries` or an `extend` field.",
    responses=problem_responses(400),
)
def reconcile_post(
    request: Request,
    session: SessionDep,
    queries: Annotated[
        str | None,
        Form(
            description="A query batch (JSON).",
            examples=['{"q0": {"query": "Tianjin", "type": "region"}}'],
        ),
    ] = None,
    extend: Annotated[
        str | None,
        Form(
            description="A data extension query (JSON).",
            examples=['{"ids": ["region:tianjin"], "properties": [{"id": "iso_code"}]}'],
        ),
    ] = None,
) -> JSONResponse:
    return JSONResponse(_answer(request, session, queries, extend, "/form"))


@router.get(
    "/suggest/entity",
    summary="Suggest entities",
    description="Records whose words start with `prefix` (the last word as a prefix), ranked.",
    responses=problem_responses(400),
)
def suggest_entity(
    request: Request,
    session: SessionDep,
    prefix: Prefix,
    cursor: SuggestCursor = 0,
    type: Annotated[
        str | None,
        Query(max_length=20, description="Only entities of this type.", examples=["actor"]),
    ] = None,
) -> JSONResponse:
    types = service.parse_types(type, "/query/type")
    with reading(request):
        found = service.suggest_entities(session=session, prefix=prefix, types=types, cursor=cursor)
    items = [
        {
            "id": r.id,
            "name": r.name,
            "description": r.description,
            "notable": [{"id": r.type, "name": service.TYPES[r.type][0]}],
        }
        for r in found
    ]
    return JSONResponse({"result": items})


@router.get(
    "/suggest/type",
    summary="Suggest types",
    description="The record types whose name starts with `prefix`.",
    responses=problem_responses(400),
)
def suggest_type(prefix: Prefix, cursor: SuggestCursor = 0) -> JSONResponse:
    return JSONResponse({"result": service.suggest_types(prefix)[cursor:]})


@router.get(
    "/suggest/property",
    summary="Suggest properties",
    description="Properties (for query constraints and data extension) starting with `prefix`.",
    responses=problem_responses(400),
)
def suggest_property(prefix: Prefix, cursor: SuggestCursor = 0) -> JSONResponse:
    return JSONResponse({"result": service.suggest_properties(prefix, cursor)})


@router.get(
    "/properties",
    summary="Properties to fetch by data extension, for a type",
    description="The properties data extension can fetch for records of `type`.",
    responses=problem_responses(400),
)
def propose_properties(
    type: Annotated[str, Query(max_length=20, description="A type id.", examples=["actor"])],
    limit: Annotated[
        int, Query(ge=1, le=100, description="Most properties to list.", examples=[10])
    ] = 100,
) -> JSONResponse:
    properties = service.propose_properties(type, limit)
    return JSONResponse({"type": type, "limit": limit, "properties": properties})


@router.get(
    "/preview",
    summary="An HTML preview of an entity",
    description="A small HTML card (name, type, other names, description) for an iframe.",
    response_class=HTMLResponse,
    responses=problem_responses(400, 404),
)
def preview(
    session: SessionDep,
    id: Annotated[
        str,
        Query(
            max_length=service.MAX_QUERY_CHARS,
            description="An entity id, `<type>:<slug>`.",
            examples=["region:tianjin"],
        ),
    ],
) -> HTMLResponse:
    record_type, record = service.entity(session=session, entity_id=id)
    return HTMLResponse(service.preview_html(record_type, record))


@router.get(
    "/view/{id}",
    summary="The record of an entity id (a redirect)",
    description="Redirects to the record's URL in the API.",
    status_code=302,
    response_class=RedirectResponse,
    responses=problem_responses(400, 404),
)
def view(
    session: SessionDep,
    id: Annotated[
        str,
        Path(
            max_length=service.MAX_QUERY_CHARS,
            description="An entity id, `<type>:<slug>`.",
            examples=["region:tianjin"],
        ),
    ],
) -> RedirectResponse:
    record_type, record = service.entity(session=session, entity_id=id)
    return RedirectResponse(service.record_path(record_type, record.slug), status_code=302)

"""Search across types, statistics, the timeline and the relationship graph."""

import xml.etree.ElementTree as ET
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.api.deps import (
    CodecDep,
    SessionDep,
    SettingsDep,
    local_url,
    reading,
    reject_unknown_query_params,
)
from app.api.problems import problem_responses
from app.api.routes.filters import DateParam, parse_date
from app.errors import BadQuery, ErrorDetail
from app.partial_dates import PartialDate
from app.safe_text import strip_unsafe
from app.schemas.explore import (
    FacetOut,
    GraphEdge,
    GraphNode,
    GraphOut,
    RecordRef,
    SearchHit,
    SearchPage,
    StatsOut,
    TimelineEvent,
    TimelinePageOut,
)
from app.services import explore
from app.services import search as search_service
from app.vocabularies import Topic

router = APIRouter(
    prefix="/api/v1", tags=["explore"], dependencies=[Depends(reject_unknown_query_params)]
)

RESOURCE_OF = {
    "policy": "policies",
    "actor": "actors",
    "region": "regions",
    "goal": "goals",
    "source": "sources",
}
SEARCH_SORT = "score"


def _url(record_type: str, slug: str) -> str:
    return f"/api/v1/{RESOURCE_OF[record_type]}/{slug}"


Limit = Annotated[int, Query(ge=1, le=200, description="Results per page.", examples=[20])]
Cursor = Annotated[
    str | None, Query(description="From the `next` link of the previous page.", examples=[None])
]


@router.get(
    "/search",
    response_model=SearchPage,
    summary="Search everything",
    description="Ranked full-text search across policies, actors, regions, goals and sources. "
    'Words are ANDed; `"a phrase"` matches in order; `robot*` matches a prefix. Chinese '
    "names (or any two-character part of them) match too. Hits carry a score and a snippet "
    "with `<mark>`ed matches.",
    responses=problem_responses(400),
)
def search(
    request: Request,
    response: Response,
    session: SessionDep,
    codec: CodecDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="The query.",
            examples=['"free trade zone"', "robot*", "人工智能"],
        ),
    ],
    type: Annotated[
        list[Literal["policy", "actor", "region", "goal", "source"]],
        Query(description="Only these record types (repeatable).", examples=["policy"]),
    ] = [],  # noqa: B006
    limit: Limit = 20,
    cursor: Cursor = None,
) -> SearchPage:
    after = None
    if cursor:
        score, doc_id = codec.decode(cursor, SEARCH_SORT, [float, int])
        after = (float(score), int(doc_id))
    with reading(request):
        hits, total = search_service.search(
            session=session, q=q, record_types=type, limit=limit + 1, after=after
        )
        names = search_service.slugs_of(session, hits[:limit])
    next_url = None
    if len(hits) > limit:
        hits = hits[:limit]
        last = hits[-1]
        token = codec.encode(SEARCH_SORT, [last.score, last.document_id])
        next_url = local_url(request.url.include_query_params(cursor=token))
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    items = []
    for hit in hits:
        slug, title = names[(hit.record_type, hit.record_id)]
        items.append(
            SearchHit(
                type=hit.record_type,
                slug=slug,
                title=title,
                score=hit.score,
                snippet=hit.snippet,
                url=_url(hit.record_type, slug),
            )
        )
    return SearchPage(items=items, total=total, next=next_url)


@router.get(
    "/stats",
    response_model=StatsOut,
    summary="Statistics",
    description="Record counts by type, and for each type counts by kind, topic, region, "
    "status and year.",
)
def stats(request: Request, session: SessionDep, settings: SettingsDep) -> StatsOut:
    with reading(request):
        result = explore.stats(
            session=session,
            max_values=settings.facet_max_values,
            budget_ms=settings.facet_budget_ms,
        )
    return StatsOut(
        counts=result["counts"],
        by={
            name: {
                facet: FacetOut.model_validate(value, from_attributes=True)
                for facet, value in facets.items()
            }
            for name, facets in result["by"].items()
        },
    )


@router.get(
    "/timeline",
    response_model=TimelinePageOut,
    summary="Timeline",
    description="Dated events in date order: policies announced, entering into force and "
    "ending; goal deadlines (with their stage). Dates keep their precision; `from`/`to` match "
    "by overlap. `region` includes sub-regions. Paged like the lists.",
    responses=problem_responses(400),
)
def timeline(
    request: Request,
    response: Response,
    session: SessionDep,
    codec: CodecDep,
    from_: Annotated[
        DateParam, Query(alias="from", description="Events on or after.", examples=["2019"])
    ] = None,
    to: Annotated[DateParam, Query(description="Events on or before.", examples=["2025"])] = None,
    region: Annotated[
        str | None,
        Query(description="Region slug or ISO code (sub-regions included).", examples=["CN-TJ"]),
    ] = None,
    actor: Annotated[
        str | None, Query(description="Actor slug.", examples=["ministry-of-education"])
    ] = None,
    topic: Annotated[
        list[Topic], Query(description="Topic (repeatable).", examples=["talent"])
    ] = [],  # noqa: B006
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TimelinePageOut:
    filters = explore.TimelineFilters(
        start=parse_date("from", from_),
        end=parse_date("to", to),
        region=region,
        actor=actor,
        topic=[t.value for t in topic],
    )
    with reading(request):
        page = explore.timeline(
            session=session, filters=filters, limit=limit, cursor=cursor, codec=codec
        )
    items = []
    for row in page.rows:
        date = PartialDate(row.earliest, row.latest)
        items.append(
            TimelineEvent(
                date=str(date),
                precision=date.precision,
                event=row.event,
                stage=row.stage,
                record=RecordRef(
                    type=row.type, slug=row.slug, title=row.title, url=_url(row.type, row.slug)
                ),
            )
        )
    next_url = None
    if page.next_cursor:
        next_url = local_url(request.url.include_query_params(cursor=page.next_cursor))
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return TimelinePageOut(items=items, next=next_url)


@router.get(
    "/graph",
    response_model=GraphOut,
    summary="Relationship graph",
    description="Nodes and typed edges within `depth` links of a record: actor roles in "
    "policies, policy regions, policy relations, goal owners, parent links and home regions. "
    "`format=graphml` gives GraphML for Gephi or Cytoscape.",
    responses={**problem_responses(400, 404), 200: {"content": {"application/graphml+xml": {}}}},
)
def graph(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    root: Annotated[
        str,
        Query(
            description="`<type>:<slug>` of the starting record (policy, actor, region, goal).",
            examples=["actor:ministry-of-education"],
        ),
    ],
    depth: Annotated[int, Query(ge=0, description="Links to follow.", examples=[2])] = 1,
    limit: Annotated[
        int | None, Query(ge=1, description="Most nodes to return.", examples=[200])
    ] = None,
    format: Annotated[
        Literal["json", "graphml"], Query(description="json or graphml.", examples=["graphml"])
    ] = "json",
) -> Any:
    if depth > settings.graph_max_depth:
        raise BadQuery(
            f"depth may be at most {settings.graph_max_depth}",
            [ErrorDetail("/query/depth", f"at most {settings.graph_max_depth}")],
        )
    max_nodes = limit or settings.graph_default_nodes
    if max_nodes > settings.graph_max_nodes:
        raise BadQuery(
            f"limit may be at most {settings.graph_max_nodes}",
            [ErrorDetail("/query/limit", f"at most {settings.graph_max_nodes}")],
        )
    with reading(request):
        result = explore.graph(session=session, root=root, depth=depth, max_nodes=max_nodes)
    nodes = [GraphNode(**n) for n in sorted(result.nodes.values(), key=lambda n: n["id"])]
    edges = [
        GraphEdge(
            source=result.nodes[e.source]["id"],
            target=result.nodes[e.target]["id"],
            type=e.type,
            role=e.role,
        )
        for e in result.edges
    ]
    out = GraphOut(root=root, nodes=nodes, edges=edges, truncated=result.truncated)
    if format == "graphml":
        return Response(graphml(out), media_type="application/graphml+xml")
    return out


def graphml(graph: GraphOut) -> bytes:
    """The graph as GraphML (nodes: type, slug, label, kind; edges: type, role)."""
    root = ET.Element("graphml", xmlns="http://graphml.graphdrawing.org/xmlns")
    for key, target in (
        ("type", "node"),
        ("slug", "node"),
        ("label", "node"),
        ("kind", "node"),
        ("edge_type", "edge"),
        ("role", "edge"),
    ):
        ET.SubElement(
            root, "key", id=key, attrib={"for": target, "attr.name": key, "attr.type": "string"}
        )
    element = ET.SubElement(root, "graph", id="policydb", edgedefault="directed")
    for node in graph.nodes:
        n = ET.SubElement(element, "node", id=strip_unsafe(node.id))
        for key in ("type", "slug", "label", "kind"):
            value = getattr(node, key)
            if value is not None:
                # Text written before control characters were refused could not be XML.
                ET.SubElement(n, "data", key=key).text = strip_unsafe(str(value))
    for i, edge in enumerate(graph.edges):
        source, target = strip_unsafe(edge.source), strip_unsafe(edge.target)
        e = ET.SubElement(element, "edge", id=f"e{i}", source=source, target=target)
        ET.SubElement(e, "data", key="edge_type").text = edge.type
        if edge.role is not None:
            ET.SubElement(e, "data", key="role").text = edge.role
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document

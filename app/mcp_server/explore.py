"""The exploring tools' answers: the timeline and the relationship graph."""

from app.mcp_server.context import ToolContext, check_codes, parse_date, url_of
from app.mcp_server.shapes import GraphResult, TimelineItem, TimelineResult
from app.partial_dates import PartialDate
from app.schemas.explore import GraphEdge, GraphNode
from app.services import explore
from app.vocabularies import Topic


def timeline(
    ctx: ToolContext,
    *,
    date_from: str | None,
    date_to: str | None,
    region: str | None,
    actor: str | None,
    topic: list[str],
    limit: int,
    cursor: str | None,
) -> TimelineResult:
    check_codes("topic", topic, Topic)
    filters = explore.TimelineFilters(
        start=parse_date("date_from", date_from),
        end=parse_date("date_to", date_to),
        region=region,
        actor=actor,
        topic=topic,
    )
    with ctx.reading() as session:
        page = explore.timeline(
            session=session, filters=filters, limit=limit, cursor=cursor, codec=ctx.codec()
        )
    items = []
    for row in page.rows:
        date = PartialDate(row.earliest, row.latest)
        items.append(
            TimelineItem(
                date=str(date),
                precision=date.precision,
                event=row.event,
                stage=row.stage,
                type=row.type,
                slug=row.slug,
                title=row.title,
                url=url_of(row.type, row.slug),
            )
        )
    return TimelineResult(items=items, next_cursor=page.next_cursor)


def graph(ctx: ToolContext, *, root: str, depth: int, limit: int) -> GraphResult:
    with ctx.reading() as session:
        result = explore.graph(session=session, root=root, depth=depth, max_nodes=limit)
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
    return GraphResult(root=root, nodes=nodes, edges=edges, truncated=result.truncated)

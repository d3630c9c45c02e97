"""The tools as agents see them: names, descriptions and parameters (bounded by the
settings, as the HTTP API bounds them). Each hands its arguments to an answer in
``records`` or ``explore``."""

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from app.mcp_server import explore, records
from app.mcp_server.context import MAX_ITEMS, READ_ONLY, RecordType, ToolContext
from app.mcp_server.shapes import (
    GraphResult,
    ListResult,
    RecordResult,
    SearchResult,
    SupportResult,
    TimelineResult,
)
from app.services import queries


def register_tools(server: MCPServer, ctx: ToolContext) -> None:
    page_size = Annotated[
        int, Field(ge=1, le=ctx.settings.max_page_size, description="Results per page.")
    ]
    max_items_type = Annotated[
        int,
        Field(ge=1, le=MAX_ITEMS, description="Longest list kept in each record (default 5)."),
    ]
    cursor_type = Annotated[
        str | None, Field(max_length=2000, description="`next_cursor` of the previous page.")
    ]

    @server.tool(
        title="Search everything",
        description="Ranked full-text search across policies, actors, regions, goals and "
        'sources. Words are ANDed; "a phrase" matches in order; robot* matches a prefix; '
        "Chinese names work. Returns slugs to pass to get_record.",
        annotations=READ_ONLY,
    )
    def search(
        q: Annotated[str, Field(min_length=1, max_length=200, description="The query.")],
        types: Annotated[
            list[RecordType], Field(max_length=5, description="Only these types.")
        ] = [],  # noqa: B006
        limit: page_size = 10,
        cursor: cursor_type = None,
    ) -> SearchResult:
        return records.search(ctx, q=q, types=types, limit=limit, cursor=cursor)

    @server.tool(
        title="Get a record",
        description="One record in full: fields, links (actors with roles, regions, related "
        "policies, goals ...) and the citations of each. Lists are cut to max_items.",
        annotations=READ_ONLY,
    )
    def get_record(
        type: RecordType,
        slug: Annotated[str, Field(min_length=1, max_length=200, description="Slug or id.")],
        max_items: max_items_type = 5,
        full: Annotated[bool, Field(description="Every list whole.")] = False,
    ) -> RecordResult:
        return records.get_record(ctx, type=type, slug=slug, max_items=None if full else max_items)

    @server.tool(
        title="List records with filters",
        description="Records of one type matching filters, a page at a time, each with its "
        "citations. Filters: q (full text), kind, status (policies), topic (policies), region "
        "(slug or ISO code, sub-regions included), actor (slug), policy (goals).",
        annotations=READ_ONLY,
    )
    def list_records(
        type: RecordType,
        q: Annotated[str | None, Field(max_length=200)] = None,
        kind: Annotated[list[str], Field(max_length=20)] = [],  # noqa: B006
        status: Annotated[list[str], Field(max_length=10)] = [],  # noqa: B006
        topic: Annotated[list[str], Field(max_length=10)] = [],  # noqa: B006
        region: Annotated[str | None, Field(max_length=200)] = None,
        actor: Annotated[str | None, Field(max_length=200)] = None,
        policy: Annotated[str | None, Field(max_length=200)] = None,
        sort: Annotated[str | None, Field(max_length=200, examples=["-announced,title"])] = None,
        limit: page_size = 10,
        cursor: cursor_type = None,
        max_items: max_items_type = 5,
    ) -> ListResult:
        given = {
            "q": q,
            "kind": kind,
            "status": status,
            "topic": topic,
            "region": region,
            "actor": actor,
            "policy": policy,
        }
        filters: queries.Filters = {name: value for name, value in given.items() if value}
        return records.list_records(
            ctx,
            type=type,
            filters=filters,
            sort=sort,
            limit=limit,
            cursor=cursor,
            max_items=max_items,
        )

    @server.tool(
        title="Timeline",
        description="Dated events in date order: policies announced, entering into force and "
        "ending; goal deadlines. Dates are YYYY, YYYY-MM or YYYY-MM-DD and match by overlap.",
        annotations=READ_ONLY,
    )
    def timeline(
        date_from: Annotated[str | None, Field(max_length=10, examples=["2019"])] = None,
        date_to: Annotated[str | None, Field(max_length=10, examples=["2025"])] = None,
        region: Annotated[str | None, Field(max_length=200, examples=["CN-TJ"])] = None,
        actor: Annotated[str | None, Field(max_length=200)] = None,
        topic: Annotated[list[str], Field(max_length=10)] = [],  # noqa: B006
        limit: page_size = 20,
        cursor: cursor_type = None,
    ) -> TimelineResult:
        return explore.timeline(
            ctx,
            date_from=date_from,
            date_to=date_to,
            region=region,
            actor=actor,
            topic=topic,
            limit=limit,
            cursor=cursor,
        )

    @server.tool(
        title="Relationship graph",
        description="Nodes and typed edges within `depth` links of a record (root is "
        "`<type>:<slug>`, e.g. actor:ministry-of-education): actor roles in policies, policy "
        "regions, policy relations, goal owners, parents, home regions.",
        annotations=READ_ONLY,
    )
    def graph(
        root: Annotated[str, Field(max_length=200, examples=["actor:ministry-of-education"])],
        depth: Annotated[int, Field(ge=0, le=ctx.settings.graph_max_depth)] = 1,
        limit: Annotated[int, Field(ge=1, le=ctx.settings.graph_max_nodes)] = 50,
    ) -> GraphResult:
        return explore.graph(ctx, root=root, depth=depth, limit=limit)

    @server.tool(
        title="What supports this fact",
        description="The evidence for a record: the citations (source, section, paragraph, "
        "verbatim excerpt) of the record itself and of each of its links (a policy's actors "
        "with their roles, its regions, its related policies).",
        annotations=READ_ONLY,
    )
    def what_supports(
        type: RecordType,
        slug: Annotated[str, Field(min_length=1, max_length=200)],
        max_items: max_items_type = 20,
        full: Annotated[bool, Field(description="Every fact.")] = False,
    ) -> SupportResult:
        return records.what_supports(
            ctx, type=type, slug=slug, max_items=None if full else max_items
        )

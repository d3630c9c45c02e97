"""policydb for AI agents: a read-only MCP server (the official ``mcp`` SDK).

``policydb mcp`` serves it over stdio; ``create_app`` mounts the same server at ``/mcp`` over
streamable HTTP (stateless, JSON answers), behind the API's own middleware (rate limit, body
limit, request ids). Every tool calls the services the HTTP routes call, within the same
limits (page sizes, graph depth and size, the per-request database time limit), and answers
structured content with an output schema. Records carry their citations inline; long lists
are trimmed (``max_items``, default 5) and ``truncated`` says how long each list really is.
"""

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.db import is_timeout, set_deadline
from app.errors import NotFound, PolicyDBError
from app.partial_dates import PartialDate
from app.schemas.explore import GraphEdge, GraphNode
from app.services import documents, explore, queries
from app.services import search as search_service
from app.services.installation import installation_secret
from app.services.paging import CursorCodec
from app.services.resources import ResourceName, is_record_key
from app.vocabularies import VOCABULARIES

log = logging.getLogger("policydb.mcp")

RecordType = Literal["policy", "actor", "region", "goal", "source"]
RESOURCE: dict[str, ResourceName] = {
    "policy": "policies",
    "actor": "actors",
    "region": "regions",
    "goal": "goals",
    "source": "sources",
}
SEARCH_SORT = "score"  # as the /search route signs its cursors
KINDS = {
    "policy": "policy_kind",
    "actor": "actor_kind",
    "region": "region_kind",
}
MAX_ITEMS = 1000
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

SessionFactory = Callable[[], sessionmaker[Session]]


def url_of(record_type: str, slug: str) -> str:
    return f"/api/v1/{RESOURCE[record_type]}/{slug}"


# --- output shapes ------------------------------------------------------------------------


class SearchItem(BaseModel):
    type: str
    slug: str
    title: str
    score: float
    snippet: str = Field(description="Matched words in <mark>...</mark>.")
    url: str


class SearchResult(BaseModel):
    items: list[SearchItem]
    total: int = Field(description="Hits in all.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class RecordResult(BaseModel):
    type: str
    slug: str
    url: str
    record: dict[str, Any] = Field(
        description="The record as GET /api/v1/{type}/{slug} answers it, citations inline."
    )
    truncated: dict[str, int] = Field(
        description="Lists cut to `max_items`: their full length. Ask with a larger "
        "`max_items` (or full=true) for more."
    )


class ListResult(BaseModel):
    items: list[RecordResult]
    total: int | None
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class TimelineItem(BaseModel):
    date: str
    precision: str
    event: str
    stage: int | None
    type: str
    slug: str
    title: str
    url: str


class TimelineResult(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class GraphResult(BaseModel):
    root: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = Field(description="The node limit was reached; more nodes exist.")


class Citation(BaseModel):
    source: str
    source_title: str | None = None
    section: str | None = None
    paragraph: int | None = None
    excerpt: str | None = None
    note: str | None = None


class Fact(BaseModel):
    fact: str = Field(description="What is stated: the record itself, or one of its links.")
    link: dict[str, Any] | None = Field(description="The link (role and other end), if any.")
    citations: list[Citation]


class SupportResult(BaseModel):
    type: str
    slug: str
    url: str
    facts: list[Fact]
    truncated: dict[str, int]


# --- helpers ------------------------------------------------------------------------------


def trim(document: dict[str, Any], max_items: int | None) -> tuple[dict[str, Any], dict[str, int]]:
    """The document with every list cut to ``max_items`` (None: whole), and what was cut."""
    if max_items is None:
        return document, {}
    cut: dict[str, int] = {}
    trimmed = dict(document)
    for key, value in document.items():
        if isinstance(value, list) and len(value) > max_items:
            trimmed[key] = value[:max_items]
            cut[key] = len(value)
    if "supports_total" in document and document["supports_total"] > len(
        trimmed.get("supports", [])
    ):
        cut["supports"] = document["supports_total"]
    return trimmed, cut


def _limit(value: int | None, full: bool) -> int | None:
    return None if full else value


# The filters each type's list takes (as over HTTP), and the vocabulary of coded ones.
FILTERS: dict[str, set[str]] = {
    "policy": {"q", "kind", "status", "topic", "region", "actor"},
    "actor": {"q", "kind", "region"},
    "region": {"q", "kind"},
    "goal": {"q", "policy", "actor"},
    "source": {"q"},
}
CODED = {"kind": None, "status": "policy_status", "topic": "topic"}


def _check_filters(record_type: str, given: dict[str, Any]) -> None:
    """Refuse a filter the type does not take, or a code no vocabulary has (as the API does)."""
    for name, value in given.items():
        if not value:
            continue
        if name not in FILTERS[record_type]:
            allowed = ", ".join(sorted(FILTERS[record_type]))
            raise ToolError(f"{name} does not filter {record_type} records (these do: {allowed})")
        if name in CODED:
            vocabulary = CODED[name] or KINDS[record_type]
            _check_codes(name, value, vocabulary)


def _check_codes(name: str, values: list[str], vocabulary: str) -> None:
    known = {v.value for v in VOCABULARIES[vocabulary]}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ToolError(f"unknown {name} {unknown}; known: {', '.join(sorted(known))}")


def _date(name: str, value: str | None) -> PartialDate | None:
    if value is None:
        return None
    try:
        return PartialDate.parse(value)
    except ValueError as exc:
        raise ToolError(f"{name}: {exc}") from None


def _tool_error(error: PolicyDBError) -> ToolError:
    details = "; ".join(f"{e.pointer}: {e.detail}" for e in error.errors)
    return ToolError(f"{error.detail}" + (f" ({details})" if details else ""))


# --- the server ---------------------------------------------------------------------------


def build_server(settings: Settings, session_factory: SessionFactory) -> MCPServer:
    """The MCP server; ``session_factory`` is asked for the sessionmaker at each call."""
    server = MCPServer(
        name="policydb",
        title="policydb",
        instructions="A cited database of public policy: policies, the actors behind them, "
        "the regions they apply to, the goals they set and the sources that state each fact. "
        "Search first, then get records by type and slug; every fact carries citations "
        "(source, section, paragraph, verbatim excerpt). Read-only.",
        version="0.1.0",
    )

    @contextmanager
    def reading() -> Iterator[Session]:
        session = session_factory()()
        set_deadline(session, settings.query_timeout_ms)
        try:
            yield session
        except PolicyDBError as error:
            raise _tool_error(error) from None
        except DBAPIError as error:
            if is_timeout(error):
                raise ToolError(
                    "the query took longer than this server allows; narrow it or retry"
                ) from None
            # Never SQL or a trace to the client; the log has it.
            log.exception("database error in an MCP tool")
            raise ToolError(
                "the database failed or is unavailable (is it migrated? policydb db upgrade)"
            ) from None
        finally:
            session.close()

    made: list[CursorCodec] = []

    def codec() -> CursorCodec:
        """Keyed like the REST API's: POLICYDB_CURSOR_SECRET, else the installation's own."""
        if not made:
            secret = settings.cursor_secret
            if not secret:
                with session_factory()() as session:
                    secret = installation_secret(session=session)
            made.append(CursorCodec(secret))
        return made[0]

    def record_document(session: Session, type: RecordType, slug: str) -> Any:
        if not is_record_key(slug):  # "²", "①", ids beyond 2^31, NULs: nothing to look up
            raise NotFound(f"no {type} with id or slug {slug!r}")
        return documents.document(session, RESOURCE[type], slug)

    page_size = Annotated[
        int, Field(ge=1, le=settings.max_page_size, description="Results per page.")
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
        after = None
        with reading() as session:
            if cursor:
                score, doc_id = codec().decode(cursor, SEARCH_SORT, [float, int])
                after = (float(score), int(doc_id))
            hits, total = search_service.search(
                session=session, q=q, record_types=types, limit=limit + 1, after=after
            )
            names = search_service.slugs_of(session, hits[:limit])
        next_cursor = None
        if len(hits) > limit:
            hits = hits[:limit]
            next_cursor = codec().encode(SEARCH_SORT, [hits[-1].score, hits[-1].document_id])
        items = []
        for hit in hits:
            slug, title = names[(hit.record_type, hit.record_id)]
            items.append(
                SearchItem(
                    type=hit.record_type,
                    slug=slug,
                    title=title,
                    score=hit.score,
                    snippet=hit.snippet,
                    url=url_of(hit.record_type, slug),
                )
            )
        return SearchResult(items=items, total=total, next_cursor=next_cursor)

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
        with reading() as session:
            document = record_document(session, type, slug)
        record, cut = trim(document, _limit(max_items, full))
        return RecordResult(
            type=type,
            slug=document["slug"],
            url=url_of(type, document["slug"]),
            record=record,
            truncated=cut,
        )

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
        _check_filters(
            type,
            {
                "q": q,
                "kind": kind,
                "status": status,
                "topic": topic,
                "region": region,
                "actor": actor,
                "policy": policy,
            },
        )
        filters = queries.Filters(
            q=q, kind=kind, status=status, topic=topic, region=region, actor=actor, policy=policy
        )
        params = queries.ListParams(
            limit=limit, cursor=cursor, sort=sort, count_cap=settings.count_cap
        )
        resource = RESOURCE[type]
        with reading() as session:
            page = queries.list_records(
                session=session, resource=resource, filters=filters, params=params, codec=codec()
            )
            found = documents.documents(session, resource, page.ids)
        items = []
        for document in found:
            record, cut = trim(document, max_items)
            items.append(
                RecordResult(
                    type=type,
                    slug=document["slug"],
                    url=url_of(type, document["slug"]),
                    record=record,
                    truncated=cut,
                )
            )
        return ListResult(items=items, total=page.total, next_cursor=page.next_cursor)

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
        _check_codes("topic", topic, "topic")
        filters = explore.TimelineFilters(
            start=_date("date_from", date_from),
            end=_date("date_to", date_to),
            region=region,
            actor=actor,
            topic=topic,
        )
        with reading() as session:
            page = explore.timeline(
                session=session, filters=filters, limit=limit, cursor=cursor, codec=codec()
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

    @server.tool(
        title="Relationship graph",
        description="Nodes and typed edges within `depth` links of a record (root is "
        "`<type>:<slug>`, e.g. actor:ministry-of-education): actor roles in policies, policy "
        "regions, policy relations, goal owners, parents, home regions.",
        annotations=READ_ONLY,
    )
    def graph(
        root: Annotated[str, Field(max_length=200, examples=["actor:ministry-of-education"])],
        depth: Annotated[int, Field(ge=0, le=settings.graph_max_depth)] = 1,
        limit: Annotated[int, Field(ge=1, le=settings.graph_max_nodes)] = 50,
    ) -> GraphResult:
        with reading() as session:
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
        with reading() as session:
            document = record_document(session, type, slug)
        facts = [
            Fact(
                fact=f"{type} {document['slug']}",
                link=None,
                citations=[Citation(**c) for c in document.get("citations") or []],
            )
        ]
        for field, other in (("actors", "actor"), ("regions", "region"), ("related", "policy")):
            for link in document.get(field) or [] if type == "policy" else []:
                shown = {k: v for k, v in link.items() if k != "citations"}
                role = link.get("role") or link.get("relation")
                facts.append(
                    Fact(
                        fact=f"{type} {document['slug']} -> {other} {link[other]} ({role})",
                        link=shown,
                        citations=[Citation(**c) for c in link.get("citations") or []],
                    )
                )
        limit = None if full else max_items
        truncated = {"facts": len(facts)} if limit is not None and len(facts) > limit else {}
        return SupportResult(
            type=type,
            slug=document["slug"],
            url=url_of(type, document["slug"]),
            facts=facts[:limit] if limit is not None else facts,
            truncated=truncated,
        )

    return server


# --- over HTTP ----------------------------------------------------------------------------


class _Endpoint:
    """The ASGI app at /mcp: the running session manager (one per app lifespan)."""

    def __init__(self) -> None:
        self.manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.manager is None:  # the app was not started (no lifespan)
            body = json.dumps(
                {
                    "type": "urn:policydb:problem:service-unavailable",
                    "title": "Service Unavailable",
                    "status": 503,
                    "detail": "the MCP server is not running (the app was not started)",
                    "instance": scope.get("path", "/mcp"),
                }
            ).encode()
            headers = [(b"content-type", b"application/problem+json"), (b"retry-after", b"5")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.manager.handle_request(scope, receive, send)


def mount(app: FastAPI, settings: Settings, session_factory: SessionFactory) -> None:
    """Serve the MCP server at /mcp over streamable HTTP (stateless; read-only tools)."""
    server = build_server(settings, session_factory)
    endpoint = _Endpoint()
    # Stateless JSON answers: no GET event stream (one would stay open per client for free).
    app.router.routes.append(Route("/mcp", endpoint=endpoint, methods=["POST", "DELETE"]))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        # A session manager runs once; each start of the app gets its own.
        endpoint.manager = StreamableHTTPSessionManager(
            app=server._lowlevel_server,
            json_response=True,
            stateless=True,
            max_request_body_size=min(settings.max_body_bytes, 1024 * 1024),
            # Reads are open to anyone who can reach the API, as they are over REST.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        try:
            async with outer(a) as state, endpoint.manager.run():
                yield state
        finally:
            endpoint.manager = None

    app.router.lifespan_context = lifespan

"""The record tools' answers: search, one record, a filtered list, and the evidence for a
record; each calls the services the HTTP routes call."""

from app.mcp_server.context import (
    RESOURCE,
    RecordType,
    ToolContext,
    check_filters,
    record_document,
    trim,
    url_of,
)
from app.mcp_server.shapes import (
    Citation,
    Fact,
    ListResult,
    RecordResult,
    SearchItem,
    SearchResult,
    SupportResult,
)
from app.services import documents, queries
from app.services import search as search_service

SEARCH_SORT = "score"  # as the /search route signs its cursors


def search(
    ctx: ToolContext, *, q: str, types: list[RecordType], limit: int, cursor: str | None
) -> SearchResult:
    after = None
    with ctx.reading() as session:
        if cursor:
            score, doc_id = ctx.codec().decode(cursor, SEARCH_SORT, [float, int])
            after = (float(score), int(doc_id))
        hits, total = search_service.search(
            session=session, q=q, record_types=types, limit=limit + 1, after=after
        )
        names = search_service.slugs_of(session, hits[:limit])
    next_cursor = None
    if len(hits) > limit:
        hits = hits[:limit]
        next_cursor = ctx.codec().encode(SEARCH_SORT, [hits[-1].score, hits[-1].document_id])
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


def get_record(
    ctx: ToolContext, *, type: RecordType, slug: str, max_items: int | None
) -> RecordResult:
    with ctx.reading() as session:
        document = record_document(session, type, slug)
    record, cut = trim(document, max_items)
    return RecordResult(
        type=type,
        slug=document["slug"],
        url=url_of(type, document["slug"]),
        record=record,
        truncated=cut,
    )


def list_records(
    ctx: ToolContext,
    *,
    type: RecordType,
    filters: queries.Filters,
    sort: str | None,
    limit: int,
    cursor: str | None,
    max_items: int,
) -> ListResult:
    check_filters(type, filters)
    params = queries.ListParams(
        limit=limit, cursor=cursor, sort=sort, count_cap=ctx.settings.count_cap
    )
    resource = RESOURCE[type]
    with ctx.reading() as session:
        page = queries.list_records(
            session=session, resource=resource, filters=filters, params=params, codec=ctx.codec()
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


def what_supports(
    ctx: ToolContext, *, type: RecordType, slug: str, max_items: int | None
) -> SupportResult:
    with ctx.reading() as session:
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
    truncated = {"facts": len(facts)} if max_items is not None and len(facts) > max_items else {}
    return SupportResult(
        type=type,
        slug=document["slug"],
        url=url_of(type, document["slug"]),
        facts=facts[:max_items] if max_items is not None else facts,
        truncated=truncated,
    )

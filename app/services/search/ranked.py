"""Ranked search across every type: a page of hits (best first), the total, and a snippet
for each hit of the page."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, Numeric, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from app.models import Actor, Goal, Policy, Region, SearchDocument, Source
from app.services.search.index import RECORD_TYPES
from app.services.search.query_syntax import (
    fts5_query,
    fts_hits,
    fts_table,
    is_postgres,
    parse_query,
    tsquery,
)
from app.services.search.snippets import SNIPPET_END, SNIPPET_START, html_snippet


@dataclass
class Hit:
    record_type: str
    record_id: int
    document_id: int
    title: str
    score: float
    snippet: str


def search(
    *,
    session: Session,
    q: str,
    record_types: Iterable[str],
    limit: int,
    after: tuple[float, int] | None = None,
) -> tuple[list[Hit], int]:
    """Ranked hits (best first; ties by document id) and how many match in all.

    Ranking touches every match, so it reads ids and scores only; snippets, the costly part,
    are made for the page's hits alone.
    """
    terms = parse_query(q)
    postgres = is_postgres(session)
    statements = _STATEMENTS["postgresql" if postgres else "sqlite"]
    params: dict[str, Any] = {
        "query": tsquery(terms) if postgres else fts5_query(terms),
        "types": list(record_types) or list(RECORD_TYPES),
        "limit": limit,
    }
    if after is None:
        ranked_rows = session.execute(statements.first_page, params).all()
    else:
        params["last_score"], params["last_id"] = after
        ranked_rows = session.execute(statements.next_page, params).all()
    if ranked_rows:
        total = int(ranked_rows[0].total)
    else:  # past the last hit: the window saw no row, so count apart
        total = session.scalar(statements.count, params) or 0
    params["ids"] = [row.doc_id for row in ranked_rows]
    details = {row[0]: row for row in session.execute(statements.snippets, params)}
    hits = []
    for row in ranked_rows:
        _id, record_type, record_id, title, snippet = details[row.doc_id]
        hits.append(
            Hit(
                record_type=record_type,
                record_id=record_id,
                document_id=row.doc_id,
                title=title,
                score=float(row.score),
                snippet=html_snippet(snippet),
            )
        )
    return hits, total


@dataclass(frozen=True)
class _Statements:
    """The statements of a search, built once per engine (building them per request cost
    more than running them); the query, types, page and ids are bound parameters."""

    first_page: Any
    next_page: Any
    count: Any
    snippets: Any


def _statements(postgres: bool) -> _Statements:
    if postgres:
        query = func.to_tsquery("simple", bindparam("query"))
        document: Any = literal_column("search_documents.document")
        score: Any = func.round(func.ts_rank(document, query, 1).cast(Numeric(12, 6)), 6)
        scored = select(SearchDocument.id.label("doc_id"), score.label("score")).where(
            document.op("@@")(query), SearchDocument.record_type.in_(bindparam("types"))
        )
    else:
        hits = fts_hits(bindparam("query"), with_rank=True)
        scored = (
            select(hits.c.doc_id, hits.c.score)
            .join(SearchDocument, SearchDocument.id == hits.c.doc_id)
            .where(SearchDocument.record_type.in_(bindparam("types")))
        )
    # The total is counted by a window over every match in the same pass as the ranking
    # (the cursor filters outside it), so the full-text index is walked once per page.
    ranked = select(scored.subquery(), func.count().over().label("total")).subquery()
    page = select(ranked).order_by(ranked.c.score.desc(), ranked.c.doc_id)
    last_score: Any = bindparam("last_score", type_=Float)
    last_id: Any = bindparam("last_id", type_=Integer)
    after = (ranked.c.score < last_score) | (
        (ranked.c.score == last_score) & (ranked.c.doc_id > last_id)
    )
    return _Statements(
        first_page=page.limit(bindparam("limit")),
        next_page=page.where(after).limit(bindparam("limit")),
        count=select(func.count()).select_from(scored.subquery()),
        snippets=_snippets(postgres),
    )


def _snippets(postgres: bool) -> Any:
    """(document id, type, record id, title, snippet) for the documents ``ids``."""
    columns = (
        SearchDocument.id,
        SearchDocument.record_type,
        SearchDocument.record_id,
        SearchDocument.title,
    )
    if postgres:
        headline = func.ts_headline(
            "simple",
            SearchDocument.title + " — " + SearchDocument.body,
            func.to_tsquery("simple", bindparam("query")),
            f"StartSel={SNIPPET_START}, StopSel={SNIPPET_END}, MaxWords=24, MinWords=8, "
            "MaxFragments=1",
        )
        return select(*columns, headline).where(SearchDocument.id.in_(bindparam("ids")))
    snippet: Any = literal_column(
        f"snippet(search_fts, -1, '{SNIPPET_START}', '{SNIPPET_END}', ' … ', 16)"
    )
    return (
        select(*columns, snippet)
        .select_from(fts_table.join(SearchDocument, SearchDocument.id == fts_table.c.rowid))
        .where(
            literal_column("search_fts").op("MATCH")(bindparam("query")),
            fts_table.c.rowid.in_(bindparam("ids")),
        )
    )


def slugs_of(session: Session, hits: Sequence[Hit]) -> dict[tuple[str, int], tuple[str, str]]:
    """(type, id) -> (slug, display name) for a page of hits, one query per record type."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    by_type: dict[str, list[int]] = {}
    for hit in hits:
        by_type.setdefault(hit.record_type, []).append(hit.record_id)
    for record_type, ids in by_type.items():
        for record_id, slug, label in session.execute(_NAMES[record_type], {"ids": ids}):
            found[(record_type, record_id)] = (slug, label)
    return found


def _label_column(record_type: str) -> Any:
    return {
        "policy": Policy.title,
        "actor": Actor.name,
        "region": Region.name,
        "goal": Goal.statement,
        "source": Source.title,
    }[record_type]


_STATEMENTS = {"postgresql": _statements(True), "sqlite": _statements(False)}
_NAMES = {
    record_type: select(model.id, model.slug, _label_column(record_type)).where(
        model.id.in_(bindparam("ids"))
    )
    for record_type, model in RECORD_TYPES.items()
}

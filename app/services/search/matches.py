"""Full-text matches for other services: the ids matching a list filter's ``q``, and the
few best candidates for a name being reconciled."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, literal, literal_column, select
from sqlalchemy.orm import Session

from app.models import SearchDocument
from app.services.search.query_syntax import (
    MAX_TERMS,
    fts5_query,
    fts_hits,
    is_postgres,
    parse_query,
    tokens,
    tsquery,
)
from app.services.search.text import folded_words, searchable_text

# Words too common to tell names apart: left out of an ORed candidate search (unless
# nothing else is left), where each would match a large part of the index.
STOP_WORDS = frozenset(
    {"a", "an", "and", "at", "de", "del", "der", "des", "di", "du", "et", "for", "in", "la"}
    | {"le", "of", "on", "the", "to", "und"}
)


def matching_ids(session: Session, record_type: str, q: str, param: str = "q") -> Select[Any]:
    """A subquery of the ids of ``record_type`` records matching the query ``q``."""
    terms = parse_query(q, param)
    if is_postgres(session):
        query = func.to_tsquery("simple", tsquery(terms))
        return select(SearchDocument.record_id).where(
            SearchDocument.record_type == record_type,
            literal_column("search_documents.document").op("@@")(query),
        )
    hits = fts_hits(literal(fts5_query(terms)), with_rank=False)
    return (
        select(SearchDocument.record_id)
        .join(hits, SearchDocument.id == hits.c.doc_id)
        .where(SearchDocument.record_type == record_type)
    )


def candidate_documents(
    session: Session,
    text: str,
    record_types: Sequence[str],
    limit: int,
    *,
    every_word: bool,
) -> list[tuple[str, int]]:
    """(type, id) of the records best matching the words of ``text``, best first.

    For reconciliation: with ``every_word`` the words are ANDed (selective, the usual case);
    without, ORed, for a name typed with words the record lacks ("Govt", "Dept."), leaving
    out stop words. The caller scores the few candidates. Only documents holding the words
    are read, through the full-text index.
    """
    words = list(dict.fromkeys(tokens(text)))
    if not every_word:
        words += tokens(folded_words(text))
        words = list(dict.fromkeys(t for t in words if t not in STOP_WORDS)) or words
    words = words[: MAX_TERMS * 2]
    if not words or not record_types:
        return []
    # Titles (names) about as long as the query first, then by rank: among thousands of
    # "Ministry of Education and ..." the "Ministry of Education" itself comes first.
    length = len(searchable_text(text).strip())
    closeness: Any = func.abs(func.length(SearchDocument.title) - length)
    if is_postgres(session):
        joiner = " & " if every_word else " | "
        query: Any = func.to_tsquery("simple", joiner.join(f"'{t}'" for t in words))
        document: Any = literal_column("search_documents.document")
        stmt = (
            select(SearchDocument.record_type, SearchDocument.record_id)
            .where(document.op("@@")(query), SearchDocument.record_type.in_(record_types))
            .order_by(closeness, func.ts_rank(document, query, 1).desc(), SearchDocument.id)
            .limit(limit)
        )
    else:
        joiner = " AND " if every_word else " OR "
        hits = fts_hits(literal(joiner.join(f'"{t}"' for t in words)), with_rank=True)
        stmt = (
            select(SearchDocument.record_type, SearchDocument.record_id)
            .join(hits, SearchDocument.id == hits.c.doc_id)
            .where(SearchDocument.record_type.in_(record_types))
            .order_by(closeness, hits.c.score.desc(), SearchDocument.id)
            .limit(limit)
        )
    return [(row[0], int(row[1])) for row in session.execute(stmt)]

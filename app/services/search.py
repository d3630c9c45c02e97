"""Ranked full-text search on both engines: SQLite FTS5 and PostgreSQL tsvector.

Every record has a row in ``search_documents`` (title + body text), rewritten whenever the
record is flushed, so the index can never lag behind a write, an import or a delete. The
engine-specific index over that table is built by the migrations.

Queries are parsed here, not passed through: words are ANDed, ``"a phrase"`` matches words
in order and ``robot*`` matches a prefix; anything else that cannot be parsed is a 400.
Chinese (and other CJK) text has no spaces between words, so runs of CJK characters are
indexed and queried as overlapping character pairs; a Chinese name, or any part of it of two
characters or more, finds its record.
"""

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Numeric,
    Select,
    bindparam,
    column,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    tuple_,
)
from sqlalchemy.orm import Session, UOWTransaction

from app.errors import BadQuery, ErrorDetail
from app.models import Actor, Goal, Policy, Region, SearchDocument, Source

RECORD_TYPES: dict[str, type[Any]] = {
    "policy": Policy,
    "actor": Actor,
    "region": Region,
    "goal": Goal,
    "source": Source,
}
_TYPE_OF = {model: name for name, model in RECORD_TYPES.items()}

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
MAX_TERMS = 16
# The engines mark matches with two control characters that written text cannot hold (see
# app/safe_text.py); the snippet is then HTML-escaped and only they become <mark> tags, so a
# record's own "<script>" or "<mark>" comes back as text, never as markup.
SNIPPET_START, SNIPPET_END = "\x02", "\x03"
_STRAY_MARKERS = re.compile("[\x00-\x08\x0b-\x1f]")

_fts = table("search_fts", column("rowid"), column("title"), column("body"))


def _cjk_pairs(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def searchable_text(text: str) -> str:
    """Text as the index sees it: CJK runs become overlapping character pairs."""
    return _CJK.sub(_cjk_pairs, text)


def _join(*parts: Any) -> str:
    words: list[str] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, dict):
            words.extend(str(v) for v in part.values())
        elif isinstance(part, list):
            words.extend(str(v.get("value", "")) if isinstance(v, dict) else str(v) for v in part)
        else:
            words.append(str(part))
    return searchable_text(" ".join(w for w in words if w))


_CJK_CLASS = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]"
_WIDE = (
    r"[\u3000-\u303f\uff00-\uffef\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]"
)
_REJOIN = [
    (re.compile(rf"{SNIPPET_END}(\s+){SNIPPET_START}"), r"\1"),
    (re.compile(rf"({_CJK_CLASS}) ({SNIPPET_START})\1"), r"\2\1"),
    (re.compile(rf"({_CJK_CLASS})({SNIPPET_END}) \1"), r"\1\2"),
    (re.compile(rf"({_CJK_CLASS}) \1"), r"\1"),
    (re.compile(rf"(?<={_WIDE}) +(?={_WIDE}|{SNIPPET_START}{_WIDE})"), ""),
    (re.compile(rf"(?<={_WIDE}{SNIPPET_END}) +(?={_WIDE})"), ""),
]


def readable_snippet(snippet: str) -> str:
    """Undo the character pairs of indexed CJK text ("人工 工智 智能" -> "人工智能")."""
    previous = None
    while previous != snippet:
        previous = snippet
        for pattern, replacement in _REJOIN:
            snippet = pattern.sub(replacement, snippet)
    return snippet


def html_snippet(snippet: str) -> str:
    """A snippet as HTML: the text escaped, each match in <mark>...</mark>."""
    text = readable_snippet(snippet)
    marked = 0
    parts: list[str] = []
    for char_run in re.split("([\x02\x03])", text):
        if char_run == SNIPPET_START and not marked:
            parts.append("<mark>")
            marked = 1
        elif char_run == SNIPPET_END and marked:
            parts.append("</mark>")
            marked = 0
        else:
            parts.append(html.escape(_STRAY_MARKERS.sub("", char_run), quote=False))
    if marked:
        parts.append("</mark>")
    return "".join(parts)


def document_text(record: Any) -> tuple[str, str]:
    """(title, body) of a record's search document; the body ends with the title's and
    body's words that carry diacritics, without them (see ``folded_words``)."""
    title, body = _document_text(record)
    if folded := folded_words(f"{title} {body}"):
        body = f"{body} {folded}" if body else folded
    return title, body


def _document_text(record: Any) -> tuple[str, str]:
    if isinstance(record, Policy):
        return _join(record.title), _join(
            record.short_name, record.titles, record.summary, record.identifiers
        )
    if isinstance(record, Actor):
        return _join(record.name), _join(
            record.names, record.aliases, record.description, record.identifiers
        )
    if isinstance(record, Region):
        return _join(record.name), _join(
            record.names, record.aliases, record.iso_code, record.description
        )
    if isinstance(record, Goal):
        return _join(record.statement), _join(record.metric, record.unit)
    assert isinstance(record, Source)
    return _join(record.title), _join(record.publisher, record.series, record.authors)


def folded_words(text: str) -> str:
    """The words of ``text`` that carry diacritics, without them ("Tiānjīn" -> "Tianjin").

    SQLite's FTS5 tokenizer folds diacritics itself; PostgreSQL's ``simple`` configuration
    does not, so these are added to every document's body, and pinyin typed without tone
    marks ("Guowuyuan") finds its record on both engines.
    """
    words = []
    for word in _WORD.findall(text):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
        )
        if plain != word and plain.isascii():
            words.append(plain)
    return " ".join(words)


def _sync_search_documents(session: Session, _flush: UOWTransaction) -> None:
    """After every flush, rewrite the documents of the records it inserted, changed or deleted."""
    touched = [o for o in (*session.new, *session.dirty) if type(o) in _TYPE_OF]
    gone = [o for o in session.deleted if type(o) in _TYPE_OF]
    if not touched and not gone:
        return
    keys = [(_TYPE_OF[type(o)], o.id) for o in (*touched, *gone)]
    connection = session.connection()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        connection.execute(
            delete(SearchDocument).where(
                tuple_(SearchDocument.record_type, SearchDocument.record_id).in_(chunk)
            )
        )
    rows = []
    for record in touched:
        title, body = document_text(record)
        rows.append(
            {
                "record_type": _TYPE_OF[type(record)],
                "record_id": record.id,
                "title": title,
                "body": body,
            }
        )
    if rows:
        connection.execute(insert(SearchDocument), rows)


event.listen(Session, "after_flush", _sync_search_documents)


@dataclass(frozen=True)
class Term:
    tokens: tuple[str, ...]
    prefix: bool


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _WORD.findall(searchable_text(text))]


def parse_query(q: str, param: str = "q") -> list[Term]:
    """Words (ANDed), "phrases" and prefix* terms; a 400 for anything else."""

    def bad(detail: str) -> BadQuery:
        return BadQuery("malformed search query", [ErrorDetail(f"/query/{param}", detail)])

    if q.count('"') % 2:
        raise bad('unbalanced double quote: close the phrase with "')
    terms: list[Term] = []
    for phrase, word in _TERM.findall(q):
        text = phrase if phrase else word
        prefix = not phrase and word.endswith("*")
        if not phrase and "*" in word.rstrip("*"):
            raise bad(f"{word!r}: '*' may only end a word (prefix search)")
        tokens = _tokens(text.rstrip("*"))
        if not tokens:
            if phrase or word.strip("*") == "":
                raise bad(f"{text!r} has no words to search for")
            continue  # punctuation between words, e.g. "&"
        terms.append(Term(tuple(tokens), prefix))
    if not terms:
        raise bad("the query has no words to search for")
    if len(terms) > MAX_TERMS:
        raise bad(f"at most {MAX_TERMS} terms")
    return terms


def _fts5_query(terms: Sequence[Term]) -> str:
    parts = []
    for term in terms:
        phrase = '"' + " ".join(term.tokens) + '"'
        parts.append(phrase + ("*" if term.prefix else ""))
    return " AND ".join(parts)


def _tsquery(terms: Sequence[Term]) -> str:
    parts = []
    for term in terms:
        lexemes = [f"'{t}'" for t in term.tokens]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def matching_ids(session: Session, record_type: str, q: str, param: str = "q") -> Select[Any]:
    """A subquery of the ids of ``record_type`` records matching the query ``q``."""
    terms = parse_query(q, param)
    if _is_postgres(session):
        query = func.to_tsquery("simple", _tsquery(terms))
        return select(SearchDocument.record_id).where(
            SearchDocument.record_type == record_type,
            literal_column("search_documents.document").op("@@")(query),
        )
    hits = _fts_hits(literal(_fts5_query(terms)), with_rank=False)
    return (
        select(SearchDocument.record_id)
        .join(hits, SearchDocument.id == hits.c.doc_id)
        .where(SearchDocument.record_type == record_type)
    )


# Words too common to tell names apart: left out of an ORed candidate search (unless
# nothing else is left), where each would match a large part of the index.
STOP_WORDS = frozenset(
    {"a", "an", "and", "at", "de", "del", "der", "des", "di", "du", "et", "for", "in", "la"}
    | {"le", "of", "on", "the", "to", "und"}
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
    tokens = list(dict.fromkeys(_tokens(text)))
    if not every_word:
        tokens += _tokens(folded_words(text))
        tokens = list(dict.fromkeys(t for t in tokens if t not in STOP_WORDS)) or tokens
    tokens = tokens[: MAX_TERMS * 2]
    if not tokens or not record_types:
        return []
    # Titles (names) about as long as the query first, then by rank: among thousands of
    # "Ministry of Education and ..." the "Ministry of Education" itself comes first.
    length = len(searchable_text(text).strip())
    closeness: Any = func.abs(func.length(SearchDocument.title) - length)
    if _is_postgres(session):
        joiner = " & " if every_word else " | "
        query: Any = func.to_tsquery("simple", joiner.join(f"'{t}'" for t in tokens))
        document: Any = literal_column("search_documents.document")
        stmt = (
            select(SearchDocument.record_type, SearchDocument.record_id)
            .where(document.op("@@")(query), SearchDocument.record_type.in_(record_types))
            .order_by(closeness, func.ts_rank(document, query, 1).desc(), SearchDocument.id)
            .limit(limit)
        )
    else:
        joiner = " AND " if every_word else " OR "
        hits = _fts_hits(literal(joiner.join(f'"{t}"' for t in tokens)), with_rank=True)
        stmt = (
            select(SearchDocument.record_type, SearchDocument.record_id)
            .join(hits, SearchDocument.id == hits.c.doc_id)
            .where(SearchDocument.record_type.in_(record_types))
            .order_by(closeness, hits.c.score.desc(), SearchDocument.id)
            .limit(limit)
        )
    return [(row[0], int(row[1])) for row in session.execute(stmt)]


def _fts_hits(query: Any, *, with_rank: bool) -> Any:
    """The FTS5 matches (and their bm25 score), computed first and on their own.

    Without the MATERIALIZED fence SQLite's planner may walk every document of a type and probe
    the index for each (0.5 s at 10k policies instead of a few ms).
    """
    columns = [_fts.c.rowid.label("doc_id")]
    if with_rank:
        rank: Any = literal_column("bm25(search_fts, 10.0, 1.0)")
        columns.append(func.round(-rank, 6).label("score"))
    matched = select(*columns).where(literal_column("search_fts").op("MATCH")(query))
    return matched.cte("fts_hits").prefix_with("MATERIALIZED")


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
    postgres = _is_postgres(session)
    statements = _STATEMENTS["postgresql" if postgres else "sqlite"]
    params: dict[str, Any] = {
        "query": _tsquery(terms) if postgres else _fts5_query(terms),
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
        hits = _fts_hits(bindparam("query"), with_rank=True)
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
        .select_from(_fts.join(SearchDocument, SearchDocument.id == _fts.c.rowid))
        .where(
            literal_column("search_fts").op("MATCH")(bindparam("query")),
            _fts.c.rowid.in_(bindparam("ids")),
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

"""The search query language, parsed here rather than passed through: words are ANDed,
``"a phrase"`` matches words in order and ``robot*`` matches a prefix; anything else that
cannot be parsed is a 400. Parsed terms are written in each engine's own syntax (FTS5
MATCH, PostgreSQL tsquery)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, func, literal_column, select, table
from sqlalchemy.orm import Session

from app.errors import BadQuery, ErrorDetail
from app.services.search.text import WORD, searchable_text

MAX_TERMS = 16
_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')

fts_table = table("search_fts", column("rowid"), column("title"), column("body"))


@dataclass(frozen=True)
class Term:
    tokens: tuple[str, ...]
    prefix: bool


def tokens(text: str) -> list[str]:
    return [t.lower() for t in WORD.findall(searchable_text(text))]


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
        found = tokens(text.rstrip("*"))
        if not found:
            if phrase or word.strip("*") == "":
                raise bad(f"{text!r} has no words to search for")
            continue  # punctuation between words, e.g. "&"
        terms.append(Term(tuple(found), prefix))
    if not terms:
        raise bad("the query has no words to search for")
    if len(terms) > MAX_TERMS:
        raise bad(f"at most {MAX_TERMS} terms")
    return terms


def fts5_query(terms: Sequence[Term]) -> str:
    parts = []
    for term in terms:
        phrase = '"' + " ".join(term.tokens) + '"'
        parts.append(phrase + ("*" if term.prefix else ""))
    return " AND ".join(parts)


def tsquery(terms: Sequence[Term]) -> str:
    parts = []
    for term in terms:
        lexemes = [f"'{t}'" for t in term.tokens]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def fts_hits(query: Any, *, with_rank: bool) -> Any:
    """The FTS5 matches (and their bm25 score), computed first and on their own.

    Without the MATERIALIZED fence SQLite's planner may walk every document of a type and probe
    the index for each (0.5 s at 10k policies instead of a few ms).
    """
    columns = [fts_table.c.rowid.label("doc_id")]
    if with_rank:
        rank: Any = literal_column("bm25(search_fts, 10.0, 1.0)")
        columns.append(func.round(-rank, 6).label("score"))
    matched = select(*columns).where(literal_column("search_fts").op("MATCH")(query))
    return matched.cte("fts_hits").prefix_with("MATERIALIZED")

"""Ranked full-text search on both engines: SQLite FTS5 and PostgreSQL tsvector.

``index`` keeps a ``search_documents`` row per record in step with every flush (importing
this package registers that hook); ``text`` says what a record's document holds;
``query_syntax`` parses the query language; ``ranked`` answers /search; ``matches`` serves
list filters and reconciliation; ``snippets`` makes matched text safe HTML.

Chinese (and other CJK) text has no spaces between words, so runs of CJK characters are
indexed and queried as overlapping character pairs; a Chinese name, or any part of it of two
characters or more, finds its record.
"""

from app.services.search.index import RECORD_TYPES
from app.services.search.matches import candidate_documents, matching_ids
from app.services.search.query_syntax import MAX_TERMS, parse_query
from app.services.search.ranked import Hit, search, slugs_of
from app.services.search.snippets import html_snippet
from app.services.search.text import document_text, folded_words, searchable_text

__all__ = [
    "MAX_TERMS",
    "RECORD_TYPES",
    "Hit",
    "candidate_documents",
    "document_text",
    "folded_words",
    "html_snippet",
    "matching_ids",
    "parse_query",
    "search",
    "searchable_text",
    "slugs_of",
]

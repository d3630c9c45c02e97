"""A record's text as the index holds it: its title and body, CJK runs as overlapping
character pairs, and words with diacritics also without them."""

import re
import unicodedata
from typing import Any

from app.resources import RESOURCES, SearchText

# What each type of record's search document is made of, by model.
SEARCH_TEXT: dict[type[Any], SearchText] = {r.model: r.search for r in RESOURCES.values()}

WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")


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


def document_text(record: Any) -> tuple[str, str]:
    """(title, body) of a record's search document (the columns its descriptor names); the
    body ends with the title's and body's words that carry diacritics, without them (see
    ``folded_words``)."""
    search = SEARCH_TEXT[type(record)]
    title = _join(getattr(record, search.title.key))
    body = _join(*(getattr(record, column.key) for column in search.body))
    if folded := folded_words(f"{title} {body}"):
        body = f"{body} {folded}" if body else folded
    return title, body


def folded_words(text: str) -> str:
    """The words of ``text`` that carry diacritics, without them ("Tiānjīn" -> "Tianjin").

    SQLite's FTS5 tokenizer folds diacritics itself; PostgreSQL's ``simple`` configuration
    does not, so these are added to every document's body, and pinyin typed without tone
    marks ("Guowuyuan") finds its record on both engines.
    """
    words = []
    for word in WORD.findall(text):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
        )
        if plain != word and plain.isascii():
            words.append(plain)
    return " ".join(words)

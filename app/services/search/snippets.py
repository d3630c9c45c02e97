"""Snippets of matched text, made safe and readable: CJK pairs joined back, the text
HTML-escaped, and only the engines' match markers turned into <mark> tags."""

import html
import re

# The engines mark matches with two control characters that written text cannot hold (see
# app/safe_text.py); the snippet is then HTML-escaped and only they become <mark> tags, so a
# record's own "<script>" or "<mark>" comes back as text, never as markup.
SNIPPET_START, SNIPPET_END = "\x02", "\x03"
_STRAY_MARKERS = re.compile("[\x00-\x08\x0b-\x1f]")

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

"""Checks on citations against a source's full text."""

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Citation, Source

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """Whitespace collapsed and typographic quote marks made plain; nothing else changes."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


@dataclass(frozen=True)
class CitationCheck:
    """How a text file compares with what a source records: its excerpts and its SHA-256."""

    checked: int  # excerpts citing the source
    missing: list[str]  # those not found verbatim in the text
    recorded_sha256: str | None  # the source's digest of its text, if it records one
    text_sha256: str

    @property
    def digest_matches(self) -> bool:
        """True when the source records no digest, or the text has the one recorded."""
        return self.recorded_sha256 in (None, self.text_sha256)


def check_citations(*, session: Session, source_slug: str, content: bytes) -> CitationCheck:
    """Compare a source's excerpts and recorded SHA-256 with ``content``, its text as bytes."""
    source = session.execute(
        select(Source.id, Source.sha256).where(Source.slug == source_slug)
    ).one_or_none()
    if source is None:
        raise NotFound(f"no source with slug {source_slug!r}")
    haystack = normalise(content.decode("utf-8"))
    excerpts = session.scalars(
        select(Citation.excerpt)
        .where(Citation.source_id == source.id, Citation.excerpt.is_not(None))
        .order_by(Citation.id)
    ).all()
    missing = [e for e in excerpts if e is not None and normalise(e) not in haystack]
    return CitationCheck(
        checked=len(excerpts),
        missing=missing,
        recorded_sha256=source.sha256,
        text_sha256=hashlib.sha256(content).hexdigest(),
    )

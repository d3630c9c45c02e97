"""Checks on citations against a source's full text."""

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Citation, Source

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """Whitespace collapsed and typographic quote marks made plain; nothing else changes."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def unverified_excerpts(*, session: Session, source_slug: str, text: str) -> tuple[int, list[str]]:
    """How many excerpts cite the source, and those not found verbatim in ``text``."""
    source_id = session.scalar(select(Source.id).where(Source.slug == source_slug))
    if source_id is None:
        raise NotFound(f"no source with slug {source_slug!r}")
    haystack = normalise(text)
    excerpts = session.scalars(
        select(Citation.excerpt)
        .where(Citation.source_id == source_id, Citation.excerpt.is_not(None))
        .order_by(Citation.id)
    ).all()
    missing = [e for e in excerpts if e is not None and normalise(e) not in haystack]
    return len(excerpts), missing

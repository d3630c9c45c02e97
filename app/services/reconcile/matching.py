"""Reconciling a query batch: candidates from indexed lookups only (slug, ISO code, and the
full-text index: the query's words ANDed, or ORed when few records hold them all), a few
dozen at most per query, each scored (``scoring``), best first."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import Actor, Policy, PolicyRegion, Region
from app.services import search as search_service
from app.services.reconcile.entities import MODELS, TYPES, describe, display_name
from app.services.reconcile.parsing import Query
from app.services.reconcile.scoring import (
    EXACT,
    MATCH_AT,
    MATCH_MARGIN,
    Candidate,
    apply_properties,
    name_score,
    normalise,
)

MAX_CANDIDATES = 40  # full-text candidates scored per query


@dataclass
class Result:
    id: str
    name: str
    type: str
    description: str
    score: float
    match: bool
    features: dict[str, float | bool]


_LOAD: dict[str, Sequence[Any]] = {
    "actor": (selectinload(Actor.region), selectinload(Actor.parent)),
    "region": (selectinload(Region.parent),),
    "policy": (selectinload(Policy.region_links).selectinload(PolicyRegion.region),),
    "goal": (),
    "source": (),
}


def _load(session: Session, record_type: str, where: Any, limit: int) -> list[Any]:
    model = MODELS[record_type]
    stmt = select(model).where(where).options(*_LOAD[record_type]).order_by(model.id).limit(limit)
    return list(session.scalars(stmt))


def _with_acronym(text: str) -> str:
    """ "C.C.P." is indexed as "CCP": single letters are also searched run together."""
    letters = [w for w in normalise(text).split() if len(w) == 1 and w.isascii()]
    return f"{text} {''.join(letters)}" if len(letters) > 1 else text


def _text_hits(session: Session, query: Query) -> list[tuple[str, int]]:
    """(type, id) of the records whose search documents hold the query's words."""
    hits = search_service.candidate_documents(
        session, query.text, query.types, MAX_CANDIDATES, every_word=True
    )
    if len(hits) < MAX_CANDIDATES // 4:  # few records hold every word: any will do
        more = search_service.candidate_documents(
            session, _with_acronym(query.text), query.types, MAX_CANDIDATES, every_word=False
        )
        hits += [hit for hit in more if hit not in hits]
    return hits


def _candidates(session: Session, query: Query) -> list[Candidate]:
    """Every record the query may mean, each loaded once, from indexed lookups only."""
    found: dict[tuple[str, int], Candidate] = {}

    def add(record_type: str, records: Iterable[Any]) -> None:
        for record in records:
            found.setdefault((record_type, record.id), Candidate(record_type, record))

    text = query.text
    if text:
        slug = text.partition(":")[2] if text.partition(":")[0] in TYPES else text
        slug = slug.strip().lower()
        for record_type in query.types:
            add(record_type, _load(session, record_type, MODELS[record_type].slug == slug, 1))
        if "region" in query.types and len(text) <= 10:
            add("region", _load(session, "region", Region.iso_code == text.upper(), 1))
        by_type: dict[str, list[int]] = {}
        for record_type, record_id in _text_hits(session, query):
            if (record_type, record_id) not in found:
                by_type.setdefault(record_type, []).append(record_id)
        for record_type, ids in by_type.items():
            add(record_type, _load(session, record_type, MODELS[record_type].id.in_(ids), len(ids)))
    else:  # properties only: candidates from the indexed constraints
        for record_type in query.types:
            conditions = _indexed_conditions(session, record_type, query.properties)
            if conditions is not None:
                add(record_type, _load(session, record_type, conditions, MAX_CANDIDATES))
    return list(found.values())


def _indexed_conditions(
    session: Session, record_type: str, properties: Sequence[tuple[str, list[str]]]
) -> Any:
    """A WHERE clause selecting records by an indexed constraint (slug, ISO code)."""
    model = MODELS[record_type]
    for pid, values in properties:
        if pid == "slug":
            return model.slug.in_([v.strip().lower() for v in values])
        if pid == "iso_code" and record_type == "region":
            return Region.iso_code.in_([v.strip().upper() for v in values])
        if pid == "parent" and record_type in ("region", "actor"):
            parents = select(model.id).where(
                or_(model.slug.in_([v.strip().lower() for v in values]))
            )
            return model.parent_id.in_(parents.scalar_subquery())
    return None


def reconcile(*, session: Session, queries: Sequence[Query]) -> dict[str, list[Result]]:
    """Each query's candidates, best first; ``match`` only for a clear, unambiguous winner."""
    answers: dict[str, list[Result]] = {}
    for query in queries:
        candidates = _candidates(session, query)
        held: dict[int, bool] = {}
        for candidate in candidates:
            candidate.score = name_score(query.text, candidate) if query.text else EXACT
            held[id(candidate)] = apply_properties(candidate, query.properties)
        candidates.sort(key=lambda c: (-c.score, c.record_type, c.record.slug))
        scored = [c for c in candidates if c.score > 0]
        # The runner-up over every candidate: with limit=1, a tie must still not be a match.
        runner_up = scored[1].score if len(scored) > 1 else 0.0
        results = []
        for i, c in enumerate(scored[: query.limit]):
            match = (
                i == 0
                and c.score >= MATCH_AT
                and held[id(c)]
                and c.score - runner_up >= MATCH_MARGIN
            )
            results.append(
                Result(
                    id=c.id,
                    name=display_name(c.record_type, c.record),
                    type=c.record_type,
                    description=describe(c.record_type, c.record),
                    score=c.score,
                    match=match,
                    features=c.features,
                )
            )
        answers[query.key] = results
    return answers

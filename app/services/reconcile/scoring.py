"""Scoring a candidate against what was typed: every name the record carries (its name, its
names in other languages and scripts, its aliases, its ISO code and slug), then the query's
property constraints."""

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.models import Actor, Policy, Region
from app.services.reconcile.entities import aliases, display_name, other_names

EXACT = 100.0
ALIAS = 95.0
MATCH_AT = 90.0  # a candidate may be a sure match from this score on
MATCH_MARGIN = 10.0  # ... if no other candidate comes within this much of it
PROPERTY_MISMATCH = 30.0

PUNCTUATION = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Case, diacritics, punctuation and spacing folded: "Tiānjīn Municipal Gov't." ->
    "tianjin municipal govt"."""
    text = unicodedata.normalize("NFKD", text.replace("'", "").replace("\u2019", ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(PUNCTUATION.sub(" ", text).split())


@dataclass
class Candidate:
    record_type: str
    record: Any
    score: float = 0.0
    features: dict[str, float | bool] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.record_type}:{self.record.slug}"


def name_score(query: str, candidate: Candidate) -> float:
    """How well the query names the record, 0-100, with the features that decided it."""
    record = candidate.record
    q = normalise(query)
    q_compact = q.replace(" ", "")
    if q_compact.isascii() and all(len(w) == 1 for w in q.split()):
        q = q_compact  # an acronym with dots: "C.C.P."
    name = normalise(display_name(candidate.record_type, record))
    iso: str = getattr(record, "iso_code", None) or ""
    exact = {
        "name": q == name,
        "iso_code": bool(iso) and q_compact == normalise(iso).replace(" ", ""),
        "slug": query.strip().lower() in (record.slug, candidate.id),
    }
    others = [normalise(n) for n in other_names(record)]
    alias_names = [normalise(a) for a in aliases(record)]
    # A name in another script or in pinyin may be written with or without spaces.
    other = any(q == o or q_compact == o.replace(" ", "") for o in others)
    alias = any(q == a for a in alias_names)
    candidate.features.update(
        {f"exact_{k}": v for k, v in exact.items()} | {"other_name": other, "alias": alias}
    )
    if any(exact.values()):
        return EXACT
    if other or alias:
        return ALIAS
    similarity = max(
        (_similarity(q, text) for text in [name, *others, *alias_names] if text), default=0.0
    )
    candidate.features["name_similarity"] = round(similarity, 4)
    return round(85.0 * similarity, 2)


# Names are compared on their first characters: SequenceMatcher is quadratic, and a 500-character
# query against every candidate's names took seconds.
_SIMILARITY_CHARS = 120


def _similarity(a: str, b: str) -> float:
    """Character similarity, lifted by the share of the query's words the name contains."""
    matcher = difflib.SequenceMatcher(None, a[:_SIMILARITY_CHARS], b[:_SIMILARITY_CHARS])
    ratio = matcher.ratio() if matcher.real_quick_ratio() > 0.3 else 0.0
    words_a, words_b = set(a.split()), set(b.split())
    overlap = len(words_a & words_b) / len(words_a | words_b) if words_a | words_b else 0.0
    return max(ratio, overlap)


def _region_keys(region: Region | None) -> set[str]:
    if region is None:
        return set()
    keys = {region.slug, normalise(region.name)}
    if region.iso_code:
        keys.add(region.iso_code.lower())
    return keys


def _property_values(candidate: Candidate, pid: str) -> set[str] | None:
    """The candidate's values of a constraint property (normalised), None if it has none."""
    record = candidate.record
    if pid == "slug":
        return {record.slug}
    if pid == "kind":
        return {record.kind} if hasattr(record, "kind") else None
    if pid == "iso_code":
        iso = getattr(record, "iso_code", None)
        return {iso.lower()} if iso else None
    if pid == "parent":
        parent = getattr(record, "parent", None)
        if not parent:
            return None
        return {parent.slug, normalise(display_name(candidate.record_type, parent))}
    if pid == "region":
        if isinstance(record, Actor):
            return _region_keys(record.region)
        if isinstance(record, Policy):
            return set().union(*(_region_keys(link.region) for link in record.region_links))
    return None


def apply_properties(candidate: Candidate, properties: Sequence[tuple[str, list[str]]]) -> bool:
    """Adjust the score by the query's property constraints; True if every one held."""
    all_held = True
    for pid, values in properties:
        own = _property_values(candidate, pid)
        wanted = {v.strip().lower() for v in values} | {normalise(v) for v in values}
        held = own is not None and bool(own & wanted)
        candidate.features[f"property_{pid}"] = held
        if not held:
            all_held = False
            candidate.score = max(0.0, candidate.score - PROPERTY_MISMATCH)
    return all_held

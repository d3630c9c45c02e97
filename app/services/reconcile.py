"""Reconciliation (W3C Reconciliation Service API 0.2, as OpenRefine speaks it).

Names typed in a spreadsheet are matched to records: candidates come from indexed lookups
only (slug, ISO code, and the full-text index: the query's words ANDed, or ORed when few
records hold them all), a few dozen at most per query, and are then scored here against
every name a record carries (its name, its names in other languages and scripts, its
aliases, its ISO code and slug).

Entity ids are ``<type>:<slug>`` (``actor:ministry-of-education``), as in ``GET /graph``.
"""

import difflib
import html
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.errors import BadQuery, ErrorDetail, NotFound
from app.models import Actor, Goal, Policy, PolicyRegion, Region, Source
from app.services import search as search_service
from app.services.documents import documents
from app.services.resources import ResourceName
from app.vocabularies import label

TYPES: dict[str, tuple[str, ResourceName]] = {
    "policy": ("Policy", "policies"),
    "actor": ("Actor", "actors"),
    "region": ("Region", "regions"),
    "goal": ("Goal", "goals"),
    "source": ("Source", "sources"),
}
MODELS: dict[str, Any] = {
    "policy": Policy,
    "actor": Actor,
    "region": Region,
    "goal": Goal,
    "source": Source,
}

# Bounds on every input.
MAX_QUERIES = 100
MAX_QUERY_CHARS = 500
MAX_LIMIT = 50
DEFAULT_LIMIT = 10
MAX_PROPERTIES = 10
MAX_VALUES = 10
MAX_CANDIDATES = 40  # full-text candidates scored per query
MAX_EXTEND_IDS = 500
MAX_EXTEND_PROPERTIES = 20
MAX_SUGGEST_CURSOR = 100  # suggestions serve typing, not a walk
SUGGEST_PAGE = 10

EXACT = 100.0
ALIAS = 95.0
MATCH_AT = 90.0  # a candidate may be a sure match from this score on
MATCH_MARGIN = 10.0  # ... if no other candidate comes within this much of it
PROPERTY_MISMATCH = 30.0


@dataclass(frozen=True)
class Property:
    id: str
    name: str
    description: str
    types: tuple[str, ...]
    entity_type: str | None = None  # values are records of this type


PROPERTIES: tuple[Property, ...] = (
    Property("slug", "Slug", "The record's slug (its key in URLs and bundles).", tuple(TYPES)),
    Property("url", "API URL", "The record's URL in the policydb API.", tuple(TYPES)),
    Property(
        "kind", "Kind", "Kind code (see GET /api/v1/vocabularies).", ("policy", "actor", "region")
    ),
    Property("iso_code", "ISO 3166 code", "ISO 3166-1 or 3166-2 code.", ("region",)),
    Property(
        "region",
        "Region",
        "An actor's home region, or a region a policy applies to (slug, ISO code or name).",
        ("actor", "policy"),
        "region",
    ),
    Property("parent", "Parent", "The parent region or actor.", ("actor", "region"), None),
    Property("names", "Other names", "Names in other languages and scripts.", ("actor", "region")),
    Property("aliases", "Aliases", "Other names and abbreviations.", ("actor", "region")),
    Property("description", "Description", "A short description.", ("actor", "region")),
    Property("status", "Status", "Policy or goal status code.", ("policy", "goal")),
    Property("announced", "Announced", "Date announced (YYYY[-MM[-DD]]).", ("policy",)),
    Property("topics", "Topics", "Topic codes.", ("policy",)),
    Property("actors", "Actors", "Actors linked to the policy.", ("policy",), "actor"),
    Property("regions", "Regions", "Regions the policy applies to.", ("policy",), "region"),
    Property("policy", "Policy", "The policy that sets the goal.", ("goal",), "policy"),
    Property("actor", "Actor", "The actor that owns the goal.", ("goal",), "actor"),
    Property("deadline", "Deadline", "The goal's deadline.", ("goal",)),
    Property("target_value", "Target value", "The goal's target, a decimal.", ("goal",)),
    Property("unit", "Unit", "Unit of the target value.", ("goal",)),
    Property("publisher", "Publisher", "Who published the source.", ("source",)),
    Property("published", "Published", "Date published.", ("source",)),
)
PROPERTY_BY_ID = {p.id: p for p in PROPERTIES}
# Properties a reconciliation query may constrain candidates by.
CONSTRAINTS = ("kind", "iso_code", "region", "parent", "slug")


# --- input ------------------------------------------------------------------------------


def _bad(where: str, detail: str) -> BadQuery:
    return BadQuery(f"invalid reconciliation input: {detail}", [ErrorDetail(where, detail)])


@dataclass
class Query:
    key: str
    text: str
    types: list[str]
    limit: int
    properties: list[tuple[str, list[Any]]] = field(default_factory=list)


def _check_text(text: str, where: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise _bad(where, f"at most {MAX_QUERY_CHARS} characters")
    if "\x00" in text:
        raise _bad(where, "NUL characters are not allowed")


def parse_batch(batch: Any, where: str) -> list[Query]:
    """A reconciliation query batch (already JSON-decoded), checked and bounded."""
    if not isinstance(batch, dict):
        raise _bad(where, "a query batch is a JSON object of queries")
    if len(batch) > MAX_QUERIES:
        raise _bad(where, f"at most {MAX_QUERIES} queries per batch")
    return [_parse_query(str(key), value, f"{where}/{key}") for key, value in batch.items()]


def _parse_query(key: str, raw: Any, where: str) -> Query:
    if not isinstance(raw, dict):
        raise _bad(where, "a query is a JSON object")
    unknown = set(raw) - {"query", "type", "limit", "properties", "type_strict"}
    if unknown:
        raise _bad(where, f"unknown field(s): {', '.join(sorted(unknown))}")
    text = raw.get("query", "")
    if not isinstance(text, str):
        raise _bad(f"{where}/query", "query must be a string")
    _check_text(text, f"{where}/query")
    types = parse_types(raw.get("type"), f"{where}/type")
    limit = raw.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"{where}/limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    strict = raw.get("type_strict")
    if strict is not None and strict not in ("any", "should", "all"):
        raise _bad(f"{where}/type_strict", "type_strict must be any, should or all")
    properties = _properties(raw.get("properties", []), f"{where}/properties")
    if not text.strip() and not properties:
        raise _bad(where, "a query needs a non-empty query string or properties")
    return Query(key, text.strip(), types, limit, properties)


def parse_types(raw: Any, where: str) -> list[str]:
    if raw is None:
        return list(TYPES)
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _bad(where, "type is a type id or a list of them")
    unknown = [v for v in values if v not in TYPES]
    if unknown:
        raise _bad(where, f"unknown type(s) {', '.join(unknown)}; known: {', '.join(TYPES)}")
    return list(dict.fromkeys(values)) or list(TYPES)


def _properties(raw: Any, where: str) -> list[tuple[str, list[Any]]]:
    if not isinstance(raw, list):
        raise _bad(where, "properties is a list of {pid, v}")
    if len(raw) > MAX_PROPERTIES:
        raise _bad(where, f"at most {MAX_PROPERTIES} properties")
    parsed = []
    for i, item in enumerate(raw):
        here = f"{where}/{i}"
        if not isinstance(item, dict) or set(item) != {"pid", "v"}:
            raise _bad(here, "a property is an object with pid and v")
        pid, value = item["pid"], item["v"]
        if pid not in CONSTRAINTS:
            raise _bad(f"{here}/pid", f"unknown property {pid!r}; known: {', '.join(CONSTRAINTS)}")
        values = value if isinstance(value, list) else [value]
        if len(values) > MAX_VALUES:
            raise _bad(f"{here}/v", f"at most {MAX_VALUES} values")
        texts = []
        for v in values:
            if isinstance(v, dict) and isinstance(v.get("id"), str):
                v = v["id"].partition(":")[2] or v["id"]
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise _bad(f"{here}/v", "a value is a string, a number or {id, name}")
            _check_text(str(v), f"{here}/v")
            texts.append(str(v))
        parsed.append((pid, texts))
    return parsed


def parse_entity_id(value: str, where: str = "/query/id") -> tuple[str, str]:
    """``actor:ministry-of-education`` -> ("actor", "ministry-of-education")."""
    _check_text(value, where)
    record_type, _, slug = value.partition(":")
    if record_type not in TYPES or not slug:
        raise _bad(where, f"{value[:80]!r} is not an entity id (<type>:<slug>)")
    return record_type, slug


# --- matching ---------------------------------------------------------------------------

_PUNCT = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Case, diacritics, punctuation and spacing folded: "Tiānjīn Municipal Gov't." ->
    "tianjin municipal govt"."""
    text = unicodedata.normalize("NFKD", text.replace("'", "").replace("\u2019", ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


@dataclass
class Candidate:
    record_type: str
    record: Any
    score: float = 0.0
    features: dict[str, float | bool] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.record_type}:{self.record.slug}"


def _label(record_type: str, record: Any) -> str:
    return str(
        {
            "policy": lambda: record.title,
            "actor": lambda: record.name,
            "region": lambda: record.name,
            "goal": lambda: record.statement,
            "source": lambda: record.title,
        }[record_type]()
    )


def _other_names(record: Any) -> list[str]:
    names: list[str] = []
    for attr in ("names", "titles"):
        value = getattr(record, attr, None)
        if isinstance(value, dict):
            names.extend(str(v) for v in value.values() if v)
    if short := getattr(record, "short_name", None):
        names.append(short)
    return names


def _aliases(record: Any) -> list[str]:
    found = []
    for alias in getattr(record, "aliases", None) or []:
        text = alias.get("value") if isinstance(alias, dict) else alias
        if text:
            found.append(str(text))
    return found


def _name_score(query: str, candidate: Candidate) -> float:
    """How well the query names the record, 0-100, with the features that decided it."""
    record = candidate.record
    q = normalise(query)
    q_compact = q.replace(" ", "")
    if q_compact.isascii() and all(len(w) == 1 for w in q.split()):
        q = q_compact  # an acronym with dots: "C.C.P."
    name = normalise(_label(candidate.record_type, record))
    iso: str = getattr(record, "iso_code", None) or ""
    exact = {
        "name": q == name,
        "iso_code": bool(iso) and q_compact == normalise(iso).replace(" ", ""),
        "slug": query.strip().lower() in (record.slug, candidate.id),
    }
    others = [normalise(n) for n in _other_names(record)]
    aliases = [normalise(a) for a in _aliases(record)]
    # A name in another script or in pinyin may be written with or without spaces.
    other = any(q == o or q_compact == o.replace(" ", "") for o in others)
    alias = any(q == a for a in aliases)
    candidate.features.update(
        {f"exact_{k}": v for k, v in exact.items()} | {"other_name": other, "alias": alias}
    )
    if any(exact.values()):
        return EXACT
    if other or alias:
        return ALIAS
    similarity = max(
        (_similarity(q, text) for text in [name, *others, *aliases] if text), default=0.0
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
        return {parent.slug, normalise(_label(candidate.record_type, parent))} if parent else None
    if pid == "region":
        if isinstance(record, Actor):
            return _region_keys(record.region)
        if isinstance(record, Policy):
            return set().union(*(_region_keys(link.region) for link in record.region_links))
    return None


def _apply_properties(candidate: Candidate, properties: Sequence[tuple[str, list[str]]]) -> bool:
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
        hits = search_service.candidate_documents(
            session, text, query.types, MAX_CANDIDATES, every_word=True
        )
        if len(hits) < MAX_CANDIDATES // 4:  # few records hold every word: any will do
            more = search_service.candidate_documents(
                session, _with_acronym(text), query.types, MAX_CANDIDATES, every_word=False
            )
            hits += [hit for hit in more if hit not in hits]
        by_type: dict[str, list[int]] = {}
        for record_type, record_id in hits:
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


@dataclass
class Result:
    id: str
    name: str
    type: str
    description: str
    score: float
    match: bool
    features: dict[str, float | bool]


def describe(record_type: str, record: Any) -> str:
    """One line to tell namesakes apart."""
    parts = []
    if kind := getattr(record, "kind", None):
        parts.append(label(kind))
    if iso := getattr(record, "iso_code", None):
        parts.append(iso)
    region = getattr(record, "region", None)
    if isinstance(record, Actor) and region is not None:
        parts.append(region.name)
    if isinstance(record, Source) and record.publisher:
        parts.append(record.publisher)
    return " · ".join([TYPES[record_type][0], *parts])


def reconcile(*, session: Session, queries: Sequence[Query]) -> dict[str, list[Result]]:
    """Each query's candidates, best first; ``match`` only for a clear, unambiguous winner."""
    answers: dict[str, list[Result]] = {}
    for query in queries:
        candidates = _candidates(session, query)
        held: dict[int, bool] = {}
        for candidate in candidates:
            candidate.score = _name_score(query.text, candidate) if query.text else EXACT
            held[id(candidate)] = _apply_properties(candidate, query.properties)
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
                    name=_label(c.record_type, c.record),
                    type=c.record_type,
                    description=describe(c.record_type, c.record),
                    score=c.score,
                    match=match,
                    features=c.features,
                )
            )
        answers[query.key] = results
    return answers


# --- suggest, preview, extend -----------------------------------------------------------


def suggest_entities(
    *, session: Session, prefix: str, types: Sequence[str], cursor: int
) -> list[Result]:
    """Records whose words start with what was typed (the last word as a prefix)."""
    words = _PUNCT.sub(" ", search_service.searchable_text(prefix)).split()
    if not words:
        return []
    q = " ".join([*words[:-1], words[-1] + "*"][: search_service.MAX_TERMS])
    hits, _total = search_service.search(
        session=session, q=q, record_types=types, limit=cursor + SUGGEST_PAGE
    )
    hits = hits[cursor:]
    results = []
    for hit in hits:
        record = session.get(MODELS[hit.record_type], hit.record_id)
        if record is None:
            continue
        results.append(
            Result(
                id=f"{hit.record_type}:{record.slug}",
                name=_label(hit.record_type, record),
                type=hit.record_type,
                description=describe(hit.record_type, record),
                score=hit.score,
                match=False,
                features={},
            )
        )
    return results


def suggest_types(prefix: str) -> list[dict[str, str]]:
    p = normalise(prefix)
    return [
        {"id": t, "name": name}
        for t, (name, _r) in TYPES.items()
        if normalise(name).startswith(p) or t.startswith(p)
    ]


def suggest_properties(prefix: str, cursor: int) -> list[dict[str, str]]:
    p = normalise(prefix)
    found = [
        {"id": prop.id, "name": prop.name, "description": prop.description}
        for prop in PROPERTIES
        if normalise(prop.name).startswith(p) or prop.id.startswith(p.replace(" ", "_"))
    ]
    return found[cursor : cursor + SUGGEST_PAGE]


def propose_properties(record_type: str, limit: int) -> list[dict[str, str]]:
    if record_type not in TYPES:
        raise _bad("/query/type", f"unknown type {record_type!r}; known: {', '.join(TYPES)}")
    found = [
        {"id": p.id, "name": p.name, "description": p.description}
        for p in PROPERTIES
        if record_type in p.types
    ]
    return found[:limit]


def entity(*, session: Session, entity_id: str) -> tuple[str, Any]:
    """(type, record) of an entity id; NotFound if there is no such record."""
    record_type, slug = parse_entity_id(entity_id)
    record = session.scalar(select(MODELS[record_type]).where(MODELS[record_type].slug == slug))
    if record is None:
        raise NotFound(f"no {record_type} with slug {slug!r}")
    return record_type, record


def record_path(record_type: str, slug: str) -> str:
    return f"/api/v1/{TYPES[record_type][1]}/{slug}"


@dataclass
class ExtendQuery:
    ids: list[str]
    properties: list[str]


def parse_extend(raw: Any, where: str) -> ExtendQuery:
    if not isinstance(raw, dict) or not isinstance(raw.get("ids"), list):
        raise _bad(where, "an extend query is an object with ids and properties")
    if not isinstance(raw.get("properties"), list):
        raise _bad(f"{where}/properties", "properties is a list of {id}")
    ids, props = raw["ids"], raw["properties"]
    if len(ids) > MAX_EXTEND_IDS:
        raise _bad(f"{where}/ids", f"at most {MAX_EXTEND_IDS} ids")
    if len(props) > MAX_EXTEND_PROPERTIES:
        raise _bad(f"{where}/properties", f"at most {MAX_EXTEND_PROPERTIES} properties")
    for i, value in enumerate(ids):
        if not isinstance(value, str):
            raise _bad(f"{where}/ids/{i}", "an id is a string")
        parse_entity_id(value, f"{where}/ids/{i}")
    names = []
    for i, prop in enumerate(props):
        if not isinstance(prop, dict) or not isinstance(prop.get("id"), str):
            raise _bad(f"{where}/properties/{i}", "a property is an object with an id")
        if prop["id"] not in PROPERTY_BY_ID:
            raise _bad(f"{where}/properties/{i}/id", f"unknown property {prop['id'][:80]!r}")
        names.append(prop["id"])
    return ExtendQuery(ids=list(dict.fromkeys(ids)), properties=list(dict.fromkeys(names)))


def _entity_value(record_type: str, slug: str | None, name: str | None) -> dict[str, str]:
    if not slug:
        return {}
    return {"id": f"{record_type}:{slug}", "name": name or slug}


def _one(value: dict[str, str]) -> list[dict[str, Any]]:
    return [value] if value else []


def _values(record_type: str, doc: dict[str, Any], pid: str) -> list[dict[str, Any]]:
    """A document's values of one property, in the data extension's cell shapes."""
    if record_type not in PROPERTY_BY_ID[pid].types:
        return []
    if pid == "url":
        return [{"str": record_path(record_type, doc["slug"])}]
    if pid == "names":
        return [{"str": v} for v in (doc.get("names") or {}).values()]
    if pid == "aliases":
        return [{"str": a["value"] if isinstance(a, dict) else a} for a in doc.get("aliases") or []]
    if pid == "topics":
        return [{"str": t} for t in doc.get("topics") or []]
    if pid == "actors":
        seen = dict.fromkeys((a["actor"], a.get("actor_name")) for a in doc.get("actors") or [])
        return [_entity_value("actor", s, n) for s, n in seen]
    if pid == "regions":
        seen = dict.fromkeys((r["region"], r.get("region_name")) for r in doc.get("regions") or [])
        return [_entity_value("region", s, n) for s, n in seen]
    if pid == "region" and record_type == "actor":
        return _one(_entity_value("region", doc.get("region"), None))
    if pid == "region":  # a policy's regions
        return _values(record_type, doc, "regions")
    if pid == "parent":
        return _one(_entity_value(record_type, doc.get("parent"), None))
    if pid in ("policy", "actor") and record_type == "goal":
        owners = doc.get("owners") or {}
        name = owners.get("policy_title" if pid == "policy" else "actor_name")
        return _one(_entity_value(pid, doc.get(pid), name))
    value = doc.get(pid)
    if value is None or value == "":
        return []
    return [{"str": str(value)}]


def extend(*, session: Session, query: ExtendQuery) -> dict[str, Any]:
    """The data extension response: each entity's values of each property."""
    wanted: dict[str, list[str]] = {}
    for entity_id in query.ids:
        record_type, slug = parse_entity_id(entity_id)
        wanted.setdefault(record_type, []).append(slug)
    docs: dict[str, tuple[str, dict[str, Any]]] = {}
    for record_type, slugs in wanted.items():
        model = MODELS[record_type]
        ids = list(session.scalars(select(model.id).where(model.slug.in_(slugs))))
        for doc in documents(session, TYPES[record_type][1], ids):
            docs[f"{record_type}:{doc['slug']}"] = (record_type, doc)
    meta = []
    for pid in query.properties:
        prop = PROPERTY_BY_ID[pid]
        item: dict[str, Any] = {"id": pid, "name": prop.name}
        if prop.entity_type:
            item["type"] = {"id": prop.entity_type, "name": TYPES[prop.entity_type][0]}
        meta.append(item)
    rows: dict[str, Any] = {}
    for entity_id in query.ids:
        found = docs.get(entity_id)
        rows[entity_id] = {
            pid: (_values(found[0], found[1], pid) if found else []) for pid in query.properties
        }
    _name_entities(session, rows)
    return {"meta": meta, "rows": rows}


def _name_entities(session: Session, rows: dict[str, Any]) -> None:
    """Give entity cells that documents name by slug only their record's name."""
    unnamed: dict[str, list[dict[str, str]]] = {}
    for cells in rows.values():
        for values in cells.values():
            for value in values:
                if "id" in value and value["name"] == value["id"].partition(":")[2]:
                    unnamed.setdefault(value["id"].partition(":")[0], []).append(value)
    for record_type, values in unnamed.items():
        model = MODELS[record_type]
        slugs = {v["id"].partition(":")[2] for v in values}
        column = _LABEL_COLUMNS[record_type]
        rows_found = session.execute(select(model.slug, column).where(model.slug.in_(slugs)))
        names: dict[str, str] = {str(row[0]): str(row[1]) for row in rows_found}
        for value in values:
            value["name"] = names.get(value["id"].partition(":")[2], value["name"])


_LABEL_COLUMNS: dict[str, Any] = {
    "policy": Policy.title,
    "actor": Actor.name,
    "region": Region.name,
    "goal": Goal.statement,
    "source": Source.title,
}


def decode(text: str, where: str) -> Any:
    """A JSON parameter (``queries``, ``extend``), bounded in size; a 400 if malformed."""
    if len(text) > MAX_PARAMETER_CHARS:
        raise _bad(where, f"at most {MAX_PARAMETER_CHARS} characters")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(where, f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise _bad(where, "nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise _bad(where, f"not valid JSON: {exc}") from None
    _check_strings(value, where)
    return value


_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")


def _check_strings(value: Any, where: str) -> None:
    """Every key and string in a decoded parameter is text a database and a JSON answer can
    carry: no NUL, no lone UTF-16 surrogate (JSON's \ud800 escapes decode to those)."""
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, at = pending.pop()
        if isinstance(item, str):
            if _UNENCODABLE.search(item):
                raise _bad(at, "NUL characters and lone surrogates are not allowed")
        elif isinstance(item, dict):
            # Each key is checked before anything below it (pointers name the keys).
            for key, inner in item.items():
                pending += [(inner, f"{at}/{key!s}"), (key, at)]
        elif isinstance(item, list):
            pending += [(inner, f"{at}/{i}") for i, inner in enumerate(item)]


MAX_PARAMETER_CHARS = 1_000_000


def preview_html(record_type: str, record: Any) -> str:
    """A small HTML card for OpenRefine's preview pane."""
    name = html.escape(_label(record_type, record))
    lines = [f"<strong>{name}</strong>", html.escape(describe(record_type, record))]
    others = _other_names(record) + _aliases(record)
    if others:
        lines.append("Also: " + html.escape(", ".join(others)))
    text = getattr(record, "description", None) or getattr(record, "summary", None)
    if text:
        lines.append(html.escape(text))
    body = "<br>".join(lines)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{name}</title></head>"
        f'<body style="font-family: sans-serif; font-size: 13px; margin: 6px">{body}</body></html>'
    )

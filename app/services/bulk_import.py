"""Imports of any size in flat memory: one validating pass, the checks, then chunked writes.

Pass 1 reads the bundle a record at a time (a JSON file is streamed with ijson), validates
each record on its own and spools it, in its bundle shape, to a temporary file. What the
checks need of every record (its slug and where it is, the slugs it refers to) goes to a
ledger, a temporary SQLite database, so that none of it is held per record in memory
(what still is: the parents of new regions and actors, ISO codes, and in replace mode the
slugs to delete). The checks
that need the whole bundle or the database (duplicates, unknown references, parent cycles,
ISO codes, existing slugs) run next, and every problem is reported before anything is
written. Pass 2 reads the spool back in chunks, resource by resource: new records are
inserted with executemany (rows, links, citations, history entries, search documents),
their references resolved against the target database chunk by chunk; records that
already exist go through the ORM write path (so links keep their ids), and the session is
emptied after each chunk. It all happens in the caller's transaction.
"""

import functools
import json
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import ijson  # type: ignore[import-untyped]  # no stubs published
from pydantic import ValidationError
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import (
    ErrorDetail,
    ErrorList,
    InvalidInput,
    TooLarge,
    pointer,
    validation_errors,
)
from app.models import (
    Actor,
    Citation,
    HistoryEntry,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    PolicyTopic,
    Region,
    SearchDocument,
)
from app.models.base import utcnow
from app.resources import CITATION_OWNERS
from app.schemas.bundle import BUNDLE_FORMAT, BUNDLE_VERSION
from app.services.resources import (
    RESOURCES,
    WRITE_ORDER,
    RecordModel,
    ResourceName,
    record_dump,
    stored_record,
)
from app.services.search import document_text
from app.services.writes import (
    COLUMNS,
    Change,
    Outcome,
    Targets,
    begin_write,
    changed_fields,
    referenced_slugs,
    write_changes,
)

ImportMode = Literal["upsert", "insert", "replace"]
Progress = Callable[[int], None]
Key = tuple[ResourceName, str]
# Spooled records read back: (index in the section, the JSON, its bundle shape parsed).
Batch = list[tuple[int, bytes, dict[str, Any]]]

TOP_LEVEL = {"format", "version", *WRITE_ORDER}
CHUNK = 1000  # records per write chunk
LOOKUP = 500  # slugs per IN (...) query


@dataclass
class BundleInput:
    """A bundle to import: its top-level keys and its sections, which can be walked repeatedly.

    ``header`` maps each top-level key to its value, except that a section only needs to be
    a list there (possibly an empty stand-in); ``items(name)`` yields the section's records.
    """

    header: Mapping[str, Any]
    items: Callable[[str], Iterable[Any]]
    counts: Mapping[str, int]


def dict_bundle(data: Any) -> BundleInput:
    """A bundle already in memory (YAML, a CSV folder, the seed, a test)."""
    if not isinstance(data, dict):
        raise InvalidInput(
            "a bundle is a JSON/YAML object", [ErrorDetail("", "expected an object")]
        )
    counts: dict[str, int] = {n: len(data[n]) for n in WRITE_ORDER if isinstance(data.get(n), list)}
    return BundleInput(header=data, items=lambda name: data[name], counts=counts)


_SCALAR_EVENTS = {"null", "boolean", "integer", "double", "number", "string"}
_OPEN = {"start_map", "start_array"}
_CLOSE = {"end_map", "end_array"}
# How deep a bundle may nest (a record is at level 3: bundle, section, record), and how many
# values (scalars, lists, maps) one record may hold. Both are checked on the first pass over
# the stream, event by event, before any record is built: a 20k-level body once took 1 GB
# (ijson's prefixed events cost O(depth) each), one record of 4M values 520 MB.
MAX_DEPTH = 64
MAX_RECORD_VALUES = 100_000


def json_bundle(
    open_stream: Callable[[], IO[bytes]],
    max_depth: int = MAX_DEPTH,
    max_records: int | None = None,
) -> BundleInput:
    """A JSON bundle read as a stream: one pass for the top-level keys and the bounds, then
    one per section (ijson builds the records; the first pass made sure it safely can).

    With ``max_records``, the first pass stops (TooLarge) as soon as the bundle holds more.
    """
    header: dict[str, Any] = {}
    counts: dict[str, int] = {}
    with open_stream() as stream:
        try:
            _first_pass(
                ijson.basic_parse(stream, use_float=True), header, counts, max_depth, max_records
            )
        except ijson.JSONError as exc:
            raise _syntax_error(open_stream, exc) from None

    def items(name: str) -> Iterator[Any]:
        with open_stream() as stream:
            try:
                yield from ijson.items(stream, f"{name}.item", use_float=True)
            except ijson.JSONError as exc:
                raise _syntax_error(open_stream, exc) from None

    return BundleInput(header=header, items=items, counts=counts)


def _first_pass(
    events: Iterator[tuple[str, Any]],
    header: dict[str, Any],
    counts: dict[str, int],
    max_depth: int,
    max_records: int | None,
) -> None:
    """Fill in the top-level keys and section counts; refuse what is too deep or too big."""
    first = next(events, None)
    if first is None or first[0] != "start_map":
        for _ in events:  # a syntax error anywhere is reported as such
            pass
        raise InvalidInput(
            "a bundle is a JSON/YAML object", [ErrorDetail("", "expected an object")]
        )
    depth, key, pending, in_section = 1, "", False, False
    seen = values = 0
    for event, value in events:
        if event in _CLOSE:
            depth -= 1
            continue
        if pending:  # the first event of a top-level value
            pending = False
            if event == "start_array":
                header[key], counts[key], in_section = [], 0, True
            else:
                header[key], in_section = ({} if event == "start_map" else value), False
        elif depth == 1 and event == "map_key":
            key, pending = value, True
        elif depth == 2 and in_section and event != "map_key":  # a record begins
            counts[key] += 1
            seen += 1
            values = 0
            if max_records is not None and seen > max_records:
                raise TooLarge(f"the bundle has more than {max_records} records per request")
        elif depth > 2 and in_section and event != "map_key":
            values += 1
            if values > MAX_RECORD_VALUES:
                where = pointer(key, counts[key] - 1)
                detail = f"a record of more than {MAX_RECORD_VALUES} values"
                raise InvalidInput("a record is too large", [ErrorDetail(where, detail)])
        if event in _OPEN:
            depth += 1
            if depth > max_depth:
                detail = f"nested deeper than {max_depth} levels"
                raise InvalidInput("the bundle nests too deeply", [ErrorDetail("", detail)])


def _syntax_error(open_stream: Callable[[], IO[bytes]], exc: Exception) -> InvalidInput:
    """The position of a syntax error, from the standard parser (only on this error path)."""
    detail = str(exc)
    try:
        with open_stream() as stream:
            json.loads(stream.read())
    except json.JSONDecodeError as decoded:
        detail = f"line {decoded.lineno}, column {decoded.colno}: {decoded.msg}"
    except ValueError:
        pass
    return InvalidInput("the bundle is not valid JSON", [ErrorDetail("", detail)])


class _Spool:
    """The valid records of one resource as lines ``index<TAB>slug<TAB>json`` in a temp file."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115  closed by close()

    def add(self, index: int, slug: str, dump: str) -> None:
        self.file.write(f"{index}\t{slug}\t{dump}\n".encode())

    def lines(self) -> Iterator[tuple[int, str, bytes]]:
        self.file.seek(0)
        for line in self.file:
            index, slug, dump = line.split(b"\t", 2)
            yield int(index), slug.decode(), dump

    def close(self) -> None:
        self.file.close()


class _Ledger:
    """Per-record bookkeeping of an import in a private temporary SQLite database.

    At 1M policies (3.2M records) the dicts of slugs, indexes and referenced slugs took
    ~1 GB; here they take at most a 16 MB page cache and a temporary file that SQLite
    deletes itself (even if the process dies).
    """

    # Most references name a few popular records (the source every citation cites): the
    # last few thousand recorded are not sent again.
    RECENT_REFS = 10_000

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)  # "": private, temporary
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16384"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(
            "CREATE TABLE records (resource TEXT, slug TEXT, idx INTEGER, existing_id INTEGER,"
            " PRIMARY KEY (resource, slug)) WITHOUT ROWID"
        )
        self.db.execute(
            "CREATE TABLE refs (resource TEXT, slug TEXT, PRIMARY KEY (resource, slug))"
            " WITHOUT ROWID"
        )
        self.db.execute("BEGIN")
        self._recent_refs: set[Key] = set()

    def add(self, name: ResourceName, slug: str, index: int) -> int | None:
        """Record where ``slug`` is; if it was seen before, the index where it first was."""
        try:
            self.db.execute("INSERT INTO records VALUES (?, ?, ?, NULL)", (name, slug, index))
        except sqlite3.IntegrityError:
            return self.index_of(name, slug)
        return None

    def refer(self, keys: Iterable[Key]) -> None:
        fresh = set(keys) - self._recent_refs
        if not fresh:
            return
        if len(self._recent_refs) > self.RECENT_REFS:
            self._recent_refs.clear()
        self._recent_refs.update(fresh)
        self.db.executemany("INSERT OR IGNORE INTO refs VALUES (?, ?)", fresh)

    def first_index(self, name: ResourceName, slug: str) -> int:
        """Where in its section a record of the bundle is (for an error's location)."""
        index = self.index_of(name, slug)
        if index is None:
            raise KeyError((name, slug))
        return index

    def index_of(self, name: ResourceName, slug: str) -> int | None:
        row = self.db.execute(
            "SELECT idx FROM records WHERE resource = ? AND slug = ?", (name, slug)
        ).fetchone()
        return None if row is None else int(row[0])

    def _chunks(self, query: str, args: tuple[Any, ...], size: int) -> Iterator[list[Any]]:
        cursor = self.db.execute(query, args)
        while rows := cursor.fetchmany(size):
            yield rows

    def slugs(self, name: ResourceName) -> Iterator[list[str]]:
        """The bundle's slugs of ``name``, in slug order, a chunk at a time.

        Paged by key, not read through one open cursor: the caller writes to the ledger
        between chunks (mark_existing).
        """
        after = ""
        while True:
            rows = self.db.execute(
                "SELECT slug FROM records WHERE resource = ? AND slug > ? ORDER BY slug LIMIT ?",
                (name, after, LOOKUP),
            ).fetchall()
            if not rows:
                return
            yield [slug for (slug,) in rows]
            after = rows[-1][0]

    def mark_existing(self, name: ResourceName, found: Mapping[str, int]) -> None:
        self.db.executemany(
            "UPDATE records SET existing_id = ? WHERE resource = ? AND slug = ?",
            ((id_, name, slug) for slug, id_ in found.items()),
        )

    def existing(self, name: ResourceName) -> Iterator[tuple[str, int]]:
        """(slug, index) of the bundle's records of ``name`` that are already in the database."""
        query = (
            "SELECT slug, idx FROM records"
            " WHERE resource = ? AND existing_id IS NOT NULL ORDER BY idx"
        )
        for rows in self._chunks(query, (name,), LOOKUP):
            yield from rows

    def any_existing(self, name: ResourceName) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM records WHERE resource = ? AND existing_id IS NOT NULL LIMIT 1", (name,)
        ).fetchone()
        return row is not None

    def is_existing(self, name: ResourceName, slug: str) -> bool:
        row = self.db.execute(
            "SELECT existing_id FROM records WHERE resource = ? AND slug = ?", (name, slug)
        ).fetchone()
        return row is not None and row[0] is not None

    def outside_refs(self, name: ResourceName) -> Iterator[list[str]]:
        """Slugs of ``name`` that records refer to but the bundle does not hold, in chunks."""
        query = (
            "SELECT refs.slug FROM refs LEFT JOIN records"
            " ON records.resource = refs.resource AND records.slug = refs.slug"
            " WHERE refs.resource = ? AND records.slug IS NULL ORDER BY refs.slug"
        )
        for rows in self._chunks(query, (name,), LOOKUP):
            yield [slug for (slug,) in rows]

    def close(self) -> None:
        self.db.close()


@dataclass
class _Plan:
    """What pass 1 keeps: the spools, the ledger, and what is small (errors, parents, codes)."""

    errors: ErrorList = field(default_factory=ErrorList)
    duplicates: ErrorList = field(default_factory=ErrorList)
    spools: dict[ResourceName, _Spool] = field(default_factory=dict)
    ledger: _Ledger = field(default_factory=_Ledger)
    invalid: set[Key] = field(default_factory=set)
    parents: dict[ResourceName, dict[str, str | None]] = field(
        default_factory=lambda: {"regions": {}, "actors": {}}
    )
    iso_codes: dict[str, str] = field(default_factory=dict)  # code -> region slug

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()
        self.ledger.close()


def _validate(bundle: BundleInput, max_records: int | None) -> _Plan:
    """Pass 1: validate every record on its own, so one bad record hides no other problem."""
    plan = _Plan()
    try:
        _validate_into(plan, bundle, max_records)
    except BaseException:
        plan.close()  # the spool files written so far
        raise
    return plan


def _validate_into(plan: _Plan, bundle: BundleInput, max_records: int | None) -> None:
    header = bundle.header
    for key in sorted(set(header) - TOP_LEVEL):
        plan.errors.append(
            ErrorDetail(pointer(key), f"unknown section; expected {sorted(TOP_LEVEL)}")
        )
    if header.get("format", BUNDLE_FORMAT) != BUNDLE_FORMAT:
        plan.errors.append(ErrorDetail("/format", f"must be {BUNDLE_FORMAT!r}"))
    if header.get("version", BUNDLE_VERSION) != BUNDLE_VERSION:
        plan.errors.append(ErrorDetail("/version", f"this policydb reads version {BUNDLE_VERSION}"))
    seen = 0
    for name in WRITE_ORDER:
        spec = RESOURCES[name]
        include = set(spec.record.model_fields)
        spool = plan.spools[name] = _Spool()
        if name not in header:
            continue
        if not isinstance(header[name], list):
            plan.errors.append(
                ErrorDetail(pointer(name), "expected a list of records ([] for none)")
            )
            continue
        ledger = plan.ledger
        for index, item in enumerate(bundle.items(name)):
            seen += 1
            if max_records is not None and seen > max_records:
                raise TooLarge(f"the bundle has more than {max_records} records per request")
            try:
                record = spec.record.model_validate(item)
            except ValidationError as exc:
                given = item.get("slug") if isinstance(item, dict) else None
                for error in validation_errors(exc, (name, index)):
                    error.slug = given if isinstance(given, str) else None
                    plan.errors.append(error)
                if isinstance(given, str):
                    plan.invalid.add((name, given))
                continue
            slug: str = getattr(record, "slug")  # noqa: B009
            first = ledger.add(name, slug, index)
            if first is not None:
                where = pointer(name, first)
                plan.duplicates.append(
                    ErrorDetail(
                        pointer(name, index, "slug"), f"duplicate slug; first at {where}", slug=slug
                    )
                )
                continue
            change = Change(name, record, (name, index))
            ledger.refer((res, ref) for res, ref, _at in referenced_slugs(change))
            if name in plan.parents:
                plan.parents[name][slug] = getattr(record, "parent")  # noqa: B009
            if (code := getattr(record, "iso_code", None)) is not None:
                if code in plan.iso_codes:
                    plan.duplicates.append(
                        ErrorDetail(
                            pointer(name, index, "iso_code"),
                            f"ISO code {code} is used twice",
                            slug=slug,
                        )
                    )
                plan.iso_codes[code] = slug
            spool.add(index, slug, record.model_dump_json(include=include, exclude_none=True))


def _lookup(session: Session, name: ResourceName, slugs: Iterable[str]) -> dict[str, int]:
    """slug -> id of those of ``slugs`` that are in the database."""
    model = RESOURCES[name].model
    ordered = sorted(set(slugs))
    found: dict[str, int] = {}
    for start in range(0, len(ordered), LOOKUP):
        chunk = ordered[start : start + LOOKUP]
        query = select(model.slug, model.id).where(model.slug.in_(chunk))
        found.update((slug, id_) for slug, id_ in session.execute(query))
    return found


def _in_database(
    session: Session, name: ResourceName, chunks: Iterable[list[str]]
) -> Iterator[dict[str, int]]:
    """slug -> id of the slugs (given in chunks) that are in the database, chunk by chunk.

    An empty table is not probed at all: a first import asks nothing per chunk.
    """
    model = RESOURCES[name].model
    if session.scalar(select(model.id).limit(1)) is None:
        return
    for chunk in chunks:
        yield _lookup(session, name, chunk)


@dataclass
class _State:
    """What the checks learn from the database, for the writes."""

    ledger: _Ledger
    gone: dict[ResourceName, set[str]] = field(default_factory=dict)


def _check(session: Session, plan: _Plan, mode: ImportMode) -> tuple[_State, ErrorList]:
    """Every check that needs the whole bundle or the database; all problems, in order."""
    ledger = plan.ledger
    state = _State(ledger)
    errors = ErrorList(plan.errors)
    errors.total += plan.errors.total - len(plan.errors)  # those already left out
    for name in WRITE_ORDER:
        for found in _in_database(session, name, ledger.slugs(name)):
            ledger.mark_existing(name, found)
        if mode == "insert":
            for slug, index in ledger.existing(name):
                errors.append(
                    ErrorDetail(
                        pointer(name, index, "slug"),
                        "a record with this slug already exists (mode=insert)",
                        slug=slug,
                    )
                )
        if mode == "replace":
            model = RESOURCES[name].model
            invalid = {slug for kind, slug in plan.invalid if kind == name}
            state.gone[name] = {
                s
                for s in session.scalars(select(model.slug))
                if s not in invalid and ledger.index_of(name, s) is None
            }
    errors.extend(plan.duplicates)
    errors.total += plan.duplicates.total - len(plan.duplicates)

    # References: in the bundle, else in the database (and not about to be deleted).
    unknown: set[Key] = set()
    for resource in WRITE_ORDER:
        gone = state.gone.get(resource, set())
        for slugs in ledger.outside_refs(resource):
            slugs = [s for s in slugs if (resource, s) not in plan.invalid]
            found = _lookup(session, resource, slugs)
            unknown.update((resource, s) for s in slugs if s not in found or s in gone)
    if unknown:
        errors.extend(_unknown_references(plan, unknown))

    errors.extend(_parent_cycles(session, plan))
    errors.extend(_iso_code_clashes(session, plan))
    return state, errors


def _unknown_references(plan: _Plan, unknown: set[Key]) -> Iterator[ErrorDetail]:
    """Every place that names an unknown slug (a second read of the spool, on errors only)."""
    for name in WRITE_ORDER:
        record_type = RESOURCES[name].record
        for index, slug, dump in plan.spools[name].lines():
            change = Change(name, record_type.model_validate_json(dump), (name, index))
            for resource, ref, at in referenced_slugs(change):
                if (resource, ref) in unknown:
                    singular = RESOURCES[resource].singular
                    yield ErrorDetail(pointer(*at), f"unknown {singular} slug {ref!r}", slug=slug)


def _parent_cycles(session: Session, plan: _Plan) -> Iterator[ErrorDetail]:
    trees: tuple[tuple[ResourceName, Any], ...] = (("regions", Region), ("actors", Actor))
    for name, model in trees:
        bundle_parents = plan.parents[name]
        if not bundle_parents:
            continue
        parent_table = model.__table__.alias("parent")
        query = select(model.slug, parent_table.c.slug).outerjoin(
            parent_table, model.parent_id == parent_table.c.id
        )
        parent_of: dict[str, str | None] = dict(session.execute(query).all())
        parent_of.update(bundle_parents)
        for slug in bundle_parents:
            seen = {slug}
            current = parent_of.get(slug)
            while current is not None:
                if current in seen:
                    yield ErrorDetail(
                        pointer(name, plan.ledger.first_index(name, slug), "parent"),
                        f"parent chain loops back to {current!r}",
                        slug=slug,
                    )
                    break
                seen.add(current)
                current = parent_of.get(current)


def _iso_code_clashes(session: Session, plan: _Plan) -> Iterator[ErrorDetail]:
    codes = sorted(plan.iso_codes)
    ledger = plan.ledger
    for start in range(0, len(codes), LOOKUP):
        chunk = codes[start : start + LOOKUP]
        for code, holder in session.execute(
            select(Region.iso_code, Region.slug).where(Region.iso_code.in_(chunk))
        ):
            if code is not None and ledger.index_of("regions", holder) is None:
                slug = plan.iso_codes[code]
                yield ErrorDetail(
                    pointer("regions", ledger.first_index("regions", slug), "iso_code"),
                    f"ISO code {code} already belongs to region {holder!r}",
                    slug=slug,
                )


# Columns that identify a new row, to match the ids RETURNING gives back to the rows sent.
_NATURAL_KEYS = {
    **{RESOURCES[name].table: ("slug",) for name in WRITE_ORDER},
    **{
        links.model.__tablename__: (links.owner.key, links.target_column.key, links.kind)
        for resource in RESOURCES.values()
        for links in resource.links
    },
}

_CITATION_OWNERS = tuple(column.key for column in CITATION_OWNERS)


class _Ids:
    """slug -> id in the target database (new records too, once inserted), looked up a
    chunk at a time; a bounded memory of recent answers spares repeated lookups."""

    REMEMBERED = 100_000  # per resource

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[ResourceName, dict[str, int]] = {name: {} for name in WRITE_ORDER}

    def need(self, name: ResourceName, slugs: Iterable[str]) -> dict[str, int]:
        """The ids of ``slugs`` (all of which exist), remembered for the calls that follow."""
        wanted = set(slugs)
        known = self.known[name]
        missing = wanted - known.keys()
        if missing:
            if len(known) + len(missing) > self.REMEMBERED:
                known.clear()
                missing = wanted
            known.update(_lookup(self.session, name, missing))
        return {slug: known[slug] for slug in wanted}

    def remember(self, name: ResourceName, slug: str, id_: int) -> None:
        known = self.known[name]
        if len(known) >= self.REMEMBERED:
            known.clear()
        known[slug] = id_


class _BulkWriter:
    """Inserts new records with executemany: rows, links, citations, history and search."""

    def __init__(self, session: Session, changed_by: str) -> None:
        self.connection = session.connection()
        self.ids = _Ids(session)
        self.changed_by = changed_by
        self.now = utcnow()
        self.parents: list[tuple[int, str]] = []  # (new row id, parent slug), per resource
        self.iso_codes: list[dict[str, Any]] = []  # new regions' codes, set after updates
        # New policies' relations, inserted once all policies exist.
        self.relations = tempfile.TemporaryFile()  # noqa: SIM115  closed by close()

    def _insert(self, table: Any, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
        """Insert rows with executemany; with ``ids``, return the new ids in row order.

        The ids come back by natural key (slug, or the link's unique columns) rather than
        by RETURNING order: asking SQLAlchemy to keep the order makes SQLite insert row by
        row, several times slower.
        """
        if not rows:
            return []
        if not ids:
            self.connection.execute(insert(table), rows)
            return []
        keys = _NATURAL_KEYS[table.name]
        statement = insert(table).returning(table.c.id, *(table.c[k] for k in keys))
        found = {tuple(key): id_ for id_, *key in self.connection.execute(statement, rows)}
        return [found[tuple(row[k] for k in keys)] for row in rows]

    def _citation_rows(self, citations: list[tuple[str, int, list[Any]]]) -> list[dict[str, Any]]:
        template = dict.fromkeys(_CITATION_OWNERS)
        sources = self.ids.need(
            "sources", (c["source"] for _o, _i, cited in citations for c in cited)
        )
        return [
            {
                **template,
                owner: owner_id,
                "source_id": sources[c["source"]],
                "section": c.get("section"),
                "paragraph": c.get("paragraph"),
                "excerpt": c.get("excerpt"),
                "note": c.get("note"),
                "position": i,
            }
            for owner, owner_id, cited in citations
            for i, c in enumerate(cited)
        ]

    def write(self, name: ResourceName, batch: Batch) -> None:
        """Insert a chunk of new records of one resource (given in their bundle shape)."""
        spec = RESOURCES[name]
        rows: list[dict[str, Any]] = []
        documents: list[tuple[str, str]] = []
        records = [record for _index, _dump, record in batch]
        regions = self.ids.need("regions", (r["region"] for r in records if r.get("region")))
        policies = self.ids.need("policies", (r["policy"] for r in records if r.get("policy")))
        actors = self.ids.need("actors", (r["actor"] for r in records if r.get("actor")))
        for record in records:
            columns = COLUMNS[name](record)
            documents.append(document_text(_transient(spec.model, columns)))
            row = {**columns, "created_at": self.now, "updated_at": self.now, "version": 1}
            if name == "regions":
                row["parent_id"] = None
                row["iso_code"] = None  # set once updates may have freed it: set_iso_codes()
            elif name == "actors":
                region = record.get("region")
                row["region_id"] = regions[region] if region else None
                row["parent_id"] = None
            elif name == "goals":
                policy, actor = record.get("policy"), record.get("actor")
                row["policy_id"] = policies[policy] if policy else None
                row["actor_id"] = actors[actor] if actor else None
            rows.append(row)
        new_ids = self._insert(spec.model.__table__, rows, ids=True)

        citations: list[tuple[str, int, list[Any]]] = []
        owner = None if spec.cited_as is None else spec.cited_as.key
        for (_index, _dump, record), row_id in zip(batch, new_ids, strict=True):
            if name != "goals":  # nothing refers to goals
                self.ids.remember(name, record["slug"], row_id)
            if owner is not None:
                citations.append((owner, row_id, record.get("citations", [])))
            if parent := record.get("parent"):
                self.parents.append((row_id, parent))
            if code := record.get("iso_code"):
                self.iso_codes.append({"b_id": row_id, "b_code": code})
        if name == "policies":
            citations.extend(self._policy_links(batch, new_ids))
        self._insert(Citation.__table__, self._citation_rows(citations))
        self._insert(
            HistoryEntry.__table__,
            [
                {
                    "record_type": spec.singular,
                    "record_id": row_id,
                    "slug": record["slug"],
                    "action": "create",
                    "changed_by": self.changed_by,
                    "changed_at": self.now,
                    "fields": changed_fields({}, record),
                    "snapshot": record,
                }
                for (_index, _dump, record), row_id in zip(batch, new_ids, strict=True)
            ],
        )
        self._insert(
            SearchDocument.__table__,
            [
                {"record_type": spec.singular, "record_id": row_id, "title": title, "body": body}
                for (title, body), row_id in zip(documents, new_ids, strict=True)
            ],
        )

    def _policy_links(
        self, batch: Batch, policy_ids: list[int]
    ) -> list[tuple[str, int, list[Any]]]:
        """Topic, actor and region links of new policies; relations wait for all policies."""
        topics: list[dict[str, Any]] = []
        actor_links: list[dict[str, Any]] = []
        region_links: list[dict[str, Any]] = []
        actor_cites: list[list[Any]] = []
        region_cites: list[list[Any]] = []
        records = [record for _index, _dump, record in batch]
        actors = self.ids.need("actors", (a["actor"] for r in records for a in r.get("actors", [])))
        regions = self.ids.need(
            "regions", (g["region"] for r in records for g in r.get("regions", []))
        )
        for record, policy_id in zip(records, policy_ids, strict=True):
            topics.extend({"policy_id": policy_id, "topic": t} for t in record.get("topics", []))
            for i, a in enumerate(record.get("actors", [])):
                actor_links.append(
                    {
                        "policy_id": policy_id,
                        "actor_id": actors[a["actor"]],
                        "role": a["role"],
                        "position": i,
                    }
                )
                actor_cites.append(a.get("citations", []))
            for i, r in enumerate(record.get("regions", [])):
                region_links.append(
                    {
                        "policy_id": policy_id,
                        "region_id": regions[r["region"]],
                        "role": r["role"],
                        "position": i,
                    }
                )
                region_cites.append(r.get("citations", []))
            for i, rel in enumerate(record.get("related", [])):
                line = [policy_id, rel["policy"], rel["relation"], i, rel.get("citations", [])]
                self.relations.write(json.dumps(line).encode() + b"\n")
        self._insert(PolicyTopic.__table__, topics)
        citations: list[tuple[str, int, list[Any]]] = []
        for link_id, cited in zip(
            self._insert(PolicyActor.__table__, actor_links, ids=True), actor_cites, strict=True
        ):
            citations.append(("policy_actor_id", link_id, cited))
        for link_id, cited in zip(
            self._insert(PolicyRegion.__table__, region_links, ids=True), region_cites, strict=True
        ):
            citations.append(("policy_region_id", link_id, cited))
        return citations

    def link_new_records(self, name: ResourceName) -> None:
        """Point new records at each other once all of them exist (parents, relations)."""
        if name in ("regions", "actors") and self.parents:
            table: Table = RESOURCES[name].model.__table__
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(parent_id=bindparam("b_parent"))
            )
            for start in range(0, len(self.parents), LOOKUP):
                chunk = self.parents[start : start + LOOKUP]
                known = self.ids.need(name, (slug for _row_id, slug in chunk))
                rows = [{"b_id": row_id, "b_parent": known[slug]} for row_id, slug in chunk]
                self.connection.execute(statement, rows)
        self.parents = []
        if name == "policies":
            self.relations.seek(0)
            while lines := self.relations.readlines(1 << 20):
                self._insert_relations([json.loads(line) for line in lines])

    def _insert_relations(self, lines: list[list[Any]]) -> None:
        policies = self.ids.need("policies", (line[1] for line in lines))
        rows = [
            {
                "policy_id": policy_id,
                "related_policy_id": policies[related],
                "relation": relation,
                "position": position,
            }
            for policy_id, related, relation, position, _cited in lines
        ]
        link_ids = self._insert(PolicyRelation.__table__, rows, ids=True)
        citations = [
            ("policy_relation_id", link_id, line[4])
            for link_id, line in zip(link_ids, lines, strict=True)
        ]
        self._insert(Citation.__table__, self._citation_rows(citations))

    def set_iso_codes(self) -> None:
        """Give new regions their ISO codes, after updates may have freed them."""
        if self.iso_codes:
            table: Table = Region.__table__  # type: ignore[assignment]
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(iso_code=bindparam("b_code"))
            )
            self.connection.execute(statement, self.iso_codes)
            self.iso_codes = []

    def close(self) -> None:
        self.relations.close()


def _transient(model: Any, columns: dict[str, Any]) -> Any:
    """A detached instance holding ``columns``, as the ORM builds one when it loads a row
    (its constructor, with an event per attribute, costs several times more)."""
    row = model._sa_class_manager.new_instance()
    row.__dict__.update(columns)
    return row


def _chunks(spool: _Spool, wanted: Callable[[str], bool], size: int) -> Iterator[Batch]:
    """The spooled records that ``wanted`` picks, in their bundle shape, ``size`` at a time.

    They were validated in pass 1; a record is validated again only if it is to be written
    through the ORM path (an update), which needs the typed record.
    """
    batch: Batch = []
    for index, slug, dump in spool.lines():
        if not wanted(slug):
            continue
        batch.append((index, dump, json.loads(dump)))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _let_go(session: Session, held: set[Any]) -> None:
    """Forget the rows a chunk loaded, so that memory stays flat however large the import."""
    for key in list(session.identity_map.keys()):
        if key not in held and (row := session.identity_map.get(key)) is not None:
            session.expunge(row)


def _split(
    ledger: _Ledger, name: ResourceName
) -> tuple[Callable[[str], bool], Callable[[str], bool]]:
    """Which of the bundle's records of ``name`` are new, and which exist already."""
    if not ledger.any_existing(name):  # a first import asks nothing per record
        return (lambda _slug: True), (lambda _slug: False)
    existing = functools.partial(ledger.is_existing, name)
    return (lambda slug: not existing(slug)), existing


def _update_existing(
    session: Session,
    name: ResourceName,
    batch: Batch,
    outcome: Outcome,
    changed_by: str,
) -> None:
    """Records that exist: compare, and write the changed ones through the ORM path."""
    spec = RESOURCES[name]
    slugs = [after["slug"] for _i, _dump, after in batch]
    query = select(spec.model).where(spec.model.slug.in_(slugs)).options(*spec.load_for_write)
    rows = {row.slug: row for row in session.scalars(query)}
    changes = []
    for index, dump, after in batch:
        row = rows[after["slug"]]
        if record_dump(spec, stored_record(spec, row)) == after:
            outcome.count(name, "unchanged")
        else:
            record = spec.record.model_validate_json(dump)
            changes.append(Change(name, record, (name, index), existing=row))
    if not changes:
        return
    targets = Targets()
    wanted: dict[ResourceName, set[str]] = defaultdict(set)
    for change in changes:
        for resource, ref, _at in referenced_slugs(change):
            wanted[resource].add(ref)
    for resource, refs in wanted.items():
        model = RESOURCES[resource].model
        ordered = sorted(refs)
        for start in range(0, len(ordered), LOOKUP):
            chunk = ordered[start : start + LOOKUP]
            for row in session.scalars(select(model).where(model.slug.in_(chunk))):
                targets.rows[(resource, row.slug)] = row
    write_changes(session, changes, targets, changed_by=changed_by, outcome=outcome)
    outcome.written.clear()  # the rows are let go after each chunk


def run_import(
    *,
    session: Session,
    bundle: BundleInput,
    mode: ImportMode = "upsert",
    max_records: int | None = None,
    progress: Progress | None = None,
    changed_by: str = "import",
    chunk_size: int = CHUNK,
) -> Outcome:
    """Validate, check and write a whole bundle in the session's transaction (not committed).

    Raises InvalidInput listing every problem if there is any; then nothing was written.
    """
    plan = _validate(bundle, max_records)
    try:
        begin_write(session)  # imports queue behind each other instead of interleaving
        state, errors = _check(session, plan, mode)
        if errors:
            raise InvalidInput(f"{errors.total} problem(s) found; nothing was written", errors)
        return _write(session, plan, state, mode, progress, changed_by, chunk_size)
    finally:
        plan.close()


def _write(
    session: Session,
    plan: _Plan,
    state: _State,
    mode: ImportMode,
    progress: Progress | None,
    changed_by: str,
    chunk_size: int,
) -> Outcome:
    outcome = Outcome()
    writer = _BulkWriter(session, changed_by)
    held = set(session.identity_map.keys())  # the caller's objects stay in its session
    try:
        for name in WRITE_ORDER:
            spool = plan.spools[name]
            new, existing = _split(state.ledger, name)
            # New records first, so that updated ones may point at them.
            for batch in _chunks(spool, new, chunk_size):
                writer.write(name, batch)
                outcome.counts[name]["created"] += len(batch)
                if progress is not None:
                    progress(len(batch))
            writer.link_new_records(name)
            for batch in _chunks(spool, existing, chunk_size):
                _update_existing(session, name, batch, outcome, changed_by)
                _let_go(session, held)
                if progress is not None:
                    progress(len(batch))
            if name == "regions":
                writer.set_iso_codes()
        if mode == "replace":
            deletions: list[tuple[ResourceName, RecordModel]] = []
            for name, slugs in state.gone.items():
                spec = RESOURCES[name]
                ordered = sorted(slugs)
                for start in range(0, len(ordered), LOOKUP):
                    query = select(spec.model).where(
                        spec.model.slug.in_(ordered[start : start + LOOKUP])
                    )
                    deletions.extend(
                        (name, row) for row in session.scalars(query.options(*spec.load_for_write))
                    )
            if deletions:
                write_changes(
                    session, [], Targets(), changed_by=changed_by, delete=deletions, outcome=outcome
                )
    except IntegrityError as exc:  # a constraint the checks missed: still a clean refusal
        raise InvalidInput(
            "the database refused the change",
            [ErrorDetail(pointer="", detail=str(exc.orig).splitlines()[0])],
        ) from exc
    finally:
        writer.close()
    return outcome

"""Running an import of any size in flat memory: one validating pass, the checks, then
chunked writes, all in the caller's transaction.

Pass 1 (validation.py) validates each record on its own and keeps it in the ledger
(ledger.py). The checks that need the whole bundle or the database run next, the same
checks as API writes (app/services/write_checks.py), and every problem is reported before
anything is written. Pass 2 reads the spools back in chunks, resource by resource: new
records are inserted by the bulk writer (writer.py); records that already exist go through
the ORM write path (so links keep their ids), and the session is emptied after each chunk.
"""

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ErrorDetail, ErrorList, InvalidInput
from app.models import Region
from app.models.base import RecordMixin
from app.resources import RESOURCES, WRITE_ORDER, ResourceName
from app.schemas.bundle import ImportModeName
from app.services.changes import Change, Key
from app.services.imports.ledger import Ledger, Spool
from app.services.imports.reading import BundleInput
from app.services.imports.validation import Plan, validate
from app.services.imports.writer import Batch, BulkWriter
from app.services.rows import stored_dumps
from app.services.write_checks import LOOKUP, slug_exists, slug_ids
from app.services.writes import Outcome, Targets, begin_write, resolve_targets, write_changes

ImportMode = ImportModeName
Progress = Callable[[int], None]
Gone = dict[ResourceName, set[str]]  # slugs a replace deletes
CHUNK = 1000  # records per write chunk
LISTED = 100  # changed records a report lists field by field (the counts cover the rest)


def run_import(
    *,
    session: Session,
    bundle: BundleInput,
    mode: ImportMode = "upsert",
    max_records: int | None = None,
    progress: Progress | None = None,
    changed_by: str = "import",
    chunk_size: int = CHUNK,
    listed: int = LISTED,
) -> Outcome:
    """Validate, check and write a whole bundle in the session's transaction (not committed).

    Raises InvalidInput listing every problem if there is any; then nothing was written.
    In mode merge each record is a merge patch (RFC 7396) of the stored one.
    """
    if mode == "merge":
        # The patches apply to what is stored once this import holds the write lock, so
        # that no write lands between reading a record and writing it back.
        begin_write(session)
    plan = validate(bundle, max_records, session if mode == "merge" else None)
    try:
        if mode != "merge":
            begin_write(session)  # imports queue behind each other instead of interleaving
        gone, errors = _check(session, plan, mode)
        if errors:
            raise InvalidInput(f"{errors.total} problem(s) found; nothing was written", errors)
        outcome = Outcome(listed=listed)
        freed = _free_iso_codes(session, plan, gone)
        _write(
            session, plan.ledger, gone, Writing(outcome, progress, changed_by, chunk_size, freed)
        )
        return outcome
    finally:
        plan.close()


def _free_iso_codes(session: Session, plan: Plan, gone: Gone) -> dict[str, str]:
    """Take the ISO codes the import hands to another region from their holders first (a
    swap, or a taker written before its giver), so that the regions may be written in any
    order; region slug -> the code it held (its history still shows it).

    The checks made sure each holder is in the import or deleted by it.
    """
    codes = sorted(plan.checks.iso_codes)
    freed: dict[str, str] = {}
    for start in range(0, len(codes), LOOKUP):
        query = select(Region.iso_code, Region.slug).where(
            Region.iso_code.in_(codes[start : start + LOOKUP])
        )
        for code, holder in session.execute(query):
            if code is not None and plan.checks.iso_codes[code][0] != holder:
                freed[holder] = code
    held = sorted(freed)
    table: Any = Region.__table__
    for start in range(0, len(held), LOOKUP):
        chunk = held[start : start + LOOKUP]
        session.execute(update(table).where(table.c.slug.in_(chunk)).values(iso_code=None))
    return freed


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
        yield slug_ids(session, name, chunk)


def _check(session: Session, plan: Plan, mode: ImportMode) -> tuple[Gone, ErrorList]:
    """Every check that needs the whole bundle or the database; all problems, in order."""
    ledger, checks = plan.ledger, plan.checks
    gone: Gone = {}
    errors = ErrorList(plan.errors)
    errors.total += plan.errors.total - len(plan.errors)  # those already left out
    for name in WRITE_ORDER:
        for found in _in_database(session, name, ledger.slugs(name)):
            ledger.mark_existing(name, found)
        if mode == "insert":
            errors.extend(slug_exists(slug, (name, index)) for slug, index in ledger.existing(name))
        if mode == "replace":
            model = RESOURCES[name].model
            gone[name] = {
                slug
                for slug in session.scalars(select(model.slug))
                if (name, slug) not in checks.invalid and ledger.index_of(name, slug) is None
            }
    errors.extend(checks.found)
    errors.total += checks.found.total - len(checks.found)
    errors.extend(checks.check(session, gone))
    return gone, errors


def _chunks(spool: Spool, wanted: Callable[[str], bool], size: int) -> Iterator[Batch]:
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
    ledger: Ledger, name: ResourceName
) -> tuple[Callable[[str], bool], Callable[[str], bool]]:
    """Which of the bundle's records of ``name`` are new, and which exist already."""
    if not ledger.any_existing(name):  # a first import asks nothing per record
        return (lambda _slug: True), (lambda _slug: False)
    existing = functools.partial(ledger.is_existing, name)
    return (lambda slug: not existing(slug)), existing


@dataclass
class Writing:
    """What the write pass reports to, and how it goes."""

    outcome: Outcome
    progress: Progress | None
    changed_by: str
    chunk_size: int
    freed: dict[str, str]  # region slug -> the ISO code taken from it before writing


def _stored_as_before(
    session: Session, name: ResourceName, ids: Iterable[int], freed: dict[str, str]
) -> dict[int, dict[str, Any]]:
    """The stored dumps of records, with the ISO codes freed before writing put back."""
    stored = stored_dumps(session, RESOURCES[name], list(ids))
    if name == "regions" and freed:
        for dump in stored.values():
            if (code := freed.get(str(dump["slug"]))) is not None:
                dump["iso_code"] = code
    return stored


def _update_existing(session: Session, name: ResourceName, batch: Batch, how: Writing) -> None:
    """Records that exist: compare, and write the changed ones through the ORM path."""
    spec, outcome = RESOURCES[name], how.outcome
    ids = slug_ids(session, name, (after["slug"] for _i, _dump, after in batch))
    stored = _stored_as_before(session, name, ids.values(), how.freed)
    changed = [(i, dump, after) for i, dump, after in batch if stored[ids[after["slug"]]] != after]
    outcome.count(name, "unchanged", len(batch) - len(changed))
    if not changed:
        return
    model: type[RecordMixin] = spec.model
    query = select(model).where(model.id.in_([ids[after["slug"]] for _i, _d, after in changed]))
    rows = {row.slug: row for row in session.scalars(query.options(*spec.load_for_write))}
    changes = [
        Change(name, spec.record.model_validate_json(dump), (name, i), existing=rows[after["slug"]])
        for i, dump, after in changed
    ]
    targets = resolve_targets(session, changes)
    before = {(name, after["slug"]): stored[ids[after["slug"]]] for _i, _d, after in changed}
    write_changes(
        session,
        changes,
        targets,
        changed_by=how.changed_by,
        outcome=outcome,
        known_before=before,
    )
    outcome.written.clear()  # the rows are let go after each chunk


def _deletions(session: Session, gone: Gone) -> list[tuple[ResourceName, RecordMixin]]:
    """The rows a replace deletes (those of the database the bundle does not hold)."""
    deletions: list[tuple[ResourceName, RecordMixin]] = []
    for name, slugs in gone.items():
        spec = RESOURCES[name]
        model: type[RecordMixin] = spec.model
        ordered = sorted(slugs)
        for start in range(0, len(ordered), LOOKUP):
            query = select(model).where(model.slug.in_(ordered[start : start + LOOKUP]))
            deletions.extend(
                (name, row) for row in session.scalars(query.options(*spec.load_for_write))
            )
    return deletions


def _describe_created(outcome: Outcome, name: ResourceName, batch: Batch) -> None:
    """Note new records (the first few field by field: the rest are only counted)."""
    room = max(0, outcome.listed - len(outcome.changes))
    for _index, _dump, record in batch[:room]:
        outcome.describe(name, record["slug"], "create", {}, record)
    outcome.changes_total += len(batch) - min(room, len(batch))


def _write(session: Session, ledger: Ledger, gone: Gone, how: Writing) -> None:
    outcome, progress = how.outcome, how.progress
    writer = BulkWriter(session, how.changed_by)
    held = set(session.identity_map.keys())  # the caller's objects stay in its session
    try:
        for name in WRITE_ORDER:
            new, existing = _split(ledger, name)
            # New records first, so that updated ones may point at them.
            for batch in _chunks(ledger.spools[name], new, how.chunk_size):
                writer.write(name, batch)
                outcome.count(name, "created", len(batch))
                _describe_created(outcome, name, batch)
                if progress is not None:
                    progress(len(batch))
            writer.link_new_records(name)
            for batch in _chunks(ledger.spools[name], existing, how.chunk_size):
                _update_existing(session, name, batch, how)
                _let_go(session, held)
                if progress is not None:
                    progress(len(batch))
            if name == "regions":
                writer.set_iso_codes()
        if deletions := _deletions(session, gone):
            before: dict[Key, dict[str, Any]] = {}
            for name in {name for name, _row in deletions}:
                rows = {row.id: row.slug for n, row in deletions if n == name}
                stored = _stored_as_before(session, name, rows, how.freed)
                before.update(((name, rows[row_id]), dump) for row_id, dump in stored.items())
            write_changes(
                session,
                [],
                Targets(),
                changed_by=how.changed_by,
                delete=deletions,
                outcome=outcome,
                known_before=before,
            )
    except IntegrityError as exc:  # a constraint the checks missed: still a clean refusal
        raise InvalidInput(
            "the database refused the change",
            [ErrorDetail(pointer="", detail=str(exc.orig).splitlines()[0])],
        ) from exc
    finally:
        writer.close()

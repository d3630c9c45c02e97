"""The write checks: one function and one message per rule, for API writes and imports alike.

Both paths feed their validated records, one at a time, to a BatchChecks over a Batch: the
records of a request held in memory (MemoryBatch), or those of a streamed import held in
its on-disk ledger (app/services/imports/ledger.py). What needs the whole batch or the
database (unknown references, parent loops, ISO codes taken) runs once all are in.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ErrorDetail, ErrorList, pointer
from app.models import Region
from app.resources import RESOURCES, WRITE_ORDER, Reference, ResourceName
from app.services.changes import Change, Key, Location, raw_references, referenced_slugs

LOOKUP = 500  # slugs per IN (...) query
LOOSE_REFERENCES = 10_000  # references kept of records left out of a batch


# One message per rule: the API and the importer word each problem the same way.
def duplicate_slug(slug: str, at: Location, first: Location) -> ErrorDetail:
    where = pointer(*first) or "the request"
    return ErrorDetail(pointer(*at, "slug"), f"duplicate slug; first at {where}", slug=slug)


def slug_exists(slug: str, at: Location) -> ErrorDetail:
    """A record that may only be created (import mode insert) already exists."""
    detail = "a record with this slug already exists (mode=insert)"
    return ErrorDetail(pointer(*at, "slug"), detail, slug=slug)


def unknown_reference(slug: str, at: Location, target: ResourceName, ref: str) -> ErrorDetail:
    detail = f"unknown {RESOURCES[target].singular} slug {ref!r}"
    return ErrorDetail(pointer(*at), detail, slug=slug)


def parent_loop(slug: str, at: Location, back_to: str) -> ErrorDetail:
    return ErrorDetail(pointer(*at, "parent"), f"parent chain loops back to {back_to!r}", slug=slug)


def iso_code_twice(slug: str, at: Location, code: str) -> ErrorDetail:
    return ErrorDetail(pointer(*at, "iso_code"), f"ISO code {code} is used twice", slug=slug)


def iso_code_taken(slug: str, at: Location, code: str, holder: str) -> ErrorDetail:
    detail = f"ISO code {code} already belongs to region {holder!r}"
    return ErrorDetail(pointer(*at, "iso_code"), detail, slug=slug)


class Batch(Protocol):
    """Where a batch's records are kept while they are checked."""

    def add(self, change: Change) -> Location | None:
        """Keep a valid record; if its slug is in the batch already, where it first was."""

    def location(self, name: ResourceName, slug: str) -> Location | None:
        """Where the batch's record ``slug`` of ``name`` is; None: not in the batch."""

    def refer(self, keys: Iterable[Key]) -> None:
        """Note slugs the batch's records refer to."""

    def outside_refs(self, name: ResourceName) -> Iterator[list[str]]:
        """Referred-to slugs of ``name`` that the batch does not hold, in chunks."""

    def changes(self) -> Iterator[Change]:
        """The batch's records again (read only to locate unknown references)."""


class MemoryBatch:
    """The records of one request (or a small set of records) in memory."""

    def __init__(self) -> None:
        self.first: dict[Key, Change] = {}
        self.refs: set[Key] = set()

    def add(self, change: Change) -> Location | None:
        key = (change.resource, change.slug)
        if key in self.first:
            return self.first[key].location
        self.first[key] = change
        return None

    def location(self, name: ResourceName, slug: str) -> Location | None:
        change = self.first.get((name, slug))
        return None if change is None else change.location

    def refer(self, keys: Iterable[Key]) -> None:
        self.refs.update(keys)

    def outside_refs(self, name: ResourceName) -> Iterator[list[str]]:
        slugs = sorted(s for n, s in self.refs if n == name and (n, s) not in self.first)
        if slugs:
            yield slugs

    def changes(self) -> Iterator[Change]:
        return iter(self.first.values())


def _trees() -> dict[ResourceName, Reference]:
    """The resources whose records form a tree: a reference to a record of their own type."""
    return {
        name: ref
        for name, spec in RESOURCES.items()
        for ref in spec.references
        if ref.target == name
    }


TREES = _trees()


def slug_ids(session: Session, name: ResourceName, slugs: Iterable[str]) -> dict[str, int]:
    """slug -> id of those of ``slugs`` that are in the database."""
    model = RESOURCES[name].model
    ordered = sorted(set(slugs))
    found: dict[str, int] = {}
    for start in range(0, len(ordered), LOOKUP):
        query = select(model.slug, model.id).where(model.slug.in_(ordered[start : start + LOOKUP]))
        found.update((slug, id_) for slug, id_ in session.execute(query))
    return found


class BatchChecks:
    """Every check of one batch: fed record by record (``add``), then run over the whole batch
    and the database (``check``)."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.found = ErrorList()  # while adding: duplicate slugs, ISO codes used twice
        # Slugs of records that failed validation: references to them are not reported again.
        self.invalid: set[Key] = set()
        self.renamed: set[Key] = set()  # the old slugs of renamed records
        self.parents: dict[ResourceName, dict[str, str | None]] = {name: {} for name in TREES}
        self.iso_codes: dict[str, tuple[str, Location]] = {}  # code -> region slug, location
        # References of records left out of the batch (invalid, or a repeated slug): still
        # checked, so that one pass reports every problem. Capped: they only make errors.
        self.loose: list[tuple[ResourceName, str, Location, str]] = []

    def refer_raw(self, name: ResourceName, item: object, at: Location) -> None:
        """Note the references of a record that failed validation (those readable)."""
        if isinstance(item, dict) and isinstance(slug := item.get("slug"), str):
            self._loose(slug, raw_references(name, item, at))

    def _loose(self, slug: str, refs: Iterable[tuple[ResourceName, str, Location]]) -> None:
        for target, ref, where in refs:
            if len(self.loose) < LOOSE_REFERENCES:
                self.loose.append((target, ref, where, slug))

    def add(self, change: Change) -> bool:
        """Take in a valid record; False if it repeats a slug of the batch (it is left out)."""
        name, slug, at = change.resource, change.slug, change.location
        first = self.batch.add(change)
        if first is not None:
            self.found.append(duplicate_slug(slug, at, first))
            self._loose(slug, referenced_slugs(change))
            return False
        if change.existing is not None and change.existing.slug != slug:
            self.renamed.add((name, change.existing.slug))
        self.batch.refer((target, ref) for target, ref, _at in referenced_slugs(change))
        if name in TREES:
            self.parents[name][slug] = getattr(change.record, TREES[name].field)
        if (code := getattr(change.record, "iso_code", None)) is not None:
            if code in self.iso_codes:
                self.found.append(iso_code_twice(slug, at, code))
            self.iso_codes[code] = (slug, at)
        return True

    def check(self, session: Session, gone: Mapping[ResourceName, set[str]]) -> list[ErrorDetail]:
        """The checks that need the whole batch or the database; ``gone`` are slugs the write
        deletes (their records cannot be referred to)."""
        return [
            *self.unknown_references(session, gone),
            *self.parent_loops(session),
            *self.iso_codes_taken(session, gone),
        ]

    def unknown_references(
        self, session: Session, gone: Mapping[ResourceName, set[str]]
    ) -> Iterator[ErrorDetail]:
        """References to records neither in the batch nor (still) in the database."""
        unknown: set[Key] = set()
        for name in WRITE_ORDER:
            freed = gone.get(name, set())
            for chunk in self.batch.outside_refs(name):
                slugs = [s for s in chunk if (name, s) not in self.invalid]
                found = slug_ids(session, name, slugs)
                unknown.update(
                    (name, s)
                    for s in slugs
                    if s not in found or s in freed or (name, s) in self.renamed
                )
        yield from self._loose_unknown(session, gone)
        if not unknown:
            return
        for change in self.batch.changes():  # a second read of the batch, on errors only
            for target, ref, at in referenced_slugs(change):
                if (target, ref) in unknown:
                    yield unknown_reference(change.slug, at, target, ref)

    def _loose_unknown(
        self, session: Session, gone: Mapping[ResourceName, set[str]]
    ) -> Iterator[ErrorDetail]:
        """Unknown references of the records left out of the batch."""
        wanted: dict[ResourceName, set[str]] = {}
        for target, ref, _at, _slug in self.loose:
            if (target, ref) not in self.invalid and self.batch.location(target, ref) is None:
                wanted.setdefault(target, set()).add(ref)
        found = {name: slug_ids(session, name, slugs) for name, slugs in wanted.items()}
        for target, ref, at, slug in self.loose:
            missing = ref not in found.get(target, {}) or ref in gone.get(target, set())
            if ref in wanted.get(target, set()) and missing:
                yield unknown_reference(slug, at, target, ref)

    def parent_loops(self, session: Session) -> Iterator[ErrorDetail]:
        """Records whose parent chain, as it will be once written, comes back to itself."""
        for name, reference in TREES.items():
            batch_parents = self.parents[name]
            if not batch_parents:
                continue
            model = RESOURCES[name].model
            parent = model.__table__.alias("parent")
            query = select(model.slug, parent.c.slug).outerjoin(
                parent, reference.column == parent.c.id
            )
            parent_of: dict[str, str | None] = dict(session.execute(query).all())
            for renamed_name, old_slug in self.renamed:
                if renamed_name == name:
                    parent_of.pop(old_slug, None)
            parent_of.update(batch_parents)
            for slug in batch_parents:
                if (back_to := _loops_back(slug, parent_of)) is not None:
                    yield parent_loop(slug, self.batch.location(name, slug) or (), back_to)

    def iso_codes_taken(
        self, session: Session, gone: Mapping[ResourceName, set[str]]
    ) -> Iterator[ErrorDetail]:
        """ISO codes the batch gives to a region that another region holds, one neither in
        the batch (which may hand codes around) nor deleted by the write."""
        freed = gone.get("regions", set())
        codes = sorted(self.iso_codes)
        for start in range(0, len(codes), LOOKUP):
            query = select(Region.iso_code, Region.slug).where(
                Region.iso_code.in_(codes[start : start + LOOKUP])
            )
            for code, holder in session.execute(query):
                if code is None or self._in_batch("regions", holder) or holder in freed:
                    continue
                slug, at = self.iso_codes[code]
                yield iso_code_taken(slug, at, code, holder)

    def _in_batch(self, name: ResourceName, slug: str) -> bool:
        """Whether the batch writes the record ``slug`` (under that slug or a new one)."""
        return (name, slug) in self.renamed or self.batch.location(name, slug) is not None


def _loops_back(slug: str, parent_of: Mapping[str, str | None]) -> str | None:
    """The record a parent chain starting at ``slug`` comes back to, if it does."""
    seen = {slug}
    current = parent_of.get(slug)
    while current is not None:
        if current in seen:
            return current
        seen.add(current)
        current = parent_of.get(current)
    return None

"""The ledger of an import: where each record of a streamed bundle is, on disk.

The valid records of each resource are spooled to a temporary file in their bundle shape;
what the checks need of every record (its slug and position, the slugs it refers to) goes
to a private temporary SQLite database. The ledger is the import's Batch for the shared
write checks (app/services/write_checks.py).
"""

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from app.resources import RESOURCES, WRITE_ORDER, ResourceName
from app.services.changes import Change, Key, Location
from app.services.write_checks import LOOKUP


class Spool:
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


class Ledger:
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
        self.spools: dict[ResourceName, Spool] = {name: Spool() for name in WRITE_ORDER}

    def add(self, change: Change) -> Location | None:
        """Keep a valid record (its location in the ledger, its bundle shape in its spool);
        if its slug was seen before, where it first was."""
        name, slug = change.resource, change.slug
        index = int(change.location[1])
        try:
            self.db.execute("INSERT INTO records VALUES (?, ?, ?, NULL)", (name, slug, index))
        except sqlite3.IntegrityError:
            return self.location(name, slug)
        include = set(RESOURCES[name].record.model_fields)
        self.spools[name].add(
            index, slug, change.record.model_dump_json(include=include, exclude_none=True)
        )
        return None

    def location(self, name: ResourceName, slug: str) -> Location | None:
        index = self.index_of(name, slug)
        return None if index is None else (name, index)

    def changes(self) -> Iterator[Change]:
        """The spooled records again, validated again (only to locate unknown references)."""
        for name in WRITE_ORDER:
            shape = RESOURCES[name].record
            for index, _slug, dump in self.spools[name].lines():
                yield Change(name, shape.model_validate_json(dump), (name, index))

    def refer(self, keys: Iterable[Key]) -> None:
        fresh = set(keys) - self._recent_refs
        if not fresh:
            return
        if len(self._recent_refs) > self.RECENT_REFS:
            self._recent_refs.clear()
        self._recent_refs.update(fresh)
        self.db.executemany("INSERT OR IGNORE INTO refs VALUES (?, ?)", fresh)

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
        for spool in self.spools.values():
            spool.close()
        self.db.close()

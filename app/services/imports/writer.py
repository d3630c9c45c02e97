"""The bulk writer: new records inserted with executemany (rows, value lists, links,
citations, history entries, search documents), their references resolved against the
target database a chunk at a time. Columns come from the same mapping as the ORM writes
(app/services/rows.py), history entries from the same writer (app/services/history.py)."""

import json
import tempfile
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from app.models import Citation, Region, SearchDocument
from app.models.base import utcnow
from app.resources import CITATION_OWNERS, RESOURCES, WRITE_ORDER, Links, Resource, ResourceName
from app.resources.registry import referrers
from app.services.history import Written, write_history
from app.services.rows import row_columns
from app.services.search import document_text
from app.services.write_checks import LOOKUP, TREES, slug_ids

# Spooled records read back: (index in the section, the JSON, its bundle shape parsed).
Batch = list[tuple[int, bytes, dict[str, Any]]]
Cited = tuple[str, int, list[Any]]  # (citation column naming the owner, owner id, citations)

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
# Resources whose new records others may name in the same import (not goals).
_REFERRED = {name for name in RESOURCES if referrers(name)}


class Ids:
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
            known.update(slug_ids(self.session, name, missing))
        return {slug: known[slug] for slug in wanted}

    def remember(self, name: ResourceName, slug: str, id_: int) -> None:
        known = self.known[name]
        if len(known) >= self.REMEMBERED:
            known.clear()
        known[slug] = id_


class BulkWriter:
    """Inserts new records with executemany: rows, links, citations, history and search."""

    def __init__(self, session: Session, changed_by: str) -> None:
        self.connection = session.connection()
        self.ids = Ids(session)
        self.changed_by = changed_by
        self.now = utcnow()
        self.parents: list[tuple[int, str]] = []  # (new row id, parent slug), per resource
        self.iso_codes: list[dict[str, Any]] = []  # new regions' codes, set after updates
        # Links between new records of one type (policy relations), once all of them exist.
        self.deferred_links = tempfile.TemporaryFile()  # noqa: SIM115  closed by close()

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

    def _citation_rows(self, citations: list[Cited]) -> list[dict[str, Any]]:
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

    def _rows(self, spec: Resource, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The table rows of new records; references to their own type wait (parents)."""
        targets = {
            ref.field: self.ids.need(
                ref.target, (r[ref.field] for r in records if r.get(ref.field))
            )
            for ref in spec.references
            if ref.target != spec.name
        }
        rows = []
        for record in records:
            row = {
                **row_columns(spec, record),
                "created_at": self.now,
                "updated_at": self.now,
                "version": 1,
            }
            for ref in spec.references:  # a parent is set once all new records exist
                slug = record.get(ref.field)
                known = targets.get(ref.field)
                row[ref.column.key] = known[slug] if slug and known is not None else None
            if spec.name == "regions":
                row["iso_code"] = None  # set once updates may have freed it: set_iso_codes()
            rows.append(row)
        return rows

    def write(self, name: ResourceName, batch: Batch) -> None:
        """Insert a chunk of new records of one resource (given in their bundle shape)."""
        spec = RESOURCES[name]
        records = [record for _index, _dump, record in batch]
        rows = self._rows(spec, records)
        new_ids = self._insert(spec.model.__table__, rows, ids=True)
        citations: list[Cited] = []
        for record, row_id in zip(records, new_ids, strict=True):
            if name in _REFERRED:
                self.ids.remember(name, record["slug"], row_id)
            if spec.cited_as is not None:
                citations.append((spec.cited_as.key, row_id, record.get("citations", [])))
            if name in TREES and (parent := record.get(TREES[name].field)):
                self.parents.append((row_id, parent))
            if name == "regions" and (code := record.get("iso_code")):
                self.iso_codes.append({"b_id": row_id, "b_code": code})
        for values in spec.value_lists:
            self._insert(
                values.model.__table__,
                [
                    {values.owner.key: row_id, values.value.key: value}
                    for record, row_id in zip(records, new_ids, strict=True)
                    for value in record.get(values.field, [])
                ],
            )
        for number in range(len(spec.links)):
            citations.extend(self._links(name, number, records, new_ids))
        self._insert(Citation.__table__, self._citation_rows(citations))
        written = [
            Written(name, row_id, record["slug"], "create", {}, record)
            for record, row_id in zip(records, new_ids, strict=True)
        ]
        write_history(self.connection, written, changed_by=self.changed_by, changed_at=self.now)
        self._insert(
            SearchDocument.__table__,
            [
                {"record_type": spec.singular, "record_id": row_id, "title": title, "body": body}
                for (title, body), row_id in zip(
                    (document_text(_transient(spec.model, row)) for row in rows),
                    new_ids,
                    strict=True,
                )
            ],
        )

    def _links(
        self,
        owner: ResourceName,
        number: int,
        records: list[dict[str, Any]],
        owner_ids: list[int],
    ) -> list[Cited]:
        """New records' links of one list. Links to records of the owner's own type (policy
        relations) wait until all of those exist: link_new_records()."""
        links = RESOURCES[owner].links[number]
        found = [
            [number, owner_id, link[links.key], link[links.kind], i, link.get("citations", [])]
            for record, owner_id in zip(records, owner_ids, strict=True)
            for i, link in enumerate(record.get(links.field, []))
        ]
        if links.target == owner:
            self.deferred_links.writelines(json.dumps(line).encode() + b"\n" for line in found)
            return []
        return self._insert_links(links, found)

    def _insert_links(self, links: Links, found: list[list[Any]]) -> list[Cited]:
        """Insert links given as [list number, owner id, target slug, kind, position,
        citations]; the citations to insert with them."""
        targets = self.ids.need(links.target, (line[2] for line in found))
        rows = [
            {
                links.owner.key: owner_id,
                links.target_column.key: targets[slug],
                links.kind: kind,
                "position": position,
            }
            for _number, owner_id, slug, kind, position, _cited in found
        ]
        link_ids = self._insert(links.model.__table__, rows, ids=True)
        return [
            (links.cited_as.key, link_id, line[5])
            for link_id, line in zip(link_ids, found, strict=True)
        ]

    def link_new_records(self, name: ResourceName) -> None:
        """Point new records at each other once all of them exist (parents, relations)."""
        if name in TREES and self.parents:
            table = cast(Table, RESOURCES[name].model.__table__)
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values({TREES[name].column.key: bindparam("b_parent")})
            )
            for start in range(0, len(self.parents), LOOKUP):
                chunk = self.parents[start : start + LOOKUP]
                known = self.ids.need(name, (slug for _row_id, slug in chunk))
                rows = [{"b_id": row_id, "b_parent": known[slug]} for row_id, slug in chunk]
                self.connection.execute(statement, rows)
        self.parents = []
        if any(links.target == name for links in RESOURCES[name].links):
            self.deferred_links.seek(0)
            while lines := self.deferred_links.readlines(1 << 20):
                found = [json.loads(line) for line in lines]
                for number, links in enumerate(RESOURCES[name].links):
                    mine = [line for line in found if line[0] == number]
                    if mine:
                        cited = self._insert_links(links, mine)
                        self._insert(Citation.__table__, self._citation_rows(cited))
            self.deferred_links.seek(0)
            self.deferred_links.truncate()

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
        self.deferred_links.close()


def _transient(model: Any, columns: dict[str, Any]) -> Any:
    """A detached instance holding ``columns``, as the ORM builds one when it loads a row
    (its constructor, with an event per attribute, costs several times more)."""
    row = model._sa_class_manager.new_instance()
    row.__dict__.update(columns)
    return row

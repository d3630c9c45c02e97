"""Documents as dicts, from a few Core queries per page of ids (the builder that works anywhere).

A spec becomes a tree of scopes: the record's own row (one query for the page), and one query
per embedded list, count or chain of ancestors, each run once for all the rows above it. Each
field becomes a small reader of a result row. Statements are built once, at start-up:
constructing them costs more than running them.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic_core import to_json
from sqlalchemy import BindParameter, ColumnElement, FromClause, Select, bindparam, func, select
from sqlalchemy.orm import Session

from app.partial_dates import PartialDate as PartialDateValue
from app.resources.document import (
    MAX_DEPTH,
    Amount,
    Ancestors,
    Boolean,
    Citations,
    Count,
    DocumentSpec,
    Embedded,
    Field,
    Integer,
    JsonList,
    JsonObject,
    Nested,
    NullsLast,
    Order,
    PartialDate,
    Reference,
    Rows,
    Text,
    Timestamp,
    join_key,
    table_of,
)

Document = dict[str, Any]
Row = Sequence[Any]
Fetched = list[dict[int, Any]]  # per child of a scope: its value for each parent id
Reader = Callable[[Row, Fetched], Any]
AnySelect = Select[*tuple[Any, ...]]
IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_CHUNK = 500  # ids per IN (...) list


def date_text(earliest: Any, latest: Any) -> str | None:
    value = PartialDateValue.from_columns(earliest, latest)
    return None if value is None else str(value)


def timestamp_text(value: datetime) -> str:
    # As pydantic writes a datetime, in UTC whatever the session's time zone ("...Z").
    return to_json(value.astimezone(UTC)).decode()[1:-1]


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class _Scope:
    """The rows of one query: the columns it selects, its joins, and its children."""

    def __init__(self, rows: Rows | FromClause) -> None:
        self.table = table_of(rows)
        self.columns: list[ColumnElement[Any]] = []
        self.positions: dict[tuple[str, ...], int] = {}
        self.joins: dict[tuple[str, str], FromClause] = {}
        self.children: list[_Embedded | _Count | _Ancestors] = []

    def column(self, name: str) -> int:
        return self._select(("", name), self.table.c[name])

    def reference(self, reference: Reference) -> int:
        key = join_key(reference)
        if key not in self.joins:
            self.joins[key] = table_of(reference.to).alias()
        return self._select((*key, reference.column), self.joins[key].c[reference.column])

    def _select(self, key: tuple[str, ...], column: ColumnElement[Any]) -> int:
        """The position of ``column`` in the result rows (each column is selected once)."""
        if key not in self.positions:
            self.positions[key] = len(self.columns)
            self.columns.append(column)
        return self.positions[key]

    def child(self, child: "_Embedded | _Count | _Ancestors") -> int:
        self.children.append(child)
        return len(self.children) - 1

    def source(self) -> FromClause:
        """The table with its references joined."""
        joined = self.table
        for (via, _), target in self.joins.items():
            joined = joined.outerjoin(target, target.c.id == self.table.c[via])
        return joined

    def fetch_children(self, session: Session, rows: Sequence[Row]) -> Fetched:
        return [child.fetch(session, rows) for child in self.children]


def _object(fields: tuple[Field, ...], scope: _Scope) -> Reader:
    readers = [(field.key, _reader(field, scope)) for field in fields]
    return lambda row, kids: {key: read(row, kids) for key, read in readers}


def _reader(field: Field, scope: _Scope) -> Reader:
    if isinstance(field, Nested | Citations | Embedded | Count | Ancestors):
        return _composite_reader(field, scope)
    return _column_reader(field, scope)


def _column_reader(field: Field, scope: _Scope) -> Reader:
    """A reader of a value on the document's own row (or a row it references)."""
    match field:
        case Text() | Integer() | Boolean() | JsonObject():
            i = scope.column(field.name)
            return lambda row, _: row[i]
        case JsonList(keys=()):
            i = scope.column(field.name)
            return lambda row, _: row[i]
        case JsonList(keys=keys):
            i = scope.column(field.name)
            return lambda row, _: [{key: item[key] for key in keys} for item in row[i]]
        case Amount():
            i = scope.column(field.name)
            return lambda row, _: decimal_text(row[i])
        case Timestamp():
            i = scope.column(field.name)
            return lambda row, _: timestamp_text(row[i])
        case PartialDate():
            i, j = scope.column(field.earliest), scope.column(field.latest)
            return lambda row, _: date_text(row[i], row[j])
        case Reference():
            i = scope.reference(field)
            return lambda row, _: row[i]
    raise TypeError(f"not a document field: {field!r}")


def _composite_reader(field: Field, scope: _Scope) -> Reader:
    """A reader of a nested object, or of rows fetched for the whole page (lists, counts)."""
    match field:
        case Nested():
            build = _object(field.fields, scope)
            guards = [scope.column(name) for name in field.unless_null]
            return lambda row, kids: (
                None if any(row[g] is None for g in guards) else build(row, kids)
            )
        case Citations():
            return _reader(field.embedded, scope)
        case Embedded():
            i = scope.column("id")
            c = scope.child(_Embedded(field, i))
            return lambda row, kids: kids[c].get(row[i]) or []
        case Count():
            i = scope.column("id")
            c = scope.child(_Count(field, i))
            return lambda row, kids: kids[c].get(row[i], 0)
        case Ancestors():
            i = scope.column("id")
            c = scope.child(_Ancestors(field, scope.table, i, scope.column(field.parent)))
            return lambda row, kids: kids[c][row[i]]
    raise TypeError(f"not a document field: {field!r}")


def _order(table: FromClause, order: Order) -> list[ColumnElement[Any]]:
    if isinstance(order, NullsLast):
        column = table.c[order.column]
        return [column.is_(None), column]
    return [table.c[order]]


def _item(item: tuple[Field, ...] | Field, scope: _Scope) -> Reader:
    return _object(item, scope) if isinstance(item, tuple) else _reader(item, scope)


def _run(session: Session, statement: AnySelect, ids: list[int]) -> list[Row]:
    rows: list[Row] = []
    for start in range(0, len(ids), _CHUNK):
        rows.extend(session.execute(statement, {"ids": ids[start : start + _CHUNK]}).all())
    return rows


class _Embedded:
    """An embedded list for a page of owners: one query, its rows grouped by owner."""

    def __init__(self, field: Embedded, parent_id: int) -> None:
        self.parent_id = parent_id
        base = table_of(field.rows)
        orders = [c for order in field.order_by for c in _order(base, order)]
        if field.limit is None:
            self.scope = _Scope(base)
        else:
            # A window numbers each owner's rows: a hub with thousands of links costs one
            # pass over its index entries, not a list of thousands of rows.
            rank = func.row_number().over(partition_by=base.c[field.owner], order_by=orders)
            ranked = select(base, rank.label("rank_")).where(base.c[field.owner].in_(IDS))
            self.scope = _Scope(ranked.subquery())
        table = self.scope.table
        self.owner = self.scope.column(field.owner)
        self.read = _item(field.item, self.scope)
        statement = select(*self.scope.columns).select_from(self.scope.source())
        if field.limit is None:
            order = [c for order in field.order_by for c in _order(table, order)]
            statement = statement.where(table.c[field.owner].in_(IDS))
        else:
            order = [table.c.rank_]
            statement = statement.where(table.c.rank_ <= field.limit)
        self.statement = statement.order_by(table.c[field.owner], *order)

    def fetch(self, session: Session, parents: Sequence[Row]) -> dict[int, list[Any]]:
        rows = _run(session, self.statement, [p[self.parent_id] for p in parents])
        kids = self.scope.fetch_children(session, rows)
        groups: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            groups[row[self.owner]].append(self.read(row, kids))
        return groups


class _Count:
    def __init__(self, field: Count, parent_id: int) -> None:
        self.parent_id = parent_id
        owner = table_of(field.rows).c[field.owner]
        self.statement = select(owner, func.count()).where(owner.in_(IDS)).group_by(owner)

    def fetch(self, session: Session, parents: Sequence[Row]) -> dict[int, int]:
        rows = _run(session, self.statement, [p[self.parent_id] for p in parents])
        return {owner: int(count) for owner, count in rows}


def ancestor_rows(
    session: Session, statement: AnySelect, starts: dict[int, int | None]
) -> dict[int, list[Row]]:
    """For each id of ``starts`` (id -> parent id), the rows above it, outermost first.

    ``statement`` selects rows by ``ids`` with their id and parent id first: one query per
    level of the tree, not per row.
    """
    known: dict[int, Row] = {}
    missing = {p for p in starts.values() if p is not None}
    while missing:
        rows = _run(session, statement, list(missing))
        known.update((row[0], row) for row in rows)
        missing = {row[1] for row in rows if row[1] is not None} - known.keys()
    chains: dict[int, list[Row]] = {}
    for start, parent in starts.items():
        chain: list[Row] = []
        while parent is not None and len(chain) < MAX_DEPTH:
            chain.append(known[parent])
            parent = known[parent][1]
        chains[start] = chain[::-1]
    return chains


class _Ancestors:
    def __init__(self, field: Ancestors, table: FromClause, parent_id: int, parent: int) -> None:
        self.parent_id, self.parent = parent_id, parent
        self.scope = _Scope(table)
        self.scope.column("id")
        self.scope.column(field.parent)
        self.read = _object(field.item, self.scope)
        self.statement = (
            select(*self.scope.columns).select_from(self.scope.source()).where(table.c.id.in_(IDS))
        )

    def fetch(self, session: Session, parents: Sequence[Row]) -> dict[int, list[Any]]:
        starts = {p[self.parent_id]: p[self.parent] for p in parents}
        chains = ancestor_rows(session, self.statement, starts)
        above = list({row[0]: row for chain in chains.values() for row in chain}.values())
        kids = self.scope.fetch_children(session, above)
        return {key: [self.read(row, kids) for row in chain] for key, chain in chains.items()}


class DocumentPlan:
    """The Python builder of one spec: ``build`` returns the documents of a page of ids."""

    def __init__(self, spec: DocumentSpec) -> None:
        self.scope = _Scope(spec.rows)
        self.id = self.scope.column("id")
        self.read = _object(spec.fields, self.scope)
        table = self.scope.table
        self.statement = (
            select(*self.scope.columns).select_from(self.scope.source()).where(table.c.id.in_(IDS))
        )

    def build(self, session: Session, ids: Sequence[int]) -> dict[int, Document]:
        """The documents of the records ``ids`` that exist, by id."""
        rows = _run(session, self.statement, list(ids))
        kids = self.scope.fetch_children(session, rows)
        return {row[self.id]: self.read(row, kids) for row in rows}

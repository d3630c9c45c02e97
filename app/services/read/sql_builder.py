"""Documents written as JSON text by the database itself: one statement per page of ids.

A page of 50 policies embeds ~500 rows (topics, links, citations, goals). Fetching them into
Python and assembling dicts costs ~10 ms a page; the database builds the same text in C, and
the page is then joined as bytes. The text equals, byte for byte, what the Python builder's
dicts become through ``render`` (pydantic_core.to_json): the same key order, no spaces,
partial dates at their precision, amounts without trailing zeros, timestamps as pydantic
writes them, and the same string escapes (\\" \\\\ \\b \\f \\n \\r \\t, other controls as
lowercase \\u00XX, everything else raw). tests/api/test_documents.py holds them together.

SQLite writes with ``json_object``/``json_group_array``. PostgreSQL's ``json_build_object``
writes spaces and JSONB reorders keys, so there the text is concatenated from ``to_json``
pieces and ``string_agg``, every piece non-null ('null' written out).
"""

from collections.abc import Sequence

from sqlalchemy import FromClause, Subquery
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

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
    Text,
    Timestamp,
    join_key,
    table_of,
)
from app.services.read.dialects import PostgresJson, SqliteJson, SqlJson


class Inexact(Exception):
    """The dialect cannot write a field of this spec exactly: use the Python builder."""


def _check(table: FromClause, column: str) -> None:
    """A misspelt column name fails here, when the statement is built (at start-up)."""
    if column not in table.c:
        raise KeyError(f"{table} has no column {column!r}")


class _Scope:
    """One table (or subquery) in the statement, under an alias, with its joined references."""

    def __init__(self, writer: "_Writer", table: FromClause, alias: str) -> None:
        self.writer, self.table, self.alias = writer, table, alias
        self.joins: dict[tuple[str, str], str] = {}

    def column(self, name: str) -> str:
        _check(self.table, name)
        return f"{self.alias}.{name}"

    def reference(self, reference: Reference) -> str:
        key = join_key(reference)
        if key not in self.joins:
            self.column(reference.via)
            self.joins[key] = self.writer.alias("r")
        _check(table_of(reference.to), reference.column)
        return f"{self.joins[key]}.{reference.column}"

    def joined(self) -> str:
        """The LEFT JOINs of this scope's references."""
        return "".join(
            f" LEFT JOIN {target} {alias} ON {alias}.id = {self.alias}.{via}"
            for (via, target), alias in self.joins.items()
        )

    def order(self, orders: tuple[Order, ...]) -> str:
        terms: list[str] = []
        for order in orders:
            if isinstance(order, NullsLast):
                column = self.column(order.column)
                terms += [f"{column} IS NULL", column]
            else:
                terms.append(self.column(order))
        return ", ".join(terms)


class _Writer:
    """Turns one spec into one statement for one dialect."""

    def __init__(self, sql: SqlJson, dialect: Dialect) -> None:
        self.sql, self.dialect = sql, dialect
        self.count = 0
        self.amounts: list[str] = []  # amount columns of the record's own row

    def alias(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def table(self, rows: FromClause) -> str:
        """A table's name, or a subquery's SQL in this dialect (its values written inline)."""
        if isinstance(rows, Subquery):
            compiled = rows.element.compile(
                dialect=self.dialect, compile_kwargs={"literal_binds": True}
            )
            return f"({compiled})"
        return rows.name  # type: ignore[attr-defined, no-any-return]

    def fields(self, fields: tuple[Field, ...], scope: _Scope, *, own_row: bool) -> str:
        return self.sql.object(
            [(field.key, self.field(field, scope, own_row=own_row)) for field in fields]
        )

    def item(self, item: tuple[Field, ...] | Field, scope: _Scope) -> str:
        if isinstance(item, tuple):
            return self.fields(item, scope, own_row=False)
        return self.field(item, scope, own_row=False)

    def field(self, field: Field, scope: _Scope, *, own_row: bool) -> str:
        if isinstance(field, Nested | Citations | Embedded | Count | Ancestors):
            return self.composite(field, scope, own_row=own_row)
        return self.column(field, scope, own_row=own_row)

    def column(self, field: Field, scope: _Scope, *, own_row: bool) -> str:
        """SQL for a value on the row (or a row it references)."""
        sql = self.sql
        match field:
            case Text():
                return sql.text(scope.column(field.name))
            case Integer():
                return sql.integer(scope.column(field.name))
            case Boolean():
                return sql.boolean(scope.column(field.name))
            case Amount():
                column = scope.column(field.name)
                if sql.amounts_need_check:
                    if not own_row:
                        raise Inexact(f"{field.key}: an amount inside an embedded list")
                    self.amounts.append(column)
                return sql.amount(column)
            case Timestamp():
                return sql.timestamp(scope.column(field.name))
            case JsonObject():
                return sql.json_object_column(scope.column(field.name))
            case JsonList():
                return sql.json_list_column(scope.column(field.name), field.keys)
            case PartialDate():
                return sql.partial_date(scope.column(field.earliest), scope.column(field.latest))
            case Reference():
                return sql.text(scope.reference(field))
        raise TypeError(f"not a document field: {field!r}")

    def composite(self, field: Field, scope: _Scope, *, own_row: bool) -> str:
        """SQL for a nested object, a list of related rows or a count."""
        sql = self.sql
        match field:
            case Nested():
                value = self.fields(field.fields, scope, own_row=own_row)
                guards = [f"{scope.column(name)} IS NOT NULL" for name in field.unless_null]
                return sql.unless_null(" AND ".join(guards), value) if guards else value
            case Citations():
                return self.embedded(field.embedded, scope)
            case Embedded():
                return self.embedded(field, scope)
            case Count():
                table = self.table(table_of(field.rows))
                alias = self.alias("c")
                return sql.count(
                    f"FROM {table} {alias} WHERE {alias}.{field.owner} = {scope.column('id')}"
                )
            case Ancestors():
                return self.ancestors(field, scope)
        raise TypeError(f"not a document field: {field!r}")

    def embedded(self, field: Embedded, parent: _Scope) -> str:
        inner = _Scope(self, table_of(field.rows), self.alias("t"))
        item = self.item(field.item, inner)
        order = inner.order(field.order_by)
        match = f"{inner.column(field.owner)} = {parent.column('id')}"
        table = self.table(inner.table)
        limit = "" if field.limit is None else f" LIMIT {int(field.limit)}"
        if limit or self.sql.orders_rows_in_subquery:
            rows = f"(SELECT * FROM {table} {inner.alias} WHERE {match} ORDER BY {order}{limit})"
            source = f"FROM {rows} {inner.alias}{inner.joined()}"
        else:
            source = f"FROM {table} {inner.alias}{inner.joined()} WHERE {match}"
        return self.sql.array(item, source, order)

    def ancestors(self, field: Ancestors, parent: _Scope) -> str:
        """The rows above this one, outermost first: a recursive walk up ``parent``."""
        table = parent.table
        inner = _Scope(self, table, self.alias("t"))
        item = self.fields(field.item, inner, own_row=False)
        name, up, step = self.table(table), self.alias("up"), self.alias("a")
        walk = (
            f"WITH RECURSIVE {up}(id, depth) AS (SELECT {parent.column(field.parent)}, 1"
            f" UNION ALL SELECT {step}.{field.parent}, {up}.depth + 1 FROM {name} {step}"
            f" JOIN {up} ON {step}.id = {up}.id WHERE {up}.depth < {MAX_DEPTH})"
            f" SELECT {inner.alias}.*, {up}.depth AS depth_ FROM {up}"
            f" JOIN {name} {inner.alias} ON {inner.alias}.id = {up}.id ORDER BY {up}.depth DESC"
        )
        source = f"FROM ({walk}) {inner.alias}{inner.joined()}"
        return self.sql.array(item, source, f"{inner.alias}.depth_ DESC")

    def statement(self, spec: DocumentSpec) -> str:
        root = _Scope(self, table_of(spec.rows), self.alias("t"))
        document = self.fields(spec.fields, root, own_row=True)
        return self.sql.documents(
            table=self.table(root.table),
            alias=root.alias,
            joins=root.joined(),
            document=document,
            inexact=self.sql.inexact(self.amounts),
        )


def documents_sql(spec: DocumentSpec, dialect: Dialect) -> str | None:
    """The statement writing the documents of ``spec`` on this dialect (one parameter: the
    ids), or None where the dialect cannot write them exactly."""
    sql: SqlJson
    if dialect.name == "sqlite":
        sql = SqliteJson()
    elif dialect.name == "postgresql":
        sql = PostgresJson()
    else:
        return None
    try:
        return _Writer(sql, dialect).statement(spec)
    except Inexact:
        return None


def json_documents(
    session: Session, statement: str, ids: Sequence[int]
) -> list[tuple[int, bytes | None]]:
    """(id, document JSON) of these records, in the order of ``ids`` (missing ids skipped);
    the JSON is None where the database cannot write that document exactly."""
    if not ids:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The planner prices a page of hubs (thousands of links each) high enough to JIT-
        # compile the statement, which costs ~100 ms for what runs in ~1 ms. The plan is cached
        # (the first one made with JIT off stays so); SET LOCAL ends with the transaction.
        connection.exec_driver_sql("SET LOCAL jit = off")
    rows = connection.exec_driver_sql(statement, (SqlJson.ids(ids),))
    return [(record, None if inexact else text.encode()) for record, text, inexact in rows]

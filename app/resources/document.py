"""The elements a read document is declared with.

A document is an ordered tuple of fields over one row of a table; each field says which JSON
it writes (key, kind of value, where the value comes from), never how. The same declaration
is turned into Core queries plus dicts (python_builder.py), SQLite ``json_object`` SQL and
PostgreSQL text-building SQL (sql_builder.py). Columns are named as strings of the row's
table; the builders resolve them once, at start-up, so a misspelt name fails at import.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause

from app.models import Citation, Policy, Source

# A table a field reads from: a mapped model, or a selectable (a subquery with named columns).
Rows = type[Any] | FromClause


def table_of(rows: Rows) -> FromClause:
    """The FromClause of a model or selectable."""
    if isinstance(rows, FromClause):
        return rows
    table: FromClause = rows.__table__
    return table


@dataclass(frozen=True)
class _Column:
    key: str
    column: str = ""  # the column's name, when it is not the key

    @property
    def name(self) -> str:
        return self.column or self.key


@dataclass(frozen=True)
class Text(_Column):
    """A text column: a JSON string, or null."""


@dataclass(frozen=True)
class Integer(_Column):
    """An integer column: a JSON number, or null."""


@dataclass(frozen=True)
class Boolean(_Column):
    """A boolean column: true, false or null."""


@dataclass(frozen=True)
class Amount(_Column):
    """An exact decimal (NUMERIC) written as a string without trailing zeros: "2500000.5"."""


@dataclass(frozen=True)
class Timestamp(_Column):
    """A UTC timestamp as pydantic writes it: "2026-01-02T03:04:05Z", or with 6 decimals."""


@dataclass(frozen=True)
class JsonObject(_Column):
    """A JSON column holding an object of strings, written in the order the engine keeps its
    keys (SQLite: as stored, sorted; PostgreSQL's JSONB: shorter keys first)."""


@dataclass(frozen=True)
class JsonList(_Column):
    """A JSON column holding a list of strings or, with ``keys``, of objects rebuilt with
    exactly these keys in this order (JSONB reorders the keys it stores)."""

    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, month or day, from ``<column>_earliest``/``<column>_latest``:
    written "2019", "2019-07" or "2019-07-15" (app/partial_dates.py), or null."""

    key: str
    column: str = ""

    @property
    def earliest(self) -> str:
        return f"{self.column or self.key}_earliest"

    @property
    def latest(self) -> str:
        return f"{self.column or self.key}_latest"


@dataclass(frozen=True)
class Reference:
    """A column of another record, found through a foreign key: a slug, a name, a title."""

    key: str
    via: str  # the foreign-key column of this row
    to: type[Any]  # the model the key points at (by its ``id``)
    column: str = "slug"


@dataclass(frozen=True)
class Nested:
    """An object of fields over the same row; null when any of ``unless_null`` is null."""

    key: str
    fields: "tuple[Field, ...]"
    unless_null: tuple[str, ...] = ()


@dataclass(frozen=True)
class NullsLast:
    """Order by this column ascending, rows without a value last (on every engine)."""

    column: str


Order = str | NullsLast


@dataclass(frozen=True)
class Embedded:
    """The rows of ``rows`` whose ``owner`` column is this record's id, in order: a list of
    objects of ``item``'s fields, or of single values when ``item`` is one field."""

    key: str
    rows: Rows
    owner: str
    order_by: tuple[Order, ...]
    item: "tuple[Field, ...] | Field"
    limit: int | None = None


@dataclass(frozen=True)
class Count:
    """How many rows of ``rows`` have this record's id in ``owner``."""

    key: str
    rows: Rows
    owner: str


@dataclass(frozen=True)
class Ancestors:
    """The records above this one through ``parent`` (its own table's foreign key), outermost
    first, each as ``item``'s fields; at most MAX_DEPTH of them."""

    key: str
    parent: str
    item: "tuple[Field, ...]"


MAX_DEPTH = 64


@dataclass(frozen=True)
class Citations:
    """The citations of this record (or link), by the citation column that points at it."""

    owner: str  # a column of the citations table: policy_id, policy_actor_id ...
    key: str = "citations"

    @property
    def embedded(self) -> "Embedded":
        return Embedded(self.key, Citation, self.owner, ("position", "id"), CITATION)


Field = (
    Text
    | Integer
    | Boolean
    | Amount
    | Timestamp
    | JsonObject
    | JsonList
    | PartialDate
    | Reference
    | Nested
    | Embedded
    | Count
    | Ancestors
    | Citations
)


# A citation as records embed it: where in which source, and the source's title.
CITATION: tuple[Field, ...] = (
    Reference("source", "source_id", Source),
    Text("section"),
    Integer("paragraph"),
    Text("excerpt"),
    Text("note"),
    Reference("source_title", "source_id", Source, "title"),
)


@dataclass(frozen=True)
class DocumentSpec:
    """The read document of one resource: its table and its fields, in output order."""

    rows: type[Any]
    fields: tuple[Field, ...]


def references(fields: "tuple[Field, ...] | Field") -> list[Reference]:
    """The references read from a row by these fields (nested objects included): each
    distinct (foreign key, target) needs one join."""
    found: list[Reference] = []
    for field in fields if isinstance(fields, tuple) else (fields,):
        if isinstance(field, Reference):
            found.append(field)
        elif isinstance(field, Nested):
            found.extend(references(field.fields))
    return found


def join_key(reference: Reference) -> tuple[str, str]:
    """References through the same foreign key to the same table share one join."""
    return reference.via, reference.to.__tablename__


# Pieces several documents share.

RECORD_TAIL: tuple[Field, ...] = (Integer("id"), Timestamp("created_at"), Timestamp("updated_at"))
GOAL_REF: tuple[Field, ...] = (
    Text("slug"),
    Text("statement"),
    PartialDate("deadline"),
    Integer("stage"),
)
REGION_REF: tuple[Field, ...] = (Text("slug"), Text("name"), Text("kind"), Text("iso_code"))
# A policy as a region or actor lists it: the first EMBEDDED_LINKS links, in link order.
LINKED_POLICY: tuple[Field, ...] = (
    Reference("policy", "policy_id", Policy),
    Reference("title", "policy_id", Policy, "title"),
    Text("role"),
)
IDENTIFIERS = JsonList("identifiers", keys=("scheme", "value"))

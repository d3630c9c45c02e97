"""A record's bundle shape (``record_dump``) as table rows, and back: derived from the
descriptors and the models, the plain columns of each type and the ORM writer that also
sets references, links, value lists and citations (the bulk importer inserts the same
columns itself); and the shape of stored records, read from their documents.

A field is stored in the column of its name, except: a partial date (the model has a
PartialDateField) in ``<name>_earliest``/``<name>_latest``; a nested object (a policy's
money) in ``<name>_<part>`` columns; a decimal column gets a Decimal from its string.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy import Numeric, inspect
from sqlalchemy.orm import RelationshipDirection, RelationshipProperty, Session

from app.models import Citation
from app.models.base import PartialDateField, RecordMixin
from app.partial_dates import PartialDate
from app.resources import RESOURCES, Links, Resource, ResourceName
from app.resources.descriptor import Column, ValueList
from app.services.changes import Change
from app.services.documents import documents
from app.services.resources import record_from_document

Dump = dict[str, Any]
Resolve = Callable[[ResourceName, str], RecordMixin]  # (resource, slug) -> its row


def stored_dumps(session: Session, resource: Resource, ids: Sequence[int]) -> dict[int, Dump]:
    """id -> ``record_dump`` of each stored record, taken from its read document (the bundle
    shape an export writes, and what a write compares and records in the history)."""
    return {
        d["id"]: record_from_document(resource, d) for d in documents(session, resource.name, ids)
    }


def _partial_date(name: str) -> Callable[[Any], Dump]:
    def columns(text: Any) -> Dump:
        value = PartialDate.parse(text) if text is not None else None
        return {
            f"{name}_earliest": value.earliest if value else None,
            f"{name}_latest": value.latest if value else None,
        }

    return columns


def _column(model: type[Any], name: str) -> Callable[[Any], Dump]:
    column_type = model.__table__.c[name].type
    if isinstance(column_type, Numeric) and column_type.asdecimal:
        return lambda text: {name: Decimal(text) if text is not None else None}
    return lambda value: {name: value}


def _nested(model: type[Any], name: str, shape: type[BaseModel]) -> Callable[[Any], Dump]:
    parts = {part: _column(model, f"{name}_{part}") for part in shape.model_fields}
    absent = {
        part: None if field.is_required() else field.get_default(call_default_factory=True)
        for part, field in shape.model_fields.items()
    }

    def columns(value: Any) -> Dump:
        given = value or {}
        return {
            k: v for part, to in parts.items() for k, v in to(given.get(part, absent[part])).items()
        }

    return columns


@cache
def _plan(name: ResourceName) -> tuple[tuple[str, Callable[[Any], Dump]], ...]:
    """How each plain field of a record type becomes columns."""
    spec = RESOURCES[name]
    model = spec.model
    elsewhere = {
        "citations",
        *(r.field for r in spec.references),
        *(k.field for k in spec.links),
        *(v.field for v in spec.value_lists),
    }
    plan: list[tuple[str, Callable[[Any], Dump]]] = []
    for field, info in spec.record.model_fields.items():
        if field in elsewhere:
            continue
        nested = _shape(info.annotation)
        if isinstance(model.__dict__.get(field), PartialDateField):
            plan.append((field, _partial_date(field)))
        elif nested is not None:
            plan.append((field, _nested(model, field, nested)))
        else:
            plan.append((field, _column(model, field)))
    return tuple(plan)


def _shape(annotation: Any) -> type[BaseModel] | None:
    """The nested object type of a field (``Money | None`` -> Money), if it is one."""
    optional = get_origin(annotation) in (Union, UnionType)
    for candidate in (annotation, *(get_args(annotation) if optional else ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def row_columns(resource: Resource, dump: Dump) -> Dump:
    """The plain columns of a record (all but references to other rows) from its bundle shape."""
    columns: Dump = {}
    for field, to_columns in _plan(resource.name):
        columns.update(to_columns(dump.get(field)))
    return columns


_RELATIONSHIPS: dict[tuple[str, str, bool], str] = {}


def relationship(model: type[Any], column: Column, *, many: bool) -> str:
    """The name of ``model``'s relationship through ``column``: a reference it holds
    (many=False: the column is its own) or a list of rows that name it (many=True)."""
    key = (model.__name__, str(column), many)
    if key not in _RELATIONSHIPS:
        _RELATIONSHIPS[key] = _relationship(model, column, many)
    return _RELATIONSHIPS[key]


def _relationship(model: type[Any], column: Column, many: bool) -> str:
    mapper: Any = inspect(model)
    target = column.property.columns[0]
    for prop in mapper.relationships:
        assert isinstance(prop, RelationshipProperty)
        if many and prop.direction is RelationshipDirection.ONETOMANY:
            through = prop.remote_side
        elif not many and prop.direction is RelationshipDirection.MANYTOONE:
            through = prop.local_columns
        else:
            continue
        if target in through:
            return str(prop.key)
    raise LookupError(f"{model.__name__} has no relationship through {column}")


def citations(cited: Sequence[Dump], resolve: Resolve) -> list[Citation]:
    return [
        Citation(
            source=resolve("sources", c["source"]),
            section=c.get("section"),
            paragraph=c.get("paragraph"),
            excerpt=c.get("excerpt"),
            note=c.get("note"),
            position=i,
        )
        for i, c in enumerate(cited)
    ]


def write_row(change: Change, dump: Dump, row: RecordMixin, resolve: Resolve) -> None:
    """Set a row's columns, references, value lists, links and citations from a record."""
    spec = RESOURCES[change.resource]
    for name, value in row_columns(spec, dump).items():
        setattr(row, name, value)
    for reference in spec.references:
        slug = dump.get(reference.field)
        target = resolve(reference.target, slug) if slug else None
        setattr(row, relationship(spec.model, reference.column, many=False), target)
    for values in spec.value_lists:
        _rewrite_values(row, values, dump.get(values.field, []))
    for links in spec.links:
        _relink(row, links, dump.get(links.field, []), resolve)
    if spec.cited_as is not None:
        row.citations = citations(dump.get("citations", []), resolve)  # type: ignore[attr-defined]


def _rewrite_values(row: RecordMixin, values: ValueList, wanted: Sequence[Any]) -> None:
    """A value list in the record's order, keeping the rows of values it had."""
    name = relationship(type(row), values.owner, many=True)
    current = {getattr(item, values.value.key): item for item in getattr(row, name)}
    setattr(
        row,
        name,
        [current.get(v) or values.model(**{values.value.key: v}) for v in wanted],
    )


def _relink(row: RecordMixin, links: Links, wanted: Sequence[Dump], resolve: Resolve) -> None:
    """The links a record should have, in order, reusing the current ones by natural key, so
    an unchanged link keeps its id and a re-import never deletes and re-inserts it."""
    name = relationship(type(row), links.owner, many=True)
    to_target = relationship(links.model, links.target_column, many=False)
    existing = {
        (getattr(link, to_target).slug, getattr(link, links.kind)): link
        for link in getattr(row, name)
    }
    new_links = []
    for position, item in enumerate(wanted):
        key = (item[links.key], item[links.kind])
        link = existing.get(key) or links.model(
            **{to_target: resolve(links.target, key[0]), links.kind: key[1]}
        )
        link.position = position
        link.citations = citations(item.get("citations", []), resolve)
        new_links.append(link)
    setattr(row, name, new_links)

"""The flat (CSV, data package) layout of each resource, derived from its descriptor.

A record's file has one column per writable field of its record shape; a nested object
(a policy's ``money``) is spread over ``<field>_<key>`` columns, lists and maps are JSON in a
cell, and citations and link lists go to files of their own (``citations.csv``, one file per
link table). The Table Schema of each column (type, pattern, enum, required) is read off the
record shape's JSON Schema, so a field added to a record appears in every export and in the
data package without another table to edit.
"""

from dataclasses import dataclass
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from app.models import Citation
from app.resources import RESOURCES, WRITE_ORDER, Links, Resource, ResourceName
from app.safe_text import SAFE_TEXT_PATTERN

Field = dict[str, Any]

CITATIONS_FILE = "citations"
CITATION_FIELDS = ["source", "section", "paragraph", "excerpt", "note"]
CITATION_COLUMNS = ["resource", "record", "link_target", "link_role", *CITATION_FIELDS]


def _bare(annotation: Any) -> Any:
    """``annotation`` without Annotated metadata and without ``| None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _nested(annotation: Any) -> type[BaseModel] | None:
    bare = _bare(annotation)
    return bare if isinstance(bare, type) and issubclass(bare, BaseModel) else None


@dataclass(frozen=True)
class RecordTable:
    """The file of one resource type: its columns and how a record maps onto them."""

    resource: Resource
    columns: tuple[str, ...]
    json_columns: frozenset[str]  # lists and maps, written as JSON in the cell
    spread: dict[str, tuple[str, ...]]  # nested object field -> its keys (``money_amount``)

    @property
    def name(self) -> ResourceName:
        return self.resource.name

    def flatten(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record's cells by column (nested objects spread over their columns)."""
        flat = dict(record)
        for field, keys in self.spread.items():
            nested = flat.pop(field, None) or {}
            flat.update({f"{field}_{key}": nested.get(key) for key in keys})
        return flat

    def unflatten(self, flat: dict[str, Any]) -> dict[str, Any]:
        """The record a row's cells describe (the columns of a nested object gathered)."""
        record = dict(flat)
        for field, keys in self.spread.items():
            nested = {k: record.pop(f"{field}_{k}") for k in keys if f"{field}_{k}" in record}
            if nested:
                record[field] = nested
        return record


@dataclass(frozen=True)
class LinkTable:
    """The file of one link list: a row per link (owner slug, target slug, kind)."""

    owner: Resource
    links: Links

    @property
    def name(self) -> str:
        return str(self.links.model.__tablename__)

    @property
    def target_column(self) -> str:
        """The column naming the link's target: the link table's column without ``_id``."""
        return self.links.target_column.key.removesuffix("_id")

    @property
    def columns(self) -> tuple[str, str, str]:
        return (self.owner.singular, self.target_column, self.links.kind)


def _record_table(resource: Resource) -> RecordTable:
    shape = resource.record
    skip = {*getattr(shape, "READ_ONLY", ()), "citations", *(k.field for k in resource.links)}
    columns: list[str] = []
    json_columns: set[str] = set()
    spread: dict[str, tuple[str, ...]] = {}
    for field, info in shape.model_fields.items():
        if field in skip:
            continue
        if (nested := _nested(info.annotation)) is not None:
            spread[field] = tuple(nested.model_fields)
            columns += [f"{field}_{key}" for key in nested.model_fields]
            continue
        columns.append(field)
        if get_origin(_bare(info.annotation)) in (list, dict):
            json_columns.add(field)
    return RecordTable(resource, tuple(columns), frozenset(json_columns), spread)


RECORD_TABLES: dict[ResourceName, RecordTable] = {
    name: _record_table(RESOURCES[name]) for name in WRITE_ORDER
}
LINK_TABLES: dict[str, LinkTable] = {
    table.name: table
    for table in (
        LinkTable(RESOURCES[name], k) for name in WRITE_ORDER for k in RESOURCES[name].links
    )
}
# Every file of a CSV bundle, in the order they are read back.
FILES: tuple[str, ...] = (*RECORD_TABLES, *LINK_TABLES, CITATIONS_FILE)


# Table Schema of each file (for the data package), read off the record shapes' JSON Schema.


def _property(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema property without ``null`` alternatives and with its $ref resolved."""
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(options) == 1:
            schema = {**schema, **options[0]}
            del schema["anyOf"]
    if "$ref" in schema:
        schema = {**schema, **definitions[schema["$ref"].rsplit("/", 1)[-1]]}
    return schema


def _table_field(column: str, schema: dict[str, Any], required: bool) -> Field:
    kind = schema.get("type", "string")
    field: Field = {"name": column, "type": kind if kind in ("integer", "boolean") else "string"}
    if kind in ("array", "object"):
        field["type"] = kind
        field["description"] = f"A JSON {kind}" + (
            f": {schema['description']}" if "description" in schema else ""
        )
        return field
    if "description" in schema:
        field["description"] = schema["description"]
    constraints: dict[str, Any] = {}
    if required:
        constraints["required"] = True
    if "enum" in schema:
        constraints["enum"] = list(schema["enum"])
    # Free text needs no pattern (and XML Schema regexes cannot write its escapes).
    if (pattern := schema.get("pattern")) and pattern != SAFE_TEXT_PATTERN:
        constraints["pattern"] = pattern.removeprefix("^").removesuffix("$")
    if "minimum" in schema and kind == "integer":
        constraints["minimum"] = schema["minimum"]
    if constraints:
        field["constraints"] = constraints
    return field


@cache
def _shape_schema(shape: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    schema = shape.model_json_schema(mode="validation")
    return schema["properties"], schema.get("$defs", {}), set(schema.get("required", ()))


def record_fields(table: RecordTable) -> list[Field]:
    """The Table Schema fields of a resource's file."""
    properties, definitions, required = _shape_schema(table.resource.record)
    fields: list[Field] = []
    for column in table.columns:
        field_name = next((f for f in table.spread if column.startswith(f"{f}_")), None)
        if field_name is None:
            prop = _property(properties[column], definitions)
            field = _table_field(column, prop, column in required)
            if _is_unique(table.resource, column):
                field.setdefault("constraints", {})["unique"] = True
        else:
            nested = _property(properties[field_name], definitions)
            key = column.removeprefix(f"{field_name}_")
            prop = _property(nested["properties"][key], definitions)
            field = _table_field(column, prop, required=False)
        fields.append(field)
    return fields


def link_fields(table: LinkTable) -> list[Field]:
    """The Table Schema fields of a link file: owner and target slugs, and the link's kind."""
    link_shape = _item(table.owner.record.model_fields[table.links.field].annotation)
    properties, definitions, _ = _shape_schema(link_shape)
    owner, target, kind = table.columns
    slug = _property(properties[table.links.key], definitions)
    return [
        _table_field(owner, slug, required=True),
        _table_field(target, slug, required=True),
        _table_field(kind, _property(properties[table.links.kind], definitions), required=True),
    ]


def _is_unique(resource: Resource, column: str) -> bool:
    """Whether the table holds each value of ``column`` once (besides the slug, the key)."""
    table_column = resource.model.__table__.columns.get(column)
    return column != "slug" and table_column is not None and bool(table_column.unique)


def _item(annotation: Any) -> type[BaseModel]:
    """The model of a list field's items."""
    (item,) = get_args(_bare(annotation))
    found = _nested(item)
    assert found is not None, annotation
    return found


def citation_fields() -> list[Field]:
    """The Table Schema fields of ``citations.csv``."""
    citation = _item(RESOURCES["policies"].record.model_fields["citations"].annotation)
    properties, definitions, required = _shape_schema(citation)
    return [
        {
            "name": "resource",
            "type": "string",
            "description": "The file of the cited record or link",
            "constraints": {"required": True, "enum": [*RECORD_TABLES, *LINK_TABLES]},
        },
        _table_field(
            "record",
            {
                **_property(properties["source"], definitions),
                "description": "Slug of the cited record (for a link: of the record holding it)",
            },
            required=True,
        ),
        {"name": "link_target", "type": "string"},
        {"name": "link_role", "type": "string"},
        *(
            _table_field(f, _property(properties[f], definitions), f in required)
            for f in CITATION_FIELDS
        ),
    ]


def foreign_keys(name: str) -> list[tuple[list[str], str, list[str]]]:
    """(columns, referenced file, its columns) of a file's references to other files."""
    if name in RECORD_TABLES:
        return [([r.field], r.target, ["slug"]) for r in RESOURCES[name].references]
    if name in LINK_TABLES:
        table = LINK_TABLES[name]
        owner, target, _kind = table.columns
        return [([owner], table.owner.name, ["slug"]), ([target], table.links.target, ["slug"])]
    return [(["source"], "sources", ["slug"])]


def primary_key(name: str) -> list[str] | None:
    if name in RECORD_TABLES:
        return ["slug"]
    if name in LINK_TABLES:
        return list(LINK_TABLES[name].columns)
    return None


def title(name: str) -> str:
    """A file's title: the docstring of its table's model."""
    if name in RECORD_TABLES:
        model: Any = RESOURCES[name].model
    elif name in LINK_TABLES:
        model = LINK_TABLES[name].links.model
    else:
        model = Citation
    return str(model.__doc__).strip().split("\n")[0]

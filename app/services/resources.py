"""Write-side helpers over the resource descriptors (app/resources): record keys, a record's
writable fields as JSON-ready data (record_dump), and those fields taken from a read document."""

import re
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel

from app.resources import RESOURCES, WRITE_ORDER, Resource, ResourceName
from app.schemas.common import SLUG_PATTERN, WriteModel

__all__ = ["RESOURCES", "WRITE_ORDER", "Resource", "ResourceName"]

# Record ids are 32-bit on PostgreSQL (``integer``); a larger number names no record.
MAX_RECORD_ID = 2**31 - 1
_SLUG = re.compile(SLUG_PATTERN)


def numeric_id(key: str) -> int | None:
    """The id a path key names if it is one (plain ASCII digits, in range), else None."""
    if key.isascii() and key.isdigit() and len(key) <= 10:
        value = int(key)
        return value if 0 < value <= MAX_RECORD_ID else None
    return None


def is_record_key(key: str) -> bool:
    """Whether a path key can name a record at all: an id in range, or a well-formed slug.

    Anything else (``²``, ``①``, ``99999999999999999999``, a NUL) is a 404 before any query.
    """
    return numeric_id(key) is not None or (len(key) <= 120 and _SLUG.match(key) is not None)


# A row of any record type (all of them are RecordMixin: id, slug, timestamps).


def record_dump(resource: Resource, record: WriteModel) -> dict[str, Any]:
    """The writable fields of a record as JSON-ready data; the bundle and "unchanged" use it."""
    return record.model_dump(
        mode="json", include=set(resource.record.model_fields), exclude_none=True
    )


@cache
def _writable_shape(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """The writable fields of a shape, each with the shape nested in it (if any)."""
    read_only: frozenset[str] = getattr(model, "READ_ONLY", frozenset())
    return {
        name: _nested_shape(field.annotation)
        for name, field in model.model_fields.items()
        if name not in read_only
    }


def _nested_shape(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((s for a in get_args(annotation) if (s := _nested_shape(a)) is not None), None)


def record_from_document(resource: Resource, document: dict[str, Any]) -> dict[str, Any]:
    """``record_dump`` of a record, taken from its read document (app/services/documents.py)
    instead of ORM objects: the writable fields, read-only and null values left out."""
    return _writable(resource.record, document)


def _writable(shape: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, nested in _writable_shape(shape).items():
        value = data.get(name)
        if value is None:
            continue
        if nested is not None:
            if isinstance(value, list):
                value = [_writable(nested, item) for item in value]
            elif isinstance(value, dict):
                value = _writable(nested, value)
        out[name] = value
    return out

"""One description per resource type: its table, its writable shape and how to load it whole."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

from pydantic import BaseModel
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    Region,
    Source,
)
from app.schemas.actor import ActorOut, ActorRecord
from app.schemas.common import SLUG_PATTERN, WriteModel
from app.schemas.goal import GoalOut, GoalRecord
from app.schemas.policy import PolicyOut, PolicyRecord
from app.schemas.region import RegionOut, RegionRecord
from app.schemas.source import SourceOut, SourceRecord

ResourceName = Literal["sources", "regions", "actors", "policies", "goals"]

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


RecordModel = Source | Region | Actor | Policy | Goal


def _citations(attr: Any) -> Any:
    return selectinload(attr).selectinload(Citation.source)


@dataclass(frozen=True)
class Resource:
    name: ResourceName
    singular: str
    model: type[Any]
    record: type[WriteModel]
    # A record's writable shape as stored, for "unchanged" checks and exports.
    to_record: Callable[[Any], WriteModel]
    load_for_write: Sequence[LoaderOption]


def _region_record(region: Region) -> WriteModel:
    return RegionOut.from_model(region, ancestors=[], read_only=False)


POLICY_WRITE_LOAD: Sequence[LoaderOption] = (
    selectinload(Policy.topic_links),
    selectinload(Policy.actor_links).selectinload(PolicyActor.actor),
    selectinload(Policy.actor_links).options(_citations(PolicyActor.citations)),
    selectinload(Policy.region_links).selectinload(PolicyRegion.region),
    selectinload(Policy.region_links).options(_citations(PolicyRegion.citations)),
    selectinload(Policy.relations).selectinload(PolicyRelation.related_policy),
    selectinload(Policy.relations).options(_citations(PolicyRelation.citations)),
    _citations(Policy.citations),
)

RESOURCES: dict[ResourceName, Resource] = {
    "sources": Resource(
        name="sources",
        singular="source",
        model=Source,
        record=SourceRecord,
        to_record=lambda s: SourceOut.from_model(s, read_only=False),
        load_for_write=(),
    ),
    "regions": Resource(
        name="regions",
        singular="region",
        model=Region,
        record=RegionRecord,
        to_record=_region_record,
        load_for_write=(selectinload(Region.parent), _citations(Region.citations)),
    ),
    "actors": Resource(
        name="actors",
        singular="actor",
        model=Actor,
        record=ActorRecord,
        to_record=lambda a: ActorOut.from_model(a, read_only=False),
        load_for_write=(
            selectinload(Actor.parent),
            selectinload(Actor.region),
            _citations(Actor.citations),
        ),
    ),
    "policies": Resource(
        name="policies",
        singular="policy",
        model=Policy,
        record=PolicyRecord,
        to_record=lambda p: PolicyOut.from_model(p, read_only=False),
        load_for_write=POLICY_WRITE_LOAD,
    ),
    "goals": Resource(
        name="goals",
        singular="goal",
        model=Goal,
        record=GoalRecord,
        to_record=lambda g: GoalOut.from_model(g, read_only=False),
        load_for_write=(
            selectinload(Goal.policy),
            selectinload(Goal.actor),
            _citations(Goal.citations),
        ),
    ),
}

# Referenced before referencing: a bundle is applied in this order.
WRITE_ORDER: tuple[ResourceName, ...] = ("sources", "regions", "actors", "policies", "goals")


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

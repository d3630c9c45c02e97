"""What a write is made of: records to write (Change), where each sits in the input, and
the slugs each refers to (read from the resource descriptors)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.models.base import RecordMixin
from app.resources import RESOURCES, ResourceName
from app.schemas.common import Citation, WriteModel

Location = tuple[str | int, ...]
Key = tuple[ResourceName, str]


@dataclass
class Change:
    """One record to write: ``existing`` is the row it updates (None: a new row)."""

    resource: ResourceName
    record: WriteModel
    location: Location
    existing: RecordMixin | None = None

    @property
    def slug(self) -> str:
        slug: str = getattr(self.record, "slug")  # noqa: B009  every record shape has one
        return slug


def referenced_slugs(change: Change) -> Iterable[tuple[ResourceName, str, Location]]:
    """Every (resource, slug) a record points at, with where in the record it does so."""
    spec, record, at = RESOURCES[change.resource], change.record, change.location
    for reference in spec.references:
        if (slug := getattr(record, reference.field)) is not None:
            yield reference.target, slug, (*at, reference.field)
    for links in spec.links:
        link: Any
        for i, link in enumerate(getattr(record, links.field)):
            yield links.target, getattr(link, links.key), (*at, links.field, i, links.key)
            yield from _cited(link.citations, (*at, links.field, i))
    yield from _cited(getattr(record, "citations", ()), at)


def raw_references(
    name: ResourceName, item: dict[str, Any], at: Location
) -> Iterable[tuple[ResourceName, str, Location]]:
    """The references readable in a record that failed validation (the same places as
    ``referenced_slugs``; whatever is not where a reference belongs is skipped)."""
    spec = RESOURCES[name]
    for reference in spec.references:
        if isinstance(slug := item.get(reference.field), str):
            yield reference.target, slug, (*at, reference.field)
    for links in spec.links:
        for i, link in enumerate(_list(item.get(links.field))):
            if isinstance(link, dict):
                if isinstance(slug := link.get(links.key), str):
                    yield links.target, slug, (*at, links.field, i, links.key)
                yield from _raw_cited(link.get("citations"), (*at, links.field, i))
    yield from _raw_cited(item.get("citations"), at)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _raw_cited(citations: Any, at: Location) -> Iterable[tuple[ResourceName, str, Location]]:
    for i, citation in enumerate(_list(citations)):
        if isinstance(citation, dict) and isinstance(source := citation.get("source"), str):
            yield "sources", source, (*at, "citations", i, "source")


def _cited(
    citations: Sequence[Citation], at: Location
) -> Iterable[tuple[ResourceName, str, Location]]:
    for i, citation in enumerate(citations):
        yield "sources", citation.source, (*at, "citations", i, "source")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` applied to ``target``; null removes a key, lists replace lists."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged

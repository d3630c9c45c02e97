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


def _cited(
    citations: Sequence[Citation], at: Location
) -> Iterable[tuple[ResourceName, str, Location]]:
    for i, citation in enumerate(citations):
        yield "sources", citation.source, (*at, "citations", i, "source")

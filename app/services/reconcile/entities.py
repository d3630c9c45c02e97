"""What can be reconciled: the entity types, the properties each carries, and how a record
is named and described to a person choosing between namesakes."""

from dataclasses import dataclass
from typing import Any

from app.models import Actor, Source
from app.resources import RESOURCES
from app.services.resources import ResourceName
from app.vocabularies import label

# Entity types are the resource types, named by their singular ("policy": "Policy").
TYPES: dict[str, tuple[str, ResourceName]] = {
    r.singular: (r.singular.capitalize(), r.name) for r in RESOURCES.values()
}
MODELS: dict[str, Any] = {r.singular: r.model for r in RESOURCES.values()}
LABEL_COLUMNS: dict[str, Any] = {r.singular: r.label for r in RESOURCES.values()}


@dataclass(frozen=True)
class Property:
    id: str
    name: str
    description: str
    types: tuple[str, ...]
    entity_type: str | None = None  # values are records of this type


PROPERTIES: tuple[Property, ...] = (
    Property("slug", "Slug", "The record's slug (its key in URLs and bundles).", tuple(TYPES)),
    Property("url", "API URL", "The record's URL in the policydb API.", tuple(TYPES)),
    Property(
        "kind", "Kind", "Kind code (see GET /api/v1/vocabularies).", ("policy", "actor", "region")
    ),
    Property("iso_code", "ISO 3166 code", "ISO 3166-1 or 3166-2 code.", ("region",)),
    Property(
        "region",
        "Region",
        "An actor's home region, or a region a policy applies to (slug, ISO code or name).",
        ("actor", "policy"),
        "region",
    ),
    Property("parent", "Parent", "The parent region or actor.", ("actor", "region"), None),
    Property("names", "Other names", "Names in other languages and scripts.", ("actor", "region")),
    Property("aliases", "Aliases", "Other names and abbreviations.", ("actor", "region")),
    Property("description", "Description", "A short description.", ("actor", "region")),
    Property("status", "Status", "Policy or goal status code.", ("policy", "goal")),
    Property("announced", "Announced", "Date announced (YYYY[-MM[-DD]]).", ("policy",)),
    Property("topics", "Topics", "Topic codes.", ("policy",)),
    Property("actors", "Actors", "Actors linked to the policy.", ("policy",), "actor"),
    Property("regions", "Regions", "Regions the policy applies to.", ("policy",), "region"),
    Property("policy", "Policy", "The policy that sets the goal.", ("goal",), "policy"),
    Property("actor", "Actor", "The actor that owns the goal.", ("goal",), "actor"),
    Property("deadline", "Deadline", "The goal's deadline.", ("goal",)),
    Property("target_value", "Target value", "The goal's target, a decimal.", ("goal",)),
    Property("unit", "Unit", "Unit of the target value.", ("goal",)),
    Property("publisher", "Publisher", "Who published the source.", ("source",)),
    Property("published", "Published", "Date published.", ("source",)),
)
PROPERTY_BY_ID = {p.id: p for p in PROPERTIES}
# Properties a reconciliation query may constrain candidates by.
CONSTRAINTS = ("kind", "iso_code", "region", "parent", "slug")


def display_name(record_type: str, record: Any) -> str:
    return str(
        {
            "policy": lambda: record.title,
            "actor": lambda: record.name,
            "region": lambda: record.name,
            "goal": lambda: record.statement,
            "source": lambda: record.title,
        }[record_type]()
    )


def other_names(record: Any) -> list[str]:
    """A record's names in other languages and scripts, and its short name."""
    names: list[str] = []
    for attr in ("names", "titles"):
        value = getattr(record, attr, None)
        if isinstance(value, dict):
            names.extend(str(v) for v in value.values() if v)
    if short := getattr(record, "short_name", None):
        names.append(short)
    return names


def aliases(record: Any) -> list[str]:
    found = []
    for alias in getattr(record, "aliases", None) or []:
        text = alias.get("value") if isinstance(alias, dict) else alias
        if text:
            found.append(str(text))
    return found


def describe(record_type: str, record: Any) -> str:
    """One line to tell namesakes apart."""
    parts = []
    if kind := getattr(record, "kind", None):
        parts.append(label(kind))
    if iso := getattr(record, "iso_code", None):
        parts.append(iso)
    region = getattr(record, "region", None)
    if isinstance(record, Actor) and region is not None:
        parts.append(region.name)
    if isinstance(record, Source) and record.publisher:
        parts.append(record.publisher)
    return " · ".join([TYPES[record_type][0], *parts])


def record_path(record_type: str, slug: str) -> str:
    return f"/api/v1/{TYPES[record_type][1]}/{slug}"

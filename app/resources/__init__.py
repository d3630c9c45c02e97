"""Resource types: one descriptor per type (app/resources/<name>.py) and the registry."""

from app.resources.descriptor import (
    Facet,
    Links,
    Reference,
    Resource,
    ResourceName,
    SearchText,
    Sortable,
)
from app.resources.registry import (
    CITATION_OWNERS,
    RESOURCE_NAMES,
    RESOURCES,
    WRITE_ORDER,
    links_to,
    references_to,
    referrers,
)

__all__ = [
    "CITATION_OWNERS",
    "RESOURCES",
    "RESOURCE_NAMES",
    "WRITE_ORDER",
    "Facet",
    "Links",
    "Reference",
    "Resource",
    "ResourceName",
    "SearchText",
    "Sortable",
    "links_to",
    "references_to",
    "referrers",
]

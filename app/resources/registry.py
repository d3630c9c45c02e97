"""The registry of resource types, and the tables derived from their descriptors.

Nothing here is written per resource: each table is computed from the descriptors, so a
new resource type (or reference, or link list) appears in all of them at once.
"""

from graphlib import TopologicalSorter
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, create_model
from pydantic import Field as PydanticField

from app.models import Citation
from app.resources.actors import ACTORS
from app.resources.descriptor import Column, Links, Reference, Resource, ResourceName
from app.resources.goals import GOALS
from app.resources.policies import POLICIES
from app.resources.regions import REGIONS
from app.resources.sources import SOURCES

RESOURCES: dict[ResourceName, Resource] = {
    r.name: r for r in (SOURCES, REGIONS, ACTORS, POLICIES, GOALS)
}
RESOURCE_NAMES: tuple[ResourceName, ...] = tuple(RESOURCES)
assert set(RESOURCE_NAMES) == set(get_args(ResourceName)), "a resource without a descriptor"


def _write_order() -> tuple[ResourceName, ...]:
    """Referenced before referencing (citations name sources), ties in registry order."""
    needs: dict[ResourceName, set[ResourceName]] = {name: set() for name in RESOURCES}
    for resource in RESOURCES.values():
        targets = {r.target for r in resource.references} | {k.target for k in resource.links}
        if resource.cited_as is not None:
            targets.add("sources")
        needs[resource.name] = targets - {resource.name}
    sorter = TopologicalSorter(needs)
    sorter.prepare()
    order: list[ResourceName] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=RESOURCE_NAMES.index)
        order.extend(ready)
        sorter.done(*ready)
    return tuple(order)


# A bundle is applied in this order; deletes run in the reverse.
WRITE_ORDER: tuple[ResourceName, ...] = _write_order()

# Every citation column naming a record or a link (one of them is set on each citation).
CITATION_OWNERS: tuple[Column, ...] = (
    *(r.cited_as for r in RESOURCES.values() if r.cited_as is not None),
    *(links.cited_as for r in RESOURCES.values() for links in r.links),
)


def referrers(target: ResourceName) -> list[tuple[str, Column]]:
    """What can point at a record of type ``target``: (label, referring column) pairs."""
    if target == "sources":
        return [("citations", Citation.source_id)]
    found: list[tuple[str, Column]] = []
    for resource in RESOURCES.values():
        found += [(r.referrers, r.column) for r in resource.references if r.target == target]
        found += [(k.referrers, k.target_column) for k in resource.links if k.target == target]
    return found


def references_to(holder: ResourceName, target: ResourceName) -> list[Reference]:
    """The scalar fields of ``holder`` records that name a ``target`` record."""
    return [r for r in RESOURCES[holder].references if r.target == target]


def links_to(holder: ResourceName, target: ResourceName) -> list[Links]:
    """The link lists of ``holder`` records whose links name a ``target`` record."""
    return [k for k in RESOURCES[holder].links if k.target == target]


class BundleHeader(BaseModel):
    """A policydb dataset. Records refer to each other by slug, in any order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": "urn:policydb:bundle:1", "title": "policydb bundle"},
    )

    format: Literal["policydb-bundle"] = "policydb-bundle"
    version: Literal[1] = 1


# The bundle: a whole dataset in one document, a list of records per resource type.
_RECORD_LISTS: dict[str, Any] = {
    name: (list[resource.record], PydanticField(default_factory=list))  # type: ignore[name-defined]
    for name, resource in RESOURCES.items()
}
Bundle: type[BundleHeader] = create_model(
    "Bundle", __base__=BundleHeader, __doc__=BundleHeader.__doc__, **_RECORD_LISTS
)

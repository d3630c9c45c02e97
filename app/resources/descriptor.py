"""What a resource descriptor says: the one description of a resource type.

Every per-resource table of the application (write order, what refers to what, citation
columns, link tables, sortable fields, ...) is derived from these descriptors
(app/resources/registry.py), so adding a resource type or a field means editing its
descriptor, its model, a migration and tests, not a dozen tables that must agree.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.orm import InstrumentedAttribute, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app.models import Citation
from app.schemas.common import WriteModel

ResourceName = Literal["sources", "regions", "actors", "policies", "goals"]

Column = InstrumentedAttribute[Any]


@dataclass(frozen=True)
class Reference:
    """A field naming one record of another (or the same) type by slug, e.g. a region's
    ``parent``: stored as the id in ``column``."""

    field: str
    target: ResourceName
    column: Column
    # What the records holding such a reference are, seen from the target (in messages such as
    # "region 'cn' is still referred to: 3 child regions").
    referrers: str


@dataclass(frozen=True)
class Links:
    """A list of links to records of another type, each a row of its own table with a kind
    (role, relation) and its own citations, e.g. a policy's ``actors``."""

    field: str  # the list in the record: "actors"
    key: str  # the target's slug in each link: "actor"
    kind: str  # the link's kind in each link and column name: "role"
    label: str  # the target's label in each read link: "actor_name"
    target: ResourceName
    model: type[Any]  # the link table's model
    owner: Column  # the link's column naming the record holding the list
    target_column: Column
    cited_as: Column  # the citation column naming a link
    referrers: str


@dataclass(frozen=True)
class Sortable:
    """A field a list can be sorted by; ``nullable`` ones sort their NULLs last."""

    column: Column
    nullable: bool = False


@dataclass(frozen=True)
class Resource:
    """One resource type: its table, its shapes, its references and how it is listed."""

    name: ResourceName
    singular: str
    model: type[Any]
    record: type[WriteModel]  # the writable shape (POST/PUT bodies, bundles)
    document: type[BaseModel]  # the read shape (GET), as documented in the OpenAPI
    # The citation column naming a record of this type; None: not citable (sources).
    cited_as: Column | None
    sortable: dict[str, Sortable]
    references: tuple[Reference, ...] = ()
    links: tuple[Links, ...] = ()
    default_sort: str = "id"
    # Relations a list can embed with ?expand= (beyond the document).
    expansions: frozenset[str] = field(default_factory=frozenset)
    # What a write loads with the record (to compare it and to record its history).
    load_for_write: tuple[LoaderOption, ...] = ()
    # Lists of plain values kept in a table of their own (a policy's topics).
    value_lists: tuple["ValueList", ...] = ()

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)


def cited(relationship: Any) -> Any:  # an ORM loader option (its type is private)
    """Loads a relationship's citations with their sources."""
    return selectinload(relationship).selectinload(Citation.source)


def timestamps(model: type[Any]) -> dict[str, Sortable]:
    """The sort fields every resource has: id, slug and the record's timestamps."""
    return {
        "id": Sortable(model.id),
        "slug": Sortable(model.slug),
        "created_at": Sortable(model.created_at),
        "updated_at": Sortable(model.updated_at),
    }


@dataclass(frozen=True)
class ValueList:
    """A list of plain values kept in a table of its own, e.g. a policy's ``topics``."""

    field: str  # the list in the record: "topics"
    model: type[Any]  # its table's model
    owner: Column  # the column naming the record holding the list
    value: Column  # the column holding one value

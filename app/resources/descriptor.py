"""What a resource descriptor says: the one description of a resource type.

Every per-resource table of the application (write order, what refers to what, citation
columns, link tables, sortable fields, list filters, ...) is derived from these descriptors
(app/resources/registry.py), so adding a resource type or a field means editing its
descriptor, its model, a migration and tests, not a dozen tables that must agree.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app.models import Citation
from app.models.base import Record
from app.resources.document import DocumentSpec
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


# --- List filters -------------------------------------------------------------------------
# A filter is declared once, as data: the API renders it as a query parameter
# (app/api/routes/filters.py) and the read queries as SQL conditions (app/services/queries.py).
# What a parameter takes:


@dataclass(frozen=True)
class TextQuery:
    """Words to find in the record's text (app/services/search.py); stands for the ids of the
    records that match."""

    max_length: int = 200


@dataclass(frozen=True)
class Codes:
    """Codes of a vocabulary; the parameter repeats for several."""

    vocabulary: type[StrEnum]


@dataclass(frozen=True)
class SlugOf:
    """The slug of one record of ``target``; stands for its id (an unknown slug is a 400)."""

    target: ResourceName


@dataclass(frozen=True)
class RegionKey:
    """A region by slug or ISO 3166 code; stands for it and every region below it."""


@dataclass(frozen=True)
class RegionId:
    """One region by slug or ISO 3166 code; stands for its id (an unknown one is a 400)."""


@dataclass(frozen=True)
class IsoCode:
    """An exact ISO 3166 code, in any case."""

    max_length: int = 10


@dataclass(frozen=True)
class DateBound:
    """A partial date (YYYY, YYYY-MM or YYYY-MM-DD): the interval of days it may denote."""


FilterValue = TextQuery | Codes | SlugOf | RegionKey | RegionId | IsoCode | DateBound

# How a record matches. Dates are intervals (app/partial_dates.py): a date filter matches
# every record whose interval overlaps its own.


@dataclass(frozen=True)
class Is:
    """The record's ``column`` holds the value (one of the codes; an id of the region tree)."""

    column: Column


@dataclass(frozen=True)
class Linked:
    """A link of the record (a row of ``owner``'s table naming it) holds the value in
    ``column``. Filters on the same link table meet on one link: ``actor`` and ``actor_role``
    ask for that actor in that role. With ``every``, each code given needs a link of its own
    (all topics must match), not any one of them."""

    owner: Column
    column: Column
    every: bool = False


@dataclass(frozen=True)
class EndsOnOrAfter:
    """A lower bound: the record's date (its ``latest`` day) reaches the bound's first day."""

    latest: Column


@dataclass(frozen=True)
class StartsOnOrBefore:
    """An upper bound: the record's date (its ``earliest`` day) begins by the bound's last day."""

    earliest: Column


@dataclass(frozen=True)
class Spans:
    """The record's span from ``start`` (NULL: never started) to ``end`` (NULL: open) overlaps
    the date."""

    start: ColumnElement[Any]
    end: Column


Condition = Is | Linked | EndsOnOrAfter | StartsOnOrBefore | Spans


@dataclass(frozen=True)
class Filter:
    """A query parameter of a resource's list: what it takes, how a record matches, and its
    documentation."""

    value: FilterValue
    applies: Condition
    description: str
    examples: tuple[str, ...]


def text_search(model: type[Any]) -> Filter:
    """The ``q`` filter every resource has."""
    return Filter(
        TextQuery(),
        Is(model.id),
        "Case-insensitive text match across names, titles and descriptions.",
        ("talent",),
    )


def within_region(applies: Is | Linked) -> Filter:
    """A ``region`` filter: the region's whole subtree matches."""
    return Filter(
        RegionKey(),
        applies,
        "Region slug or ISO 3166 code; sub-regions are included.",
        ("tianjin", "CN-SH"),
    )


# --- The descriptor -------------------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
    """A count of a list's matching records by one value, e.g. policies by ``kind``.

    ``column`` holds the value; ``owner`` names the counted record (the resource's own id,
    or a link table's column: a policy's topics, regions); a ``target`` resource's values
    are ids shown as its slug and label; ``by_year`` counts a date column by year.
    """

    label: str
    column: Column
    owner: Column | None = None
    target: ResourceName | None = None
    by_year: bool = False


@dataclass(frozen=True)
class SearchText:
    """The columns a record's search document is made of: its title, and the body."""

    title: Column
    body: tuple[Column, ...]


@dataclass(frozen=True)
class Resource:
    """One resource type: its table, its shapes, its references and how it is listed."""

    name: ResourceName
    singular: str
    model: type[Record]
    record: type[WriteModel]  # the writable shape (POST/PUT bodies, bundles)
    document: type[BaseModel]  # the read shape (GET), as documented in the OpenAPI
    # The citation column naming a record of this type; None: not citable (sources).
    cited_as: Column | None
    label: Column  # what names a record to people (a title or name), beside its slug
    search: SearchText
    facets: dict[str, Facet]
    # The read document: what a GET answers with, field by field (app/resources/document.py).
    document_spec: DocumentSpec
    sortable: dict[str, Sortable]
    # The filters of its list, by query parameter, in the order they are documented.
    filters: dict[str, Filter]
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

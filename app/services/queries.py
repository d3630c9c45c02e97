"""Read queries: filters, sorting, paging and the loaders that embed relations without N+1."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from app.errors import BadQuery, ErrorDetail
from app.models import Region
from app.models.base import Record
from app.partial_dates import PartialDate
from app.resources.descriptor import (
    Codes,
    Column,
    Condition,
    DateBound,
    EndsOnOrAfter,
    FilterValue,
    Is,
    IsoCode,
    Linked,
    RegionId,
    RegionKey,
    SlugOf,
    Spans,
    StartsOnOrBefore,
    TextQuery,
)
from app.services.paging import CursorCodec, PageResult, SortField, keyset_page, parse_sort
from app.services.resources import (
    RESOURCES,
    Resource,
    ResourceName,
)
from app.services.search import matching_ids

# The fields each resource's lists sort by, from its descriptor.
SORT_FIELDS: dict[ResourceName, dict[str, SortField]] = {
    name: {key: SortField(s.column, nullable=s.nullable) for key, s in resource.sortable.items()}
    for name, resource in RESOURCES.items()
}


@dataclass
class ListParams:
    """Paging and sorting, common to every list."""

    limit: int
    cursor: str | None = None
    sort: str | None = None
    count: bool = True
    count_cap: int = 100_000


# A list's filter values by parameter name (the resource's descriptor says which it takes);
# None or empty means "not given". Codes are their plain values, dates parsed.
FilterInput = str | list[str] | PartialDate | None
Filters = dict[str, FilterInput]


def _unknown(param: str, what: str, value: str) -> BadQuery:
    return BadQuery(
        f"unknown {what} {value!r}",
        [ErrorDetail(pointer=f"/query/{param}", detail=f"no {what} with slug {value!r}")],
    )


def slug_id(session: Session, model: type[Record], value: str, param: str, what: str) -> int:
    found = session.scalar(select(model.id).where(model.slug == value))
    if found is None:
        raise _unknown(param, what, value)
    return int(found)


def region_id(session: Session, value: str, param: str) -> int:
    """The id of the region with this slug or ISO 3166 code (in any case)."""
    found = session.scalar(
        select(Region.id).where(or_(Region.slug == value, Region.iso_code == value.upper()))
    )
    if found is None:
        raise _unknown(param, "region", value)
    return int(found)


def region_ids_within(session: Session, value: str, param: str) -> Select[tuple[int]]:
    """The region with this slug or ISO code and every region below it, as a subquery."""
    root = region_id(session, value, param)
    tree = select(Region.id).where(Region.id == root).cte("region_tree", recursive=True)
    tree = tree.union_all(select(Region.id).where(Region.parent_id == tree.c.id))
    return select(tree.c.id)


def filtered_query(session: Session, resource: ResourceName, filters: Filters) -> Select[Any]:
    """The rows of ``resource`` that ``filters`` select, unordered (as its descriptor says)."""
    spec = RESOURCES[resource]
    unknown = sorted(name for name, value in filters.items() if value and name not in spec.filters)
    if unknown:
        raise BadQuery(
            f"{', '.join(unknown)} does not filter {resource}",
            [
                ErrorDetail(f"/query/{name}", f"one of: {', '.join(spec.filters)}")
                for name in unknown
            ],
        )
    conditions: list[ColumnElement[bool]] = []
    # Conditions on one link table's rows, met by one link (keyed by the link table).
    on_links: dict[Any, list[ColumnElement[bool]]] = {}
    for name, filter_ in spec.filters.items():
        given = filters.get(name)
        if not given:
            continue
        value = _resolved(session, spec, name, filter_.value, given)
        match filter_.applies:
            case Linked(owner, column, every=True):
                values = value if isinstance(value, list) else [value]
                conditions += [exists().where(owner == spec.model.id, column == v) for v in values]
            case Linked(owner, column):
                link = on_links.setdefault(owner.class_, [owner == spec.model.id])
                link.append(_holds(column, value))
            case applies:
                conditions.append(_condition(applies, value))
    conditions += [exists().where(*link) for link in on_links.values()]
    return select(spec.model).where(*conditions)


# What a filter value stands for once looked up: codes, an id, a subquery of ids, a date.
Resolved = str | int | list[str] | Select[Any] | PartialDate


def _resolved(
    session: Session, spec: Resource, name: str, kind: FilterValue, given: FilterInput
) -> Resolved:
    match kind, given:
        case TextQuery(), str():
            return matching_ids(session, spec.singular, given, name)
        case SlugOf(target), str():
            what = RESOURCES[target]
            return slug_id(session, what.model, given, name, what.singular)
        case RegionKey(), str():
            return region_ids_within(session, given, name)
        case RegionId(), str():
            return region_id(session, given, name)
        case IsoCode(), str():
            return given.upper()
        case Codes(), list():
            return given
        case DateBound(), PartialDate():
            return given
    raise TypeError(f"filter {name} of {spec.name} cannot take {given!r}")


def _holds(column: Column, value: Resolved) -> ColumnElement[bool]:
    """``column`` holds the value: one of the codes or ids, or the one id or code."""
    if isinstance(value, list | Select):
        return column.in_(value)
    return column == value


def _condition(applies: Condition, value: Resolved) -> ColumnElement[bool]:
    match applies, value:
        case Is(column), _:
            return _holds(column, value)
        case EndsOnOrAfter(latest), PartialDate():
            return latest >= value.earliest
        case StartsOnOrBefore(earliest), PartialDate():
            return earliest <= value.latest
        case Spans(start, end), PartialDate():
            return and_(start <= value.latest, or_(end.is_(None), end >= value.earliest))
    raise TypeError(f"{applies!r} cannot take {value!r}")


def list_records(
    *,
    session: Session,
    resource: ResourceName,
    filters: Filters,
    params: ListParams,
    codec: CursorCodec,
) -> PageResult:
    """One page of the ids of a resource's records matching ``filters``, in sort order."""
    keys = parse_sort(
        params.sort,
        SORT_FIELDS[resource],
        RESOURCES[resource].default_sort,
        RESOURCES[resource].model.id,
    )
    sort_spec = ",".join(("-" if k.descending else "") + k.name for k in keys)
    return keyset_page(
        session,
        filtered_query(session, resource, filters),
        keys=keys,
        sort_spec=sort_spec,
        cursor=params.cursor,
        limit=params.limit,
        count=params.count,
        codec=codec,
        count_cap=params.count_cap,
    )


def iter_documents[T](
    *,
    session: Session,
    resource: ResourceName,
    filters: Filters,
    sort: str | None,
    codec: CursorCodec,
    build: Callable[[Session, ResourceName, Sequence[int]], list[T]],
    batch: int = 500,
) -> Iterator[list[T]]:
    """Every matching record's document (as ``build`` renders a page of ids: ``documents``,
    or ``documents_json`` for bytes), a page at a time, for streamed exports.

    Closes ``session`` at the end.

    The first page is read at once, so a bad filter fails before anything is streamed.
    """
    try:
        page = list_records(
            session=session,
            resource=resource,
            filters=filters,
            params=ListParams(limit=batch, sort=sort, count=False),
            codec=codec,
        )
    except Exception:
        session.close()
        raise
    return _pages_from(session, resource, filters, sort, codec, build, batch, page)


def _pages_from[T](
    session: Session,
    resource: ResourceName,
    filters: Filters,
    sort: str | None,
    codec: CursorCodec,
    build: Callable[[Session, ResourceName, Sequence[int]], list[T]],
    batch: int,
    page: PageResult,
) -> Iterator[list[T]]:
    try:
        while True:
            yield build(session, resource, page.ids)
            if page.next_cursor is None:
                return
            session.expunge_all()  # memory stays flat however many rows stream out
            params = ListParams(limit=batch, sort=sort, count=False, cursor=page.next_cursor)
            page = list_records(
                session=session, resource=resource, filters=filters, params=params, codec=codec
            )
    finally:
        session.close()

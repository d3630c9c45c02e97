"""Facet counts: how many records have each value of a field or link, under the current
filters; bounded by a value limit and a time budget per facet."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, distinct, extract, func, literal, select, true
from sqlalchemy.orm import Session

from app.db import BudgetExceeded, time_budget
from app.errors import BadQuery, ErrorDetail
from app.resources import Facet
from app.services.resources import RESOURCES, ResourceName
from app.vocabularies import label


def _within(column: Any, ids: Any) -> Any:
    # Without filters the count runs over the table (or its index) as it is, instead of
    # first collecting every id to test membership against.
    return true() if ids is None else column.in_(ids)


def facet_query(resource: ResourceName, facet: Facet, ids: Any) -> Select[Any, Any, Any]:
    """(value, label, count) of one facet (its descriptor) over record ids (None: all)."""
    owner = facet.owner if facet.owner is not None else RESOURCES[resource].model.id
    # A link table may name a record several times; the record's own column, once.
    n = (func.count(distinct(owner)) if facet.owner is not None else func.count()).label("n")
    if facet.target is not None:
        target = RESOURCES[facet.target]
        linked = func.count(distinct(owner)).label("n")
        return (
            select(target.model.slug, target.label, linked)
            .join(target.model, target.model.id == facet.column)
            .where(_within(owner, ids))
            .group_by(target.model.id, target.model.slug, target.label)
        )
    value: Any = extract("year", facet.column).label("value") if facet.by_year else facet.column
    query = select(value, literal(None).label("label"), n).where(_within(owner, ids))
    if facet.by_year:
        query = query.where(facet.column.is_not(None))
    return query.group_by(value)


# The facets of each resource's lists, from its descriptor.
FACETS: dict[ResourceName, dict[str, Facet]] = {
    name: resource.facets for name, resource in RESOURCES.items()
}


@dataclass
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class FacetResult:
    values: list[FacetValue] = field(default_factory=list)
    truncated: bool = False
    timed_out: bool = False


def check_facets(resource: ResourceName, names: Sequence[str]) -> None:
    known = FACETS[resource]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BadQuery(
            f"unknown facet(s): {', '.join(unknown)}",
            [
                ErrorDetail(
                    "/query/facet",
                    f"{n!r} is not a facet of {resource}; one of: {', '.join(known)}",
                )
                for n in unknown
            ],
        )


def facet_counts(
    *,
    session: Session,
    resource: ResourceName,
    filtered: Select[Any],
    names: Sequence[str],
    max_values: int,
    budget_ms: int,
) -> dict[str, FacetResult]:
    """Counts per value of each named facet, over the rows ``filtered`` selects."""
    check_facets(resource, names)
    model = RESOURCES[resource].model
    ids = None
    if filtered.whereclause is not None:
        ids = filtered.with_only_columns(model.id).order_by(None)
    results: dict[str, FacetResult] = {}
    for name in dict.fromkeys(names):
        query = facet_query(resource, FACETS[resource][name], ids)
        ordered = query.order_by(query.selected_columns[2].desc(), query.selected_columns[0])
        try:
            with time_budget(session, budget_ms):
                rows = session.execute(ordered.limit(max_values + 1)).all()
        except BudgetExceeded:
            results[name] = FacetResult(timed_out=True)
            continue
        values = [
            FacetValue(
                value=str(int(value) if isinstance(value, float) else value),
                label=str(row_label) if row_label is not None else label(str(value)),
                count=int(n),
            )
            for value, row_label, n in rows[:max_values]
            if value is not None
        ]
        results[name] = FacetResult(values=values, truncated=len(rows) > max_values)
    return results

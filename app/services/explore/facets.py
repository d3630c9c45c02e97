"""Facet counts: how many records have each value of a field or link, under the current
filters; bounded by a value limit and a time budget per facet."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, distinct, extract, func, literal, select, true
from sqlalchemy.orm import Session

from app.db import BudgetExceeded, time_budget
from app.errors import BadQuery, ErrorDetail
from app.models import Actor, Goal, Policy, PolicyActor, PolicyRegion, PolicyTopic, Region, Source
from app.services.resources import RESOURCES, ResourceName
from app.vocabularies import label


@dataclass(frozen=True)
class Facet:
    """How to count one facet: a query of (value, label, count) over a set of record ids."""

    count: Callable[[Any], Any]  # record ids (None: all) -> select of (value, label, count)
    description: str


def _within(column: Any, ids: Any) -> Any:
    # Without filters the count runs over the table (or its index) as it is, instead of
    # first collecting every id to test membership against.
    return true() if ids is None else column.in_(ids)


def _by_code(column: Any, model: Any) -> Callable[[Any], Any]:
    def count(ids: Any) -> Any:
        n = func.count().label("n")
        return (
            select(column, literal(None).label("label"), n)
            .where(_within(model.id, ids))
            .group_by(column)
        )

    return count


def _by_year(column: Any, model: Any) -> Callable[[Any], Any]:
    def count(ids: Any) -> Any:
        year = extract("year", column).label("value")
        n = func.count().label("n")
        return (
            select(year, literal(None).label("label"), n)
            .where(_within(model.id, ids), column.is_not(None))
            .group_by(year)
        )

    return count


def _linked(
    link_column: Any, owner_column: Any, target: Any, target_label: Any
) -> Callable[[Any], Select[Any]]:
    def count(ids: Any) -> Select[Any]:
        n = func.count(distinct(owner_column)).label("n")
        return (
            select(target.slug, target_label, n)
            .join(target, target.id == link_column)
            .where(_within(owner_column, ids))
            .group_by(target.id, target.slug, target_label)
        )

    return count


def _topics(ids: Any) -> Any:
    n = func.count(distinct(PolicyTopic.policy_id)).label("n")
    return (
        select(PolicyTopic.topic, literal(None).label("label"), n)
        .where(_within(PolicyTopic.policy_id, ids))
        .group_by(PolicyTopic.topic)
    )


FACETS: dict[ResourceName, dict[str, Facet]] = {
    "policies": {
        "kind": Facet(_by_code(Policy.kind, Policy), "policy kind"),
        "status": Facet(_by_code(Policy.status, Policy), "status"),
        "topic": Facet(_topics, "topic"),
        "region": Facet(
            _linked(PolicyRegion.region_id, PolicyRegion.policy_id, Region, Region.name),
            "directly linked region",
        ),
        "actor": Facet(
            _linked(PolicyActor.actor_id, PolicyActor.policy_id, Actor, Actor.name),
            "linked actor",
        ),
        "year": Facet(_by_year(Policy.announced_earliest, Policy), "year announced"),
    },
    "actors": {
        "kind": Facet(_by_code(Actor.kind, Actor), "actor kind"),
        "region": Facet(_linked(Actor.region_id, Actor.id, Region, Region.name), "home region"),
    },
    "regions": {
        "kind": Facet(_by_code(Region.kind, Region), "region kind"),
    },
    "goals": {
        "status": Facet(_by_code(Goal.status, Goal), "goal status"),
        "policy": Facet(_linked(Goal.policy_id, Goal.id, Policy, Policy.title), "owner policy"),
        "actor": Facet(_linked(Goal.actor_id, Goal.id, Actor, Actor.name), "owner actor"),
        "year": Facet(_by_year(Goal.deadline_earliest, Goal), "deadline year"),
    },
    "sources": {
        "publisher": Facet(_by_code(Source.publisher, Source), "publisher"),
        "language": Facet(_by_code(Source.language, Source), "language"),
    },
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
        query = FACETS[resource][name].count(ids)
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

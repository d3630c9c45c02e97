"""Every filter and every sort field of every resource, generated from the descriptors
(app/resources): a new filter or sort field is tested here without writing a test.

Each filter is given a value taken from the seed that selects some records but not all, and
the list must return exactly the records an independent check in Python (over the ORM rows)
says match. Each sort field must page, in both directions, in the order of a plain ORDER BY.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Region
from app.partial_dates import PartialDate
from app.resources import RESOURCES, Resource
from app.resources.descriptor import (
    Codes,
    DateBound,
    EndsOnOrAfter,
    Filter,
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
from app.services.search import document_text

FILTERS = [
    pytest.param(r, name, id=f"{r.name}?{name}") for r in RESOURCES.values() for name in r.filters
]
SORTS = [
    pytest.param(r, field, id=f"{r.name}?sort={field}")
    for r in RESOURCES.values()
    for field in r.sortable
]
DATES = ["2019", "2017-07", "2020", "2021-06-30", "2025", "2030", "2015", "2023"]


@dataclass(frozen=True)
class Candidate:
    """A value to send for a filter and what it stands for in the Python check."""

    sent: str | list[str]
    meaning: Any


def all_ids(client: TestClient, resource: str, **params: Any) -> list[int]:
    """The ids of every item of a list, following `next` links."""
    ids: list[int] = []
    response = client.get(f"/api/v1/{resource}", params={"limit": 7, **params})
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["items"]]
        if not body["next"]:
            return ids
        response = client.get(body["next"])


def region_subtrees(session: Session) -> dict[int, set[int]]:
    """Each region's id with the ids of every region below it."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for id_, parent in session.execute(select(Region.id, Region.parent_id)):
        children[parent].append(id_)

    def below(id_: int) -> set[int]:
        return {id_}.union(*(below(c) for c in children[id_]))

    return {id_: below(id_) for ids in list(children.values()) for id_ in ids}


def candidates(session: Session, resource: Resource, filter_: Filter) -> Iterator[Candidate]:
    """Values of a filter drawn from the seed, to try until one selects some records."""
    match filter_.value:
        case TextQuery():
            for row in session.scalars(select(resource.model).order_by(resource.model.id)):
                title, _body = document_text(row)
                words = re.findall(r"[A-Za-z]{5,}", title)
                yield from (Candidate(w, w.lower()) for w in words)
        case Codes(vocabulary):  # two codes first: "any of" and "all of" differ then
            codes = [code.value for code in vocabulary]
            yield from (Candidate([a, b], {a, b}) for a, b in combinations(codes, 2))
            yield from (Candidate([code], {code}) for code in codes)
        case SlugOf(target):
            model = RESOURCES[target].model
            for id_, slug in session.execute(select(model.id, model.slug).order_by(model.id)):
                yield Candidate(slug, {id_})
        case RegionId():  # by ISO code where there is one, else by slug
            rows = session.execute(select(Region.id, Region.slug, Region.iso_code)).all()
            yield from (Candidate(iso.lower() if iso else slug, {id_}) for id_, slug, iso in rows)
        case RegionKey():
            trees = region_subtrees(session)
            # Regions with sub-regions first, so that the subtree is part of what is tested.
            rows = session.execute(select(Region.id, Region.slug, Region.iso_code)).all()
            for id_, slug, iso in sorted(rows, key=lambda r: -len(trees[r.id])):
                yield Candidate(iso.lower() if iso else slug, trees[id_])
        case IsoCode():
            isos = session.scalars(select(Region.iso_code).where(Region.iso_code.is_not(None)))
            yield from (Candidate(iso.lower(), {iso}) for iso in isos if iso)
        case DateBound():
            yield from (Candidate(d, PartialDate.parse(d)) for d in DATES)
        case value:
            pytest.fail(f"no values to try for a {value!r} filter: add them here")


def matcher(session: Session, resource: Resource, filter_: Filter) -> Callable[[Any, Any], bool]:
    """Whether a record (an ORM row) matches a filter's meaning, decided in Python."""
    model = resource.model
    match filter_.applies, filter_.value:
        case Is(), TextQuery():  # the record's search text holds the word
            return lambda row, word: (
                word in re.findall(r"\w+", " ".join(document_text(row)).lower())
            )
        case Is(column), _:
            return lambda row, meaning: getattr(row, column.key) in meaning
        case Linked(owner, column, every), _:
            linked: dict[int, set[Any]] = defaultdict(set)
            for owner_id, value in session.execute(select(owner, column)):
                linked[owner_id].add(value)
            if every:
                return lambda row, meaning: meaning <= linked[row.id]
            return lambda row, meaning: bool(meaning & linked[row.id])
        case EndsOnOrAfter(latest), _:
            return lambda row, bound: (
                (v := getattr(row, latest.key)) is not None and v >= bound.earliest
            )
        case StartsOnOrBefore(earliest), _:
            return lambda row, bound: (
                (v := getattr(row, earliest.key)) is not None and v <= bound.latest
            )
        case Spans(start, end), _:
            spans = {id_: (s, e) for id_, s, e in session.execute(select(model.id, start, end))}

            def within(row: Any, date: PartialDate) -> bool:
                s, e = spans[row.id]
                return s is not None and s <= date.latest and (e is None or e >= date.earliest)

            return within
    pytest.fail(f"no Python check for {filter_.applies!r}: add one here")


@pytest.mark.parametrize(("resource", "name"), FILTERS)
def test_every_filter_selects_exactly_the_matching_records(
    client: TestClient, session: Session, resource: Resource, name: str
) -> None:
    filter_ = resource.filters[name]
    rows = list(session.scalars(select(resource.model)))
    matches = matcher(session, resource, filter_)
    for candidate in candidates(session, resource, filter_):
        expected = {row.id for row in rows if matches(row, candidate.meaning)}
        if 0 < len(expected) < len(rows):
            break
    else:
        pytest.fail(f"the seed has no value of {resource.name}?{name}= that selects some rows")
    found = all_ids(client, resource.name, **{name: candidate.sent})
    assert len(found) == len(set(found))
    assert set(found) == expected, (name, candidate.sent)


@pytest.mark.parametrize(("resource", "field"), SORTS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_every_sort_field_pages_in_order(
    client: TestClient, session: Session, resource: Resource, field: str, descending: bool
) -> None:
    sortable = resource.sortable[field]
    column = sortable.column.desc() if descending else sortable.column.asc()
    if sortable.nullable:
        column = column.nulls_last()
    expected = list(session.scalars(select(resource.model.id).order_by(column, resource.model.id)))
    found = all_ids(client, resource.name, sort=("-" if descending else "") + field)
    assert found == expected


@pytest.mark.parametrize(("resource", "name"), FILTERS)
def test_a_filter_reads_the_resource_or_its_own_links(resource: Resource, name: str) -> None:
    """A filter's columns are the record's own, or a link table's whose owner names it."""
    table = resource.model.__table__
    match resource.filters[name].applies:
        case Is(column) | EndsOnOrAfter(column) | StartsOnOrBefore(column) | Spans(_, column):
            assert column.class_ is resource.model
        case Linked(owner, column):
            assert column.class_ is owner.class_
            assert {fk.column.table for fk in owner.property.columns[0].foreign_keys} == {table}

"""Imports that never change data silently (issue #14), on both engines, with real reference
data: the ISO 3166 regions of pycountry. Merge mode, field-level reports, every problem in
one pass, exact decimals, repeated keys, and ISO codes handed between existing regions."""

import json
from decimal import Decimal
from typing import Any

import pycountry
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.models import HistoryEntry, Policy, Region
from app.resources import WRITE_ORDER
from app.services.bundle import import_bundle, iter_records, json_bundle_bytes, parse_bundle_text
from tests.api.test_records import ARTICLE

CITE = {"source": ARTICLE, "excerpt": "AI"}


def iso_regions(*, subdivisions: bool = False) -> list[dict[str, Any]]:
    """ISO 3166 regions from pycountry (China and the US left out: the seed holds them)."""
    countries = [c for c in pycountry.countries if c.alpha_2 not in ("CN", "US")]
    regions = [
        {
            "slug": f"iso-{c.alpha_2.lower()}",
            "name": c.name,
            "kind": "country",
            "iso_code": c.alpha_2,
        }
        for c in countries
    ]
    if subdivisions:
        regions += [
            {
                "slug": f"iso-{s.code.lower()}",
                "name": s.name,
                "kind": "province",
                "iso_code": s.code,
                "parent": f"iso-{s.country_code.lower()}",
            }
            for s in pycountry.subdivisions
            if s.country_code not in ("CN", "US")
        ]
    return regions


@pytest.fixture
def countries(session: Session) -> list[dict[str, Any]]:
    regions = iso_regions()
    import_bundle(session=session, data={"regions": regions})
    return regions


def stored(session: Session, name: str, slug: str) -> dict[str, Any]:
    return next(r for r in iter_records(session, name) if r["slug"] == slug)  # type: ignore[arg-type]


def problems(session: Session, data: Any, **options: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as raised:
        import_bundle(session=session, data=data, **options)
    return [(e.pointer, e.detail) for e in raised.value.errors]


# Merge mode, and reports that say what changes.


def test_merge_keeps_what_the_bundle_leaves_out(session: Session) -> None:
    before = stored(session, "regions", "cn")
    assert before["names"] and before["citations"]
    patch = {"regions": [{"slug": "cn", "name": "China (PRC)", "kind": "country"}]}
    report = import_bundle(session=session, data=patch, mode="merge")
    assert report.counts["regions"].updated == 1 and report.warnings == []
    after = stored(session, "regions", "cn")
    assert after == {**before, "name": "China (PRC)"}
    (change,) = report.changes
    assert (change.resource, change.slug, change.action) == ("regions", "cn", "update")
    assert change.fields["name"].model_dump() == {"old": before["name"], "new": "China (PRC)"}
    assert set(change.fields) == {"name"} and change.cleared == []


def test_merge_null_removes_a_field_and_lists_replace_lists(session: Session) -> None:
    before = stored(session, "regions", "cn")
    patch = {"regions": [{"slug": "cn", "aliases": ["Zhongguo"], "description": None}]}
    import_bundle(session=session, data=patch, mode="merge")
    after = stored(session, "regions", "cn")
    assert after["aliases"] == ["Zhongguo"] and "description" not in after
    assert after["names"] == before["names"]


def test_merge_of_a_new_record_creates_it(session: Session) -> None:
    data = {"regions": [{"slug": "merge-new", "name": "New", "kind": "city", "parent": None}]}
    report = import_bundle(session=session, data=data, mode="merge")
    assert report.counts["regions"].created == 1
    assert report.changes[0].action == "create"
    assert report.changes[0].fields["name"].model_dump() == {"old": None, "new": "New"}


def test_upsert_says_what_it_clears(session: Session) -> None:
    """The issue's first case: an upsert of a bare record wiped names, aliases and citations
    and said only "1 updated"; now the report names each cleared field, and warns."""
    before = stored(session, "regions", "cn")
    bare = {"regions": [{"slug": "cn", "name": "China", "kind": "country", "iso_code": "CN"}]}
    report = import_bundle(session=session, data=bare, dry_run=True)
    (change,) = report.changes
    assert {"names", "citations"} <= set(change.cleared)
    assert change.fields["citations"].old == before["citations"]
    assert change.fields["citations"].new == []
    assert "cn" in report.warnings[0] and "merge" in report.warnings[0]
    assert stored(session, "regions", "cn") == before  # a dry run


def test_the_report_names_the_record_and_field_a_lost_value_changes(
    session: Session, countries: list[dict[str, Any]]
) -> None:
    """pandas' default CSV reading turns Namibia's code NA into an empty cell."""
    lossy = [
        {k: v for k, v in r.items() if r["iso_code"] != "NA" or k != "iso_code"} for r in countries
    ]
    report = import_bundle(session=session, data={"regions": lossy}, dry_run=True)
    assert report.counts["regions"].updated == 1
    (change,) = report.changes
    assert change.slug == "iso-na"
    assert change.fields["iso_code"].model_dump() == {"old": "NA", "new": None}
    assert change.cleared == ["iso_code"]


def test_the_report_lists_the_first_records_and_counts_all(session: Session) -> None:
    regions = iso_regions()[:30]
    report = import_bundle(session=session, data={"regions": regions}, listed=5)
    assert report.counts["regions"].created == 30
    assert len(report.changes) == 5 and report.changes_total == 30
    renamed = [{**r, "name": r["name"] + "!"} for r in regions]
    report = import_bundle(session=session, data={"regions": renamed}, listed=5)
    assert len(report.changes) == 5 and report.changes_total == 30
    assert all(set(c.fields) == {"name"} for c in report.changes)


def test_the_report_shows_link_and_citation_changes(session: Session) -> None:
    policy = stored(session, "policies", "fifth-plenum-st-self-reliance")
    actors = [{**policy["actors"][0], "citations": [CITE]}]
    patch = {"policies": [{"slug": policy["slug"], "actors": actors}]}
    report = import_bundle(session=session, data=patch, mode="merge", dry_run=True)
    (change,) = report.changes
    assert set(change.fields) == {"actors"}
    assert change.fields["actors"].old == policy["actors"]
    assert change.fields["actors"].new[0]["citations"][0]["excerpt"] == "AI"


def test_deletions_are_reported(session: Session, countries: list[dict[str, Any]]) -> None:
    everything = {name: list(iter_records(session, name)) for name in WRITE_ORDER}
    everything["regions"] = [r for r in everything["regions"] if r["slug"] != "iso-fr"]
    report = import_bundle(session=session, data=everything, mode="replace", dry_run=True)
    assert report.counts["regions"].deleted == 1
    (change,) = report.changes
    assert (change.slug, change.action) == ("iso-fr", "delete")
    assert change.fields["iso_code"].model_dump() == {"old": "FR", "new": None}


# Every problem in one pass.


def test_every_problem_is_reported_in_one_pass(session: Session) -> None:
    data = {
        "regions": [
            {"slug": "bad-kind", "name": "X", "kind": "planet"},  # a field error...
            {"slug": "lost", "name": "Lost", "kind": "city", "parent": "atlantis"},
            {"slug": "twice", "name": "A", "kind": "city"},
            {"slug": "twice", "name": "B", "kind": "city", "parent": "lemuria"},
        ],
        "actors": [
            # ...a field error and an unknown reference in the same record
            {"slug": "odd", "name": "Odd", "kind": "nonsense", "region": "mu"},
        ],
    }
    found = problems(session, data)
    pointers = dict(found)
    assert "/regions/0/kind" in pointers
    assert pointers["/regions/1/parent"] == "unknown region slug 'atlantis'"
    assert pointers["/regions/3/slug"].startswith("duplicate slug")
    assert pointers["/regions/3/parent"] == "unknown region slug 'lemuria'"
    assert "/actors/0/kind" in pointers
    assert pointers["/actors/0/region"] == "unknown region slug 'mu'"


def test_iso_clashes_are_reported_with_their_pointers(
    session: Session, countries: list[dict[str, Any]]
) -> None:
    data = {"regions": [{"slug": "fake-de", "name": "Fake", "kind": "country", "iso_code": "DE"}]}
    assert problems(session, data) == [
        ("/regions/0/iso_code", "ISO code DE already belongs to region 'iso-de'")
    ]


# Exact values.


def test_json_numbers_in_decimal_fields_keep_every_digit(session: Session) -> None:
    policy = stored(session, "policies", "fifth-plenum-st-self-reliance")
    body = json.dumps({"policies": [{**policy, "money": None}]}).replace(
        '"money": null', '"money": {"amount": 12345678901234567.89, "currency": "CNY"}'
    )
    report = import_bundle(session=session, data=json_bundle_bytes(body.encode()))
    (change,) = report.changes
    assert change.fields["money"].new == {
        "amount": "12345678901234567.89",
        "currency": "CNY",
        "approximate": False,
    }
    if session.get_bind().dialect.name == "postgresql":  # SQLite keeps NUMERIC as a double
        row = session.scalars(select(Policy).where(Policy.slug == policy["slug"])).one()
        assert row.money_amount == Decimal("12345678901234567.89")


def test_numbers_too_precise_for_a_decimal_field_are_refused(session: Session) -> None:
    policy = stored(session, "policies", "fifth-plenum-st-self-reliance")
    body = json.dumps({"policies": [{**policy, "money": None}]}).replace(
        '"money": null', '"money": {"amount": 0.12345678901, "currency": "CNY"}'
    )
    found = problems(session, json_bundle_bytes(body.encode()))
    assert [p for p, _d in found] == ["/policies/0/money/amount"]


def test_yaml_numbers_are_exact_too() -> None:
    data = parse_bundle_text("amount: 12345678901234567.89\nother: .inf\n", syntax="yaml")
    assert data["amount"] == Decimal("12345678901234567.89")
    assert data["other"] == float("inf")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"policies": [], "policies": []}', "/policies"),
        ('{"regions": [{"slug": "a", "name": "A", "slug": "b"}]}', "/regions/0/slug"),
        ('{"regions": [{}, {"names": {"en": "A", "en": "B"}}]}', "/regions/1/names/en"),
    ],
)
def test_repeated_keys_are_refused_with_their_pointer(text: str, where: str) -> None:
    for read in (
        lambda: json_bundle_bytes(text.encode()),
        lambda: parse_bundle_text(text, syntax="json"),
        lambda: parse_bundle_text(text, syntax="yaml"),  # JSON is YAML
    ):
        with pytest.raises(InvalidInput) as raised:
            read()
        assert [e.pointer for e in raised.value.errors] == [where]
        assert "twice" in raised.value.errors[0].detail


def test_repeated_keys_in_block_yaml_are_refused() -> None:
    text = "regions:\n  - slug: a\n    name: A\n    name: B\n"
    with pytest.raises(InvalidInput) as raised:
        parse_bundle_text(text, syntax="yaml")
    assert raised.value.errors[0].pointer == "/regions/0/name"


# ISO codes handed between existing regions.


def history(session: Session, slug: str) -> list[HistoryEntry]:
    query = select(HistoryEntry).where(HistoryEntry.slug == slug)
    return list(session.scalars(query.order_by(HistoryEntry.id)))


def code_of(session: Session, slug: str) -> str | None:
    return session.scalar(select(Region.iso_code).where(Region.slug == slug))


def test_a_swap_of_iso_codes(session: Session, countries: list[dict[str, Any]]) -> None:
    by_slug = {r["slug"]: r for r in countries}
    swap = [{**by_slug["iso-de"], "iso_code": "FR"}, {**by_slug["iso-fr"], "iso_code": "DE"}]
    report = import_bundle(session=session, data={"regions": swap})
    assert report.counts["regions"].updated == 2
    assert (code_of(session, "iso-de"), code_of(session, "iso-fr")) == ("FR", "DE")
    last = history(session, "iso-fr")[-1]
    assert (last.action, last.fields["iso_code"]) == ("update", {"old": "FR", "new": "DE"})
    fields = {c.slug: c.fields["iso_code"].model_dump() for c in report.changes}
    assert fields == {"iso-de": {"old": "DE", "new": "FR"}, "iso-fr": {"old": "FR", "new": "DE"}}


def test_a_taker_before_its_giver_and_a_new_region(
    session: Session, countries: list[dict[str, Any]]
) -> None:
    by_slug = {r["slug"]: r for r in countries}
    data = {
        "regions": [
            {**by_slug["iso-at"], "iso_code": "BE"},  # takes BE before iso-be gives it up
            {**by_slug["iso-be"], "iso_code": None},
            {"slug": "new-at", "name": "Austria", "kind": "country", "iso_code": "AT"},
        ]
    }
    import_bundle(session=session, data=data)
    assert [code_of(session, s) for s in ("iso-at", "iso-be", "new-at")] == ["BE", None, "AT"]
    assert history(session, "iso-be")[-1].fields["iso_code"] == {"old": "BE", "new": None}


def test_replace_hands_the_code_of_a_deleted_region_over(
    session: Session, countries: list[dict[str, Any]]
) -> None:
    everything = {name: list(iter_records(session, name)) for name in WRITE_ORDER}
    regions = [r for r in everything["regions"] if r["slug"] != "iso-it"]
    everything["regions"] = [
        {**r, "iso_code": "IT"} if r["slug"] == "iso-sm" else r for r in regions
    ]
    report = import_bundle(session=session, data=everything, mode="replace")
    assert report.counts["regions"].deleted == 1 and report.counts["regions"].updated == 1
    assert code_of(session, "iso-sm") == "IT" and code_of(session, "iso-it") is None
    deleted = history(session, "iso-it")[-1]
    assert (deleted.action, deleted.snapshot["iso_code"]) == ("delete", "IT")


@pytest.mark.slow
def test_all_iso_3166_regions_round_trip(session: Session) -> None:
    regions = iso_regions(subdivisions=True)
    report = import_bundle(session=session, data={"regions": regions})
    assert report.counts["regions"].created == len(regions) > 5000
    again = import_bundle(session=session, data={"regions": regions}, mode="merge")
    assert again.counts["regions"].unchanged == len(regions) and again.changes == []

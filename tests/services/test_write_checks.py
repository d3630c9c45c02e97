"""The write checks (app/services/write_checks.py): one set, one message per rule, for API
writes and imports alike. The same bad input gives the same problems through both paths."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.errors import ErrorDetail, InvalidInput
from app.resources import RESOURCES, WRITE_ORDER
from app.resources.regions import RegionRecord
from app.services.bundle import import_bundle
from app.services.changes import Change
from app.services.records import get_record
from app.services.writes import apply_changes, check_changes
from tests.conftest import assert_problem

Problem = tuple[str, str, str | None]


def region(slug: str, iso_code: str | None = None, parent: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"slug": slug, "name": slug.title(), "kind": "other"}
    if iso_code is not None:
        record |= {"kind": "country", "iso_code": iso_code}
    if parent is not None:
        record["parent"] = parent
    return record


def problems(errors: list[ErrorDetail]) -> list[Problem]:
    return [(e.pointer, e.detail, e.slug) for e in errors]


def through_api_writes(session: Session, bundle: dict[str, Any]) -> list[Problem]:
    """The bundle's records written as API writes are (apply_changes), located as in a bundle."""
    changes = [
        Change(name, RESOURCES[name].record.model_validate(item), (name, index))
        for name in WRITE_ORDER
        for index, item in enumerate(bundle.get(name, []))
    ]
    with pytest.raises(InvalidInput) as refused:
        apply_changes(session, changes, changed_by="test")
    session.rollback()
    return problems(refused.value.errors)


def through_import(session: Session, bundle: dict[str, Any]) -> list[Problem]:
    with pytest.raises(InvalidInput) as refused:
        import_bundle(session=session, data=bundle)
    return problems(refused.value.errors)


BAD_INPUT: dict[str, tuple[dict[str, Any], list[Problem]]] = {
    "an ISO code held by a region outside the batch, next to a region without one": (
        {"regions": [region("not-china", "CN"), region("no-code")]},
        [("/regions/0/iso_code", "ISO code CN already belongs to region 'cn'", "not-china")],
    ),
    "an ISO code held outside the batch, given by the batch's second region": (
        {"regions": [region("somewhere", "DE"), region("not-shanghai", "CN-SH")]},
        [
            (
                "/regions/1/iso_code",
                "ISO code CN-SH already belongs to region 'shanghai'",
                "not-shanghai",
            )
        ],
    ),
    "one ISO code given to two regions of the batch": (
        {"regions": [region("first-fr", "FR"), region("second-fr", "FR")]},
        [("/regions/1/iso_code", "ISO code FR is used twice", "second-fr")],
    ),
    "a duplicate slug": (
        {"regions": [region("twice"), region("once"), region("twice")]},
        [("/regions/2/slug", "duplicate slug; first at /regions/0", "twice")],
    ),
    "unknown references": (
        {
            "regions": [region("lost", parent="no-such-region")],
            "policies": [
                {
                    "slug": "lost-policy",
                    "title": "Lost",
                    "kind": "plan",
                    "actors": [{"actor": "nobody", "role": "issuer"}],
                    "citations": [{"source": "no-such-source"}],
                }
            ],
        },
        [
            ("/regions/0/parent", "unknown region slug 'no-such-region'", "lost"),
            ("/policies/0/actors/0/actor", "unknown actor slug 'nobody'", "lost-policy"),
            (
                "/policies/0/citations/0/source",
                "unknown source slug 'no-such-source'",
                "lost-policy",
            ),
        ],
    ),
    "a parent loop": (
        {"regions": [region("loop-a", parent="loop-b"), region("loop-b", parent="loop-a")]},
        [
            ("/regions/0/parent", "parent chain loops back to 'loop-a'", "loop-a"),
            ("/regions/1/parent", "parent chain loops back to 'loop-b'", "loop-b"),
        ],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_the_same_bad_input_gives_the_same_problems_on_both_paths(
    session: Session, case: str
) -> None:
    bundle, expected = BAD_INPUT[case]
    assert through_api_writes(session, bundle) == expected
    assert through_import(session, bundle) == expected


def test_an_iso_code_clash_names_the_code_that_clashes(session: Session) -> None:
    """Regression: with several regions in one batch, the message named the batch's last
    code (None here) instead of the one that clashes."""
    taker = RegionRecord.model_validate(
        {"slug": "not-china", "name": "Not China", "kind": "country", "iso_code": "CN"}
    )
    uncoded = RegionRecord.model_validate({"slug": "no-code", "name": "No Code", "kind": "other"})
    changes = [
        Change("regions", taker, ("regions", 0)),
        Change("regions", uncoded, ("regions", 1)),
    ]
    assert problems(check_changes(session, changes)) == [
        ("/regions/0/iso_code", "ISO code CN already belongs to region 'cn'", "not-china")
    ]


def test_a_renamed_region_keeps_its_iso_code_free_for_itself(session: Session) -> None:
    """A region renamed in the batch is not "another region" holding its own code."""
    cn = get_record(session=session, resource="regions", key="cn", for_write=True)
    renamed = RegionRecord.model_validate(
        {"slug": "china", "name": "China", "kind": "country", "iso_code": "CN"}
    )
    assert check_changes(session, [Change("regions", renamed, (), existing=cn)]) == []


def test_http_write_and_http_import_word_a_problem_alike(
    client: TestClient, auth: dict[str, str]
) -> None:
    """POST of a record and an import of the same record: the same message, located in the
    body each was sent in."""
    record = region("not-china", "CN")
    posted = assert_problem(client.post("/api/v1/regions", json=record, headers=auth), 422)
    imported = assert_problem(
        client.post("/api/v1/import", json={"regions": [record]}, headers=auth), 422
    )
    expected = "ISO code CN already belongs to region 'cn'"
    assert [(e["pointer"], e["detail"]) for e in posted["errors"]] == [("/iso_code", expected)]
    assert [(e["pointer"], e["detail"]) for e in imported["errors"]] == [
        ("/regions/0/iso_code", expected)
    ]

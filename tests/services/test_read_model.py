"""The read model (app/services/read/): the three builders of each spec agree byte for byte.

Rows are written straight into the tables (not through the API, which refuses control
characters), so the values are as awkward as the database can hold: every C0 control
character and DEL, quotes and backslashes, U+2028/U+2029, CJK, emoji, huge and tiny amounts,
each partial-date precision, empty and over-long embedded lists, nulls. On each engine the
database's JSON is compared with the Python builder's; pinned JSON ties the engines together.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic_core import to_json
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    PolicyTopic,
    Region,
    Source,
)
from app.resources.document import DocumentSpec, Embedded, Reference, Text
from app.resources.sources import EMBEDDED_SUPPORTS
from app.schemas.links import EMBEDDED_LINKS
from app.services.documents import _READERS
from app.services.read.python_builder import DocumentPlan
from app.services.read.sql_builder import documents_sql, json_documents
from app.services.resources import ResourceName

BASE = 900_000  # ids far above the seed's
WHEN = datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC)
ROUND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
STAMPS = {"created_at": WHEN, "updated_at": ROUND}
CONTROLS = "".join(chr(c) for c in range(1, 0x20)) + "\x7f"
AWKWARD = f"q \" b \\ {CONTROLS} \u2028 \u2029 中文 😀 e\u0301 </script> 's"
# Amounts at the edges of what each engine writes exactly (SQLite stores a fraction as a
# REAL: past 1e9 its document is built in Python).
AMOUNTS = [
    "123456789012345678.5",
    "0.000001",
    "100",
    "0",
    "2500000.50",
    "-3.25",
    "99999999999999",
    "100000000000000000000000",
    "1234567890123456.5",
]
DATES: list[tuple[date, date] | None] = [
    (date(2019, 1, 1), date(2019, 12, 31)),
    (date(2019, 2, 1), date(2019, 2, 28)),
    (date(2020, 2, 29), date(2020, 2, 29)),
    None,
]


def _text(session: Session) -> str:
    """AWKWARD, with NUL where the engine can store it in a text column (PostgreSQL cannot;
    nor can SQLite's JSON functions read it inside a JSON column's string: the API refuses
    NUL, as every C0 control but tab and newline, so JSON columns get AWKWARD without it)."""
    return AWKWARD + ("\x00" if session.get_bind().dialect.name == "sqlite" else "")


def _add(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    session.execute(insert(model), rows)


def _dates(name: str, n: int) -> dict[str, Any]:
    span = DATES[n % len(DATES)]
    return {f"{name}_earliest": span and span[0], f"{name}_latest": span and span[1]}


def _cite(source: int, owner: str, owner_id: int, text: str, n: int) -> dict[str, Any]:
    return {
        "source_id": source,
        owner: owner_id,
        "section": text if n % 2 else None,
        "paragraph": n if n % 3 else None,
        "excerpt": text,
        "note": None if n % 2 else "n",
        "position": -n,  # listed by position, not by id
    }


def _awkward_records(session: Session) -> dict[ResourceName, list[int]]:
    """Records with awkward values, hubs with more links than a document embeds, and bare
    records with every optional field null and every list empty."""
    text = _text(session)
    source, bare_source = BASE, BASE + 1
    _add(
        session,
        Source,
        [
            {"id": source, "slug": "read-a", "title": text, "authors": [AWKWARD, "甲"],
             "url": text, "publisher": text, "series": "s", "language": "zh",
             "sha256": "0" * 64, **_dates("published", 1), **STAMPS},
            {"id": bare_source, "slug": "read-b", "title": "t", **_dates("published", 3), **STAMPS},
        ],
    )  # fmt: skip
    regions = [BASE, BASE + 1, BASE + 2, BASE + 3]
    _add(
        session,
        Region,
        [
            {"id": r, "slug": f"read-r{n}", "name": f"{text} {n}", "kind": "city",
             "names": {"zh-Latn-pinyin": AWKWARD, "en": "E", "zh": "中"} if n else {},
             "aliases": [AWKWARD, "a"] if n else [], "iso_code": None,
             "parent_id": regions[n - 1] if n else None,
             "description": text if n % 2 else None, **STAMPS}
            for n, r in enumerate(regions)
        ],
    )  # fmt: skip
    actors = [BASE, BASE + 1]
    _add(
        session,
        Actor,
        [
            {"id": actors[0], "slug": "read-a0", "name": text, "kind": "ministry",
             "names": {"fr": AWKWARD, "en": "x"}, "aliases": [AWKWARD],
             "identifiers": [{"value": AWKWARD, "scheme": "wikidata"}],
             "region_id": regions[2], "parent_id": None, "description": text, **STAMPS},
            {"id": actors[1], "slug": "read-a1", "name": "bare", "kind": "ministry",
             "parent_id": actors[0], **STAMPS},
        ],
    )  # fmt: skip
    hub = 2 * EMBEDDED_LINKS + 10
    policies = [BASE + n for n in range(hub)]
    _add(
        session,
        Policy,
        [
            {"id": p, "slug": f"read-p{n}", "title": f"{text} {n}", "kind": "plan",
             "status": "in_force", **STAMPS, **_detail(text, n)}
            for n, p in enumerate(policies)
        ],
    )  # fmt: skip
    rich = policies[: len(AMOUNTS)]
    _add(session, PolicyTopic, [{"policy_id": p, "topic": t} for p in rich for t in ("b", "a")])
    _add(
        session,
        PolicyActor,
        [
            {"id": BASE + n, "policy_id": p, "actor_id": actors[0], "role": "issuer",
             "position": -n}
            for n, p in enumerate(policies)
        ],
    )  # fmt: skip
    _add(
        session,
        PolicyRegion,
        [
            {"id": BASE + n, "policy_id": p, "region_id": regions[3], "role": "target",
             "position": 0}
            for n, p in enumerate(policies)
        ],
    )  # fmt: skip
    _add(
        session,
        PolicyRelation,
        [
            {"id": BASE + n, "policy_id": p, "related_policy_id": policies[0],
             "relation": "amends", "position": n}
            for n, p in enumerate(rich[1:])
        ],
    )  # fmt: skip
    goals = [BASE + n for n in range(EMBEDDED_LINKS + 5)]
    _add(
        session,
        Goal,
        [
            {"id": g, "slug": f"read-g{n}", "statement": text, "actor_id": actors[0],
             "policy_id": policies[n % 3] if n % 4 else None,
             "stage": None if n % 2 == 0 else n % 5, "status": "set",
             "metric": text if n % 2 else None, "unit": "t" if n % 2 else None,
             "target_value": Decimal(AMOUNTS[n % len(AMOUNTS)]) if n % 5 else None,
             "baseline_value": Decimal(AMOUNTS[(n + 1) % len(AMOUNTS)]) if n % 7 else None,
             **_dates("deadline", n), **STAMPS}
            for n, g in enumerate(goals)
        ],
    )  # fmt: skip
    owners = [
        *(("policy_id", p) for p in rich),
        ("policy_actor_id", BASE),
        ("policy_region_id", BASE + 1),
        ("policy_relation_id", BASE),
        ("actor_id", actors[0]),
        ("region_id", regions[1]),
        ("goal_id", goals[1]),
    ]
    citations = [
        _cite(source, owner, owner_id, text, n)
        for n in range(EMBEDDED_SUPPORTS + 5)
        for owner, owner_id in [owners[n % len(owners)]]
    ]
    _add(session, Citation, citations)
    return {
        "policies": policies,
        "goals": goals,
        "actors": actors,
        "regions": regions,
        "sources": [source, bare_source],
    }


def _detail(text: str, n: int) -> dict[str, Any]:
    """The optional fields of policy ``n``: all set for the first ones, then all null."""
    if n >= len(AMOUNTS):
        return {"titles": {}, "identifiers": []}
    return {
        "short_name": text,
        "summary": text,
        "titles": {"zh-Latn-pinyin": AWKWARD, "en": "E", "zh": "中", "ab-cd": "x", "b": "y"},
        "identifiers": [{"value": AWKWARD, "scheme": "doc"}, {"scheme": "x", "value": "2"}],
        "money_amount": Decimal(AMOUNTS[n]),
        "money_currency": "CNY" if n != 1 else None,
        "money_approximate": n % 2 == 0,
        **_dates("announced", n),
        **_dates("in_force_from", n + 1),
        **_dates("in_force_to", n + 2),
    }


def _database_json(session: Session, resource: ResourceName, ids: list[int]) -> list[Any]:
    statement = _READERS[resource].statement(session)
    assert statement is not None, f"{resource}: no database builder on this engine"
    return [text for _id, text in json_documents(session, statement, ids)]


def _python_json(session: Session, resource: ResourceName, ids: list[int]) -> list[bytes]:
    return [to_json(d) for d in _READERS[resource].dicts(session, ids)]


@pytest.mark.parametrize("resource", list(_READERS))
def test_database_and_python_builders_agree_on_awkward_records(
    session: Session, resource: ResourceName
) -> None:
    ids = _awkward_records(session)[resource]
    ids = ids[::-1]  # documents come back in the order asked for
    from_database = _database_json(session, resource, ids)
    from_python = _python_json(session, resource, ids)
    assert len(from_database) == len(ids)
    inexact = 0
    for record, database, python in zip(ids, from_database, from_python, strict=True):
        if database is None:  # SQLite cannot write this amount exactly: Python writes it
            assert session.get_bind().dialect.name == "sqlite", record
            inexact += 1
            continue
        assert database == python, record
    if resource in ("policies", "goals") and session.get_bind().dialect.name == "sqlite":
        assert inexact, "the huge amounts are left to Python on SQLite"
    assert _READERS[resource].json(session, ids) == from_python


def test_hubs_embed_the_first_links_and_count_them_all(session: Session) -> None:
    ids = _awkward_records(session)
    hub_region = _READERS["regions"].dicts(session, [ids["regions"][3]])[0]
    hub_actor = _READERS["actors"].dicts(session, [ids["actors"][0]])[0]
    source = _READERS["sources"].dicts(session, [ids["sources"][0]])[0]
    assert len(hub_region["policies"]) == EMBEDDED_LINKS
    assert hub_region["policies_total"] == len(ids["policies"])
    assert [p["policy"] for p in hub_actor["policies"][:2]] == ["read-p0", "read-p1"]
    assert len(hub_actor["goals"]) == EMBEDDED_LINKS
    assert hub_actor["goals_total"] == len(ids["goals"])
    assert len(source["supports"]) == EMBEDDED_SUPPORTS
    assert source["supports_total"] == EMBEDDED_SUPPORTS + 5
    assert [a["slug"] for a in hub_region["ancestors"]] == ["read-r0", "read-r1", "read-r2"]


def test_values_are_written_as_pydantic_writes_them(session: Session) -> None:
    ids = _awkward_records(session)["policies"]
    docs = _READERS["policies"].dicts(session, ids[: len(AMOUNTS)])
    assert [d["announced"] for d in docs[:4]] == ["2019", "2019-02", "2020-02-29", None]
    amounts = [d["money"] and d["money"]["amount"] for d in docs]
    assert amounts[2:6] == ["100", "0", "2500000.5", "-3.25"]
    assert amounts[1] is None  # no currency: no money
    assert docs[0]["created_at"] == "2026-01-02T03:04:05.000120Z"
    assert docs[0]["updated_at"] == "2026-01-02T03:04:05Z"
    assert docs[0]["identifiers"][0] == {"scheme": "doc", "value": AWKWARD}
    stages = [g["stage"] for g in docs[0]["goals"]]
    staged = [s for s in stages if s is not None]
    assert staged and None in stages  # unstaged goals last, on every engine
    assert stages == sorted(staged) + [None] * (len(stages) - len(staged))
    rendered = _database_json(session, "policies", ids[:1])[0]
    assert b"\\u0001\\u0002" in rendered and b"\\b\\t\\n\\u000b\\f\\r" in rendered
    assert "\x7f \u2028 \u2029 中文 😀".encode() in rendered and b'q \\" b \\\\' in rendered


def test_a_misspelt_column_fails_when_the_builders_are_made(session: Session) -> None:
    dialect = session.get_bind().dialect
    for spec in (
        DocumentSpec(Policy, (Text("titel"),)),
        DocumentSpec(Policy, (Reference("x", "policy_id", Actor),)),
        DocumentSpec(Policy, (Embedded("x", PolicyTopic, "policy_id", ("topik",), Text("topic")),)),
    ):
        with pytest.raises(KeyError):
            DocumentPlan(spec)
        with pytest.raises(KeyError):
            documents_sql(spec, dialect)


PIN = 800_000


def _pinned_records(session: Session) -> None:
    """One record of each resource with plain values, for JSON pinned below."""
    _add(session, Source, [{"id": PIN, "slug": "pin-s", "title": "S", "authors": ["A", "B"],
                            **_dates("published", 2), **STAMPS}])  # fmt: skip
    _add(session, Region, [
        {"id": PIN, "slug": "pin-r0", "name": "R0", "kind": "country", "iso_code": "XQ",
         "names": {"en": "R"}, **STAMPS},
        {"id": PIN + 1, "slug": "pin-r1", "name": "R1", "kind": "city", "parent_id": PIN,
         **STAMPS},
    ])  # fmt: skip
    _add(session, Actor, [{"id": PIN, "slug": "pin-a", "name": "A", "kind": "ministry",
                           "region_id": PIN + 1, "aliases": ["a"], **STAMPS}])  # fmt: skip
    _add(session, Policy, [
        {"id": PIN + n, "slug": f"pin-p{n}", "title": f"P{n}", "kind": "plan",
         "status": "in_force", "titles": {"zh": "中"} if n else {},
         "identifiers": [{"value": "1", "scheme": "doc"}] if n else [],
         "money_amount": Decimal("2500000.50") if n else None, "money_currency": "CNY",
         **_dates("announced", n), **STAMPS}
        for n in range(2)
    ])  # fmt: skip
    _add(session, PolicyTopic, [{"policy_id": PIN + 1, "topic": "ai"}])
    _add(session, PolicyActor, [{"id": PIN, "policy_id": PIN + 1, "actor_id": PIN,
                                 "role": "issuer"}])  # fmt: skip
    _add(session, PolicyRegion, [{"id": PIN, "policy_id": PIN + 1, "region_id": PIN + 1,
                                  "role": "jurisdiction"}])  # fmt: skip
    _add(session, PolicyRelation, [{"id": PIN, "policy_id": PIN + 1, "related_policy_id": PIN,
                                    "relation": "implements"}])  # fmt: skip
    _add(session, Goal, [{"id": PIN, "slug": "pin-g", "statement": "G", "policy_id": PIN + 1,
                          "actor_id": PIN, "status": "set", "stage": 1,
                          "target_value": Decimal("0.000001"), "baseline_value": Decimal(100),
                          **_dates("deadline", 1), **STAMPS}])  # fmt: skip
    _add(session, Citation, [
        {"source_id": PIN, "policy_actor_id": PIN, "paragraph": 3, "excerpt": "x"},
        {"source_id": PIN, "policy_id": PIN + 1, "section": "Intro"},
        {"source_id": PIN, "goal_id": PIN, "note": "n"},
    ])  # fmt: skip


# The documents of _pinned_records, as every builder on every engine writes them.
PINNED: dict[tuple[str, int], str] = {
    ("actors", PIN): (
        '{"slug":"pin-a","name":"A","names":{},"aliases":["a"],"kind":"ministry",'
        '"region":"pin-r1","parent":null,"description":null,"identifiers":[],'
        '"citations":[],"id":800000,"created_at":"2026-01-02T03:04:05.000120Z",'
        '"updated_at":"2026-01-02T03:04:05Z","children":[],'
        '"policies":[{"policy":"pin-p1","title":"P1","role":"issuer"}],'
        '"policies_total":1,"goals":[{"slug":"pin-g","statement":"G",'
        '"deadline":"2019-02","stage":1}],"goals_total":1}'
    ),
    ("goals", PIN): (
        '{"slug":"pin-g","statement":"G","policy":"pin-p1","actor":"pin-a","metric":null,'
        '"target_value":"0.000001","unit":null,"baseline_value":"100","baseline_date":null,'
        '"deadline":"2019-02","stage":1,"status":"set","citations":[{"source":"pin-s",'
        '"section":null,"paragraph":null,"excerpt":null,"note":"n","source_title":"S"}],'
        '"id":800000,"created_at":"2026-01-02T03:04:05.000120Z",'
        '"updated_at":"2026-01-02T03:04:05Z","owners":{"policy_title":"P1",'
        '"actor_name":"A"}}'
    ),
    ("policies", PIN): (
        '{"slug":"pin-p0","title":"P0","short_name":null,"titles":{},"kind":"plan",'
        '"status":"in_force","summary":null,"identifiers":[],"announced":"2019",'
        '"in_force_from":null,"in_force_to":null,"money":null,"topics":[],"actors":[],'
        '"regions":[],"related":[],"citations":[],"id":800000,'
        '"created_at":"2026-01-02T03:04:05.000120Z","updated_at":"2026-01-02T03:04:05Z",'
        '"related_from":[{"policy":"pin-p1","title":"P1","role":"implements"}],'
        '"goals":[]}'
    ),
    ("policies", PIN + 1): (
        '{"slug":"pin-p1","title":"P1","short_name":null,"titles":{"zh":"中"},'
        '"kind":"plan","status":"in_force","summary":null,"identifiers":[{"scheme":"doc",'
        '"value":"1"}],"announced":"2019-02","in_force_from":null,"in_force_to":null,'
        '"money":{"amount":"2500000.5","currency":"CNY","approximate":false},'
        '"topics":["ai"],"actors":[{"actor":"pin-a","role":"issuer",'
        '"citations":[{"source":"pin-s","section":null,"paragraph":3,"excerpt":"x",'
        '"note":null,"source_title":"S"}],"actor_name":"A"}],'
        '"regions":[{"region":"pin-r1","role":"jurisdiction","citations":[],'
        '"region_name":"R1"}],"related":[{"policy":"pin-p0","relation":"implements",'
        '"citations":[],"policy_title":"P0"}],"citations":[{"source":"pin-s",'
        '"section":"Intro","paragraph":null,"excerpt":null,"note":null,'
        '"source_title":"S"}],"id":800001,"created_at":"2026-01-02T03:04:05.000120Z",'
        '"updated_at":"2026-01-02T03:04:05Z","related_from":[],"goals":[{"slug":"pin-g",'
        '"statement":"G","deadline":"2019-02","stage":1}]}'
    ),
    ("regions", PIN): (
        '{"slug":"pin-r0","name":"R0","names":{"en":"R"},"aliases":[],"kind":"country",'
        '"iso_code":"XQ","parent":null,"description":null,"citations":[],"id":800000,'
        '"created_at":"2026-01-02T03:04:05.000120Z","updated_at":"2026-01-02T03:04:05Z",'
        '"ancestors":[],"children":[{"slug":"pin-r1","name":"R1","kind":"city",'
        '"iso_code":null}],"policies":[],"policies_total":0}'
    ),
    ("regions", PIN + 1): (
        '{"slug":"pin-r1","name":"R1","names":{},"aliases":[],"kind":"city",'
        '"iso_code":null,"parent":"pin-r0","description":null,"citations":[],"id":800001,'
        '"created_at":"2026-01-02T03:04:05.000120Z","updated_at":"2026-01-02T03:04:05Z",'
        '"ancestors":[{"slug":"pin-r0","name":"R0","kind":"country","iso_code":"XQ"}],'
        '"children":[],"policies":[{"policy":"pin-p1","title":"P1",'
        '"role":"jurisdiction"}],"policies_total":1}'
    ),
    ("sources", PIN): (
        '{"slug":"pin-s","title":"S","publisher":null,"series":null,"authors":["A","B"],'
        '"url":null,"published":"2020-02-29","language":null,"sha256":null,"id":800000,'
        '"created_at":"2026-01-02T03:04:05.000120Z","updated_at":"2026-01-02T03:04:05Z",'
        '"supports":[{"type":"policy_actor","record":"pin-p1","link":"issuer: pin-a",'
        '"section":null,"paragraph":3,"excerpt":"x","note":null},{"type":"policy",'
        '"record":"pin-p1","link":null,"section":"Intro","paragraph":null,"excerpt":null,'
        '"note":null},{"type":"goal","record":"pin-g","link":null,"section":null,'
        '"paragraph":null,"excerpt":null,"note":"n"}],"supports_total":3}'
    ),
}


@pytest.mark.parametrize("resource", list(_READERS))
def test_pinned_documents(session: Session, resource: ResourceName) -> None:
    _pinned_records(session)
    if session.get_bind().dialect.name == "postgresql":
        # Timestamps are written in UTC whatever the session's time zone.
        session.connection().exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Shanghai'")
    ids = [key for name, key in PINNED if name == resource]
    expected = [PINNED[resource, key].encode() for key in ids]
    assert _database_json(session, resource, ids) == expected
    assert _python_json(session, resource, ids) == expected

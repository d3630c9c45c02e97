"""A source embeds the first facts it supports; all of them are paged from /supports."""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import assert_problem
from tests.embedding_limits import embed_at_most

ARTICLE = "digichina-2020-12-21-ai-self-reliance"


def test_supports_pages_through_every_fact(client: TestClient) -> None:
    source = client.get(f"/api/v1/sources/{ARTICLE}").json()
    assert source["supports_total"] == len(source["supports"]) == 229

    paged, url = [], f"/api/v1/sources/{ARTICLE}/supports?limit=50"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == 229
        assert len(body["items"]) <= 50
        paged += body["items"]
        url = body["next"]
    assert paged == source["supports"]  # same facts, same order


def test_a_source_embeds_at_most_the_first_facts(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    embed_at_most(monkeypatch, "sources", 10)
    source = client.get(f"/api/v1/sources/{ARTICLE}").json()
    first = client.get(f"/api/v1/sources/{ARTICLE}/supports?limit=10").json()
    assert source["supports"] == first["items"]
    assert source["supports_total"] == 229


def test_supports_errors(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/sources/no-such-source/supports"), 404)
    bad = assert_problem(client.get(f"/api/v1/sources/{ARTICLE}/supports?cursor=forged"), 400)
    assert bad["errors"][0]["pointer"] == "/query/cursor"
    too_few = assert_problem(client.get(f"/api/v1/sources/{ARTICLE}/supports?limit=0"), 400)
    assert too_few["errors"][0]["pointer"] == "/query/limit"

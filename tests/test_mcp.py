"""The MCP server, through the official SDK's own client: in process, over streamable HTTP
(the /mcp mount, through the app's middleware) and over stdio (`policydb mcp`), on both
engines."""

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import get_session_factory
from app.config import Settings
from app.mcp_server import build_server
from app.services import migrations
from app.services.bundle import import_bundle
from app.services.bundle_files import read_bundle_path
from tests.conftest import SEED, Database, assert_problem

TOOLS = {"search", "get_record", "list_records", "timeline", "graph", "what_supports"}
FUND = "tianjin-100bn-rmb-ai-fund"
SOURCE = "digichina-2020-12-21-ai-self-reliance"


async def _checked(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool; its structured content must validate against its own output schema."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    schema = tools[name].output_schema
    assert schema is not None
    Draft202012Validator(schema).validate(result.structured_content)
    content: dict[str, Any] = result.structured_content
    return content


async def _error(client: Client, name: str, arguments: dict[str, Any]) -> str:
    result: CallToolResult = await client.call_tool(name, arguments)
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


async def exercise(client: Client) -> None:
    """Every tool once, the way an agent would use them."""
    listed = (await client.list_tools()).tools
    assert {tool.name for tool in listed} == TOOLS
    for tool in listed:
        assert tool.output_schema and tool.description and tool.annotations
        assert tool.annotations.read_only_hint is True

    found = await _checked(client, "search", {"q": "Tianjin fund", "types": ["policy"]})
    assert found["items"][0]["slug"] == FUND and found["total"] >= 1
    paged = await _checked(client, "search", {"q": "Tianjin", "limit": 1})
    assert paged["next_cursor"] and len(paged["items"]) == 1
    second = await _checked(
        client, "search", {"q": "Tianjin", "limit": 1, "cursor": paged["next_cursor"]}
    )
    assert second["items"][0] != paged["items"][0]

    record = await _checked(client, "get_record", {"type": "policy", "slug": FUND})
    assert record["record"]["money"]["amount"] == "100000000000"
    excerpts = [c["excerpt"] for a in record["record"]["actors"] for c in a["citations"]]
    assert "Tianjin's government pledged to set up a 100 billion RMB fund" in excerpts

    source = await _checked(client, "get_record", {"type": "source", "slug": SOURCE})
    assert len(source["record"]["supports"]) == 5  # trimmed by default ...
    assert source["truncated"]["supports"] == source["record"]["supports_total"] > 5
    more = await _checked(client, "get_record", {"type": "source", "slug": SOURCE, "max_items": 50})
    assert len(more["record"]["supports"]) == 50  # ... and more on request

    listed_records = await _checked(
        client, "list_records", {"type": "policy", "region": "CN-TJ", "limit": 1}
    )
    assert listed_records["total"] >= 2 and listed_records["next_cursor"]
    assert all(item["record"]["citations"] for item in listed_records["items"])
    rest = await _checked(
        client,
        "list_records",
        {"type": "policy", "region": "CN-TJ", "limit": 50, "cursor": listed_records["next_cursor"]},
    )
    slugs = [i["slug"] for i in listed_records["items"] + rest["items"]]
    assert FUND in slugs and len(slugs) == listed_records["total"] == len(set(slugs))

    events = await _checked(client, "timeline", {"region": "CN-TJ", "date_from": "2019"})
    assert events["items"] and all(e["date"] >= "2019" for e in events["items"])

    graph = await _checked(
        client, "graph", {"root": "actor:ministry-of-education", "depth": 1, "limit": 20}
    )
    assert {"actor:ministry-of-education"} <= {n["id"] for n in graph["nodes"]}
    assert graph["edges"]

    support = await _checked(client, "what_supports", {"type": "policy", "slug": FUND})
    facts = {f["fact"]: f for f in support["facts"]}
    issuer = facts[f"policy {FUND} -> actor tianjin-municipal-government (issuer)"]
    assert issuer["citations"][0]["source"] == SOURCE
    assert all(f["citations"] for f in support["facts"])

    assert "no policy" in await _error(client, "get_record", {"type": "policy", "slug": "nope"})
    assert "kind" in await _error(client, "list_records", {"type": "actor", "kind": ["wizard"]})
    assert "topic" in await _error(client, "list_records", {"type": "policy", "topic": ["x"]})
    assert "status" in await _error(client, "list_records", {"type": "actor", "status": ["x"]})
    assert "region" in await _error(client, "list_records", {"type": "goal", "region": "cn"})
    assert "unknown region" in await _error(
        client, "list_records", {"type": "policy", "region": "atlantis"}
    )
    assert "topic" in await _error(client, "timeline", {"topic": ["x"]})
    assert "depth" in await _error(client, "graph", {"root": "actor:state-council", "depth": 99})
    assert "limit" in await _error(client, "search", {"q": "x", "limit": 10_000})
    assert await _error(client, "search", {"q": '"unclosed'})
    assert await _error(client, "timeline", {"date_from": "someday"})
    assert await _error(client, "list_records", {"type": "policy", "cursor": "forged"})


def _run(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


def test_in_process(database: Database, session_factory: sessionmaker[Session]) -> None:
    server = build_server(Settings(database_url=database.url), lambda: session_factory)

    async def test() -> None:
        async with Client(server) as client:
            await exercise(client)

    _run(test)


def test_tools_answer_what_the_api_answers(
    client: TestClient, database: Database, session_factory: sessionmaker[Session]
) -> None:
    server = build_server(Settings(database_url=database.url), lambda: session_factory)

    async def test() -> None:
        async with Client(server) as mcp:
            got = await _checked(
                mcp, "get_record", {"type": "actor", "slug": "ministry-of-education", "full": True}
            )
            assert got["truncated"] == {}
            api = client.get("/api/v1/actors/ministry-of-education").json()
            assert got["record"] == api

    _run(test)


def test_over_http(app: FastAPI, session_factory: sessionmaker[Session]) -> None:
    """The /mcp mount, through the app's own middleware, with the SDK's HTTP client."""
    app.dependency_overrides[get_session_factory] = lambda: session_factory

    async def test() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as http:
                connection = streamable_http_client("http://testserver/mcp", http_client=http)
                async with Client(connection) as client:
                    await exercise(client)
                # Requests to /mcp carry the API's headers (request id, security headers).
                response = await http.post(
                    "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
                )
                assert "x-request-id" in response.headers

    try:
        _run(test)
    finally:
        app.dependency_overrides.clear()


def test_over_stdio(empty_database: Database) -> None:
    """`policydb mcp` as an agent starts it: a subprocess speaking over stdin/stdout."""
    migrations.upgrade(empty_database.url)
    engine = empty_database.engine()
    try:
        with Session(engine) as session:
            data, source_map = read_bundle_path(SEED)
            import_bundle(session=session, data=data, source_map=source_map, changed_by="seed")
    finally:
        engine.dispose()
    command = str(Path(sys.executable).parent / "policydb")
    parameters = StdioServerParameters(
        command=command, args=["mcp"], env={"POLICYDB_DATABASE_URL": empty_database.url}
    )

    async def test() -> None:
        with anyio.fail_after(120):
            async with Client(parameters) as client:
                await exercise(client)

    _run(test)


def test_not_started_answers_503(app: FastAPI) -> None:
    client = TestClient(app)  # no lifespan: the MCP session manager is not running
    response = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert_problem(response, 503)


def test_an_unmigrated_database_is_a_tool_error_without_sql(empty_database: Database) -> None:
    engine = empty_database.engine()
    factory = sessionmaker(bind=engine)
    server = build_server(Settings(database_url=empty_database.url), lambda: factory)

    async def test() -> None:
        async with Client(server) as client:
            text = await _error(client, "get_record", {"type": "policy", "slug": "x"})
            assert "migrated" in text and "SELECT" not in text

    try:
        _run(test)
    finally:
        engine.dispose()


@pytest.mark.parametrize("limit", [0, 201])
def test_page_sizes_are_the_apis(
    limit: int, database: Database, session_factory: sessionmaker[Session]
) -> None:
    server = build_server(Settings(database_url=database.url), lambda: session_factory)

    async def test() -> None:
        async with Client(server) as client:
            assert await _error(client, "list_records", {"type": "policy", "limit": limit})

    _run(test)


def test_no_event_stream_on_get(client: TestClient) -> None:
    """Stateless JSON answers only: a GET stream would stay open per client (405)."""
    response = client.get("/mcp", headers={"Accept": "text/event-stream"})
    assert response.status_code == 405

"""The limits policydb is measured against.

* ``raw_insert``: the same rows policydb's import wrote, re-inserted with plain
  ``executemany`` in one transaction into a freshly migrated database (same schema, indexes,
  pragmas and foreign-key checks): the most an importer could get out of SQLite here.
* ``raw_query``: a query's SQL run in-process with sqlite3, rows turned into dicts, the
  nested JSON columns parsed and the whole page encoded with ``json.dumps``: what answering
  costs with no HTTP, no framework and no ORM.
* ``floor_app`` / ``fastapi_floor``: an empty ASGI endpoint (and an empty FastAPI route, sync
  like policydb's) served by the same uvicorn under the same load: the HTTP floor.
"""

import json
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

# Parents before children, as the foreign keys want (checks are deferred to the commit
# anyway, for self-references such as regions.parent_id).
TABLE_ORDER = [
    "sources",
    "regions",
    "actors",
    "policies",
    "policy_topics",
    "policy_actors",
    "policy_regions",
    "policy_relations",
    "goals",
    "citations",
]
SKIP_TABLES = {"alembic_version", "api_keys"}
CHUNK = 20_000


def connect(path: Path) -> sqlite3.Connection:
    """A connection with policydb's pragmas (WAL, synchronous=NORMAL, foreign keys on)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def data_tables(con: sqlite3.Connection) -> list[str]:
    """Tables holding imported rows, parents first (virtual tables and their shadows left out:
    whatever fills them, e.g. triggers, fills them on insert)."""
    rows = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in rows if sql and sql.upper().startswith("CREATE VIRTUAL")]
    names = [
        name
        for name, sql in rows
        if name not in SKIP_TABLES
        and not name.startswith("sqlite_")
        and name not in virtual
        and not any(name.startswith(f"{v}_") for v in virtual)
    ]
    known = [t for t in TABLE_ORDER if t in names]
    return known + sorted(set(names) - set(known))


def table_names(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()


def row_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {
            t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in data_tables(con)
        }
    finally:
        con.close()


@dataclass
class InsertResult:
    rows: int
    seconds: float  # time inside executemany and the commit only

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def raw_insert(source: Path, target: Path) -> InsertResult:
    """Copy every data row of ``source`` into the (migrated, empty) ``target``, timed."""
    src = sqlite3.connect(source)
    dst = connect(target)
    rows = 0
    spent = 0.0
    try:
        dst.execute("BEGIN")
        dst.execute("PRAGMA defer_foreign_keys=ON")
        for table in data_tables(src):
            cur = src.execute(f'SELECT * FROM "{table}"')
            columns = ", ".join(f'"{d[0]}"' for d in cur.description)
            marks = ", ".join("?" for _ in cur.description)
            sql = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'
            while chunk := cur.fetchmany(CHUNK):
                start = time.perf_counter()
                dst.executemany(sql, chunk)
                spent += time.perf_counter() - start
                rows += len(chunk)
        start = time.perf_counter()
        dst.execute("COMMIT")
        spent += time.perf_counter() - start
    finally:
        src.close()
        dst.close()
    return InsertResult(rows=rows, seconds=spent)


@dataclass
class LoopResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    body_bytes: int
    rows: list[dict[str, Any]]  # the answer for the first parameter set, to compare

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def answer(
    con: sqlite3.Connection, sql: str, params: dict[str, object], json_columns: tuple[str, ...]
) -> tuple[bytes, list[dict[str, Any]]]:
    """One response body: run the SQL, build dicts, parse nested JSON, encode the page."""
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    for row in rows:
        for column in json_columns:
            if isinstance(row.get(column), str):
                row[column] = json.loads(row[column])
    return json.dumps(rows, ensure_ascii=False).encode(), rows


def raw_query(
    path: Path,
    sql: str,
    param_sets: list[dict[str, object]],
    json_columns: tuple[str, ...],
    *,
    budget_s: float,
) -> LoopResult:
    """Answer the query in a loop for ``budget_s`` seconds (cycling through the parameter
    sets) on one read-only connection in this process."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    latencies: list[float] = []
    body = b""
    try:
        _, rows = answer(con, sql, param_sets[0], json_columns)  # also warms the cache
        start = time.perf_counter()
        deadline = start + budget_s
        i = 0
        while True:
            t0 = time.perf_counter()
            body, _ = answer(con, sql, param_sets[i % len(param_sets)], json_columns)
            t1 = time.perf_counter()
            latencies.append(t1 - t0)
            i += 1
            if t1 >= deadline:
                break
        elapsed = time.perf_counter() - start
    finally:
        con.close()
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    return LoopResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=(q[49] if q else latencies[0]) * 1000,
        p99_ms=(q[98] if q else latencies[0]) * 1000,
        body_bytes=len(body),
        rows=rows,
    )


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def floor_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The HTTP floor: answers every request with ``[]`` and does nothing else."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"[]"})


fastapi_floor = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@fastapi_floor.get("/")
def _empty() -> list[int]:
    """The framework floor: an empty sync route (run in the threadpool, like policydb's)."""
    return []

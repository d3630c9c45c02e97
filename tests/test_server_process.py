"""The server process under load at scale: it must never crash, and a worker that dies is
replaced while the others serve.

The first test is the regression test of a segmentation fault: on a generated database of
40,000 policies (10,000 did not reproduce it), `GET /regions?limit=50` then
`GET /regions?kind=country` killed the server, because each region's document was built from
ORM objects for every linked policy (tens of thousands per request, and a crash inside the
garbage collector). Documents are now built from a few Core queries and hubs embed only their
first links, so the same requests are small and fast.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from app.schemas.links import EMBEDDED_LINKS
from app.services import keys, migrations
from bench.generate import write_bundle
from bench.load import Server, free_port, serve
from bench.soak import LISTS, find_targets, soak, worker_pids
from tests.conftest import ROOT, Database

POLICYDB = str(Path(sys.executable).with_name("policydb"))
CRASHING_SEQUENCE = ["/api/v1/regions?limit=50", "/api/v1/regions?kind=country"]


@dataclass
class Live:
    server: Server
    auth: dict[str, str]

    @property
    def supervisor(self) -> int:
        return self.server.process.pid

    def log(self) -> str:
        return self.server.log.read_text(errors="replace")


def _env(database: Database) -> dict[str, str]:
    return {
        "POLICYDB_DATABASE_URL": database.url,
        "POLICYDB_RATE_LIMIT_PER_SECOND": "0",
        "POLICYDB_SEED_ON_START": "false",
        "PYTHONFAULTHANDLER": "1",
    }


def _load(database: Database, policies: int, tmp: Path) -> dict[str, str]:
    """Migrate, import a generated bundle with the CLI, and make an admin key."""
    bundle = tmp / f"bundle-{policies}.json"
    write_bundle(bundle, policies=policies)
    migrations.upgrade(database.url)
    subprocess.run(
        [POLICYDB, "import", str(bundle)],
        env={**os.environ, **_env(database)},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    engine = database.engine()
    with Session(engine) as session:
        _key, secret = keys.create_key(session=session, name="soak", scope="admin")
    engine.dispose()
    return {"Authorization": f"Bearer {secret}"}


@contextmanager
def _live(database: Database, auth: dict[str, str], tmp: Path, workers: int) -> Iterator[Live]:
    port = free_port()
    argv = [POLICYDB, "serve", "--port", str(port), "--workers", str(workers)]
    with serve(
        "policydb",
        argv,
        port=port,
        ready_path="/readyz",
        log=tmp / "server.log",
        env=_env(database),
        cwd=str(ROOT),
        settle_s=1,
    ) as server:
        live = Live(server, auth)
        deadline = time.monotonic() + 30
        while len(worker_pids(live.supervisor)) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        yield live


@pytest.mark.slow
def test_hub_reads_at_scale_keep_the_server_alive(empty_database: Database, tmp_path: Path) -> None:
    database = empty_database
    # SQLite at the scale that crashed; PostgreSQL (4x slower to import) at a quarter of it.
    auth = _load(database, 40_000 if database.engine_name == "sqlite" else 10_000, tmp_path)
    with _live(database, auth, tmp_path, workers=1) as live:
        worker = worker_pids(live.supervisor)
        with httpx.Client(base_url=live.server.base, timeout=120) as client:
            targets = find_targets(live.server.base, auth)
            paths = [
                *CRASHING_SEQUENCE,
                *(f"/api/v1/{name}?limit=200" for name in LISTS),
                *CRASHING_SEQUENCE,
                *(f"/api/v1/{name}/{targets.keys[name][0]}" for name in LISTS),
                f"/api/v1/regions/{targets.keys['regions'][0]}/policies?limit=1000",
            ]
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200, (path, response.text[:500])
                assert len(response.content) < 8_000_000, path
            hub = client.get(f"/api/v1/regions/{targets.keys['regions'][0]}").json()
            assert len(hub["policies"]) == EMBEDDED_LINKS < hub["policies_total"]
        assert worker_pids(live.supervisor) == worker, "the worker died and was replaced"
        assert "Fatal Python error" not in live.log()
        # The workers' access log: one plain line per request, JSON after the logger's name.
        lines = [line for line in live.log().splitlines() if line.startswith("policydb.access ")]
        assert len(lines) >= len(paths)
        assert all(json.loads(line.split(" ", 1)[1])["status"] == 200 for line in lines[-3:])


def test_a_dead_worker_is_replaced_while_the_others_serve(
    empty_database: Database, tmp_path: Path
) -> None:
    database = empty_database
    auth = _load(database, 100, tmp_path)
    with _live(database, auth, tmp_path, workers=2) as live:
        before = worker_pids(live.supervisor)
        assert len(before) == 2
        environ = Path(f"/proc/{before[0]}/environ").read_bytes().split(b"\0")
        assert b"MALLOC_ARENA_MAX=2" in environ  # unless the caller set it otherwise
        os.kill(before[0], signal.SIGKILL)
        with httpx.Client(base_url=live.server.base, timeout=10) as client:
            for _ in range(20):  # the other worker answers meanwhile
                assert client.get("/api/v1/policies?limit=1").status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            after = worker_pids(live.supervisor)
            if len(after) == 2 and before[0] not in after:
                break
            time.sleep(0.2)
        assert len(after) == 2 and before[0] not in after and before[1] in after
        assert "died" in live.log()


@pytest.mark.slow
def test_a_short_soak_has_no_errors(empty_database: Database, tmp_path: Path) -> None:
    """The benchmark's soak run (bench/soak.py), for half a minute on small data."""
    database = empty_database
    auth = _load(database, 1_000, tmp_path)
    with _live(database, auth, tmp_path, workers=2) as live:
        targets = find_targets(live.server.base, auth)
        result = soak(
            live.server.base,
            supervisor_pid=live.supervisor,
            targets=targets,
            duration_s=30,
            export_every_s=10,
        )
    assert result.errors == 0, result.failures[:10]
    assert result.requests > 100
    assert result.statuses["200"] > result.requests / 2
    assert "Fatal Python error" not in live.log()

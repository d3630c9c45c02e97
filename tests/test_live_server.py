"""A real server in a subprocess: parallel writers, parallel imports, and a crash mid-import."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import keys, migrations
from app.services.bundle import import_bundle
from app.services.bundle_files import read_bundle_path
from tests.conftest import ROOT, SEED, Database

GOAL = "/api/v1/goals/tianjin-ai-hub-2020"


@dataclass
class Server:
    database: Database
    base: str
    auth: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "POLICYDB_DATABASE_URL": self.database.url,
            "POLICYDB_RATE_LIMIT_PER_SECOND": "0",
        }
        port = self.base.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                port,
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(empty_database: Database) -> Iterator[Server]:
    migrations.upgrade(empty_database.url)
    engine = empty_database.engine()
    with Session(engine) as session:
        data, source_map = read_bundle_path(SEED)
        import_bundle(session=session, data=data, source_map=source_map, changed_by="seed")
        _key, secret = keys.create_key(session=session, name="tester", scope="admin")
    engine.dispose()
    live = Server(
        empty_database, f"http://127.0.0.1:{_free_port()}", {"Authorization": f"Bearer {secret}"}
    )
    live.start()
    try:
        yield live
    finally:
        live.stop()


def test_parallel_writers_exactly_one_wins_per_version(server: Server) -> None:
    url = server.base + GOAL
    winners = []
    with httpx.Client(timeout=30) as client:
        for round_ in range(3):
            tag = client.get(url).headers["etag"]

            def attempt(writer: int, tag: str = tag, round_: int = round_) -> tuple[int, str]:
                metric = f"round {round_} writer {writer}"
                response = httpx.patch(
                    url,
                    json={"metric": metric},
                    headers={**server.auth, "If-Match": tag},
                    timeout=30,
                )
                return response.status_code, metric

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(attempt, range(8)))
            statuses = sorted(status for status, _metric in results)
            assert statuses == [200] + [412] * 7, results
            winners.append(next(metric for status, metric in results if status == 200))
            assert client.get(url).json()["metric"] == winners[-1]
        history = client.get(url + "/history").json()["items"]
        updates = [e["fields"]["metric"]["new"] for e in history if e["action"] == "update"]
        assert updates == list(reversed(winners))


def test_parallel_writers_without_if_match_lose_nothing(server: Server) -> None:
    url = server.base + GOAL

    def write(writer: int) -> int:
        return httpx.patch(
            url, json={"unit": f"unit {writer}"}, headers=server.auth, timeout=30
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(write, range(16))) == [200] * 16
    history = httpx.get(url + "/history", params={"limit": 100}).json()["items"]
    news = [e["fields"]["unit"]["new"] for e in history if e["action"] == "update"]
    assert sorted(news) == sorted(f"unit {i}" for i in range(16))  # every change recorded
    assert httpx.get(url).json()["unit"] == news[0]  # the last one recorded is what is stored


def _regions(prefix: str, count: int) -> dict[str, Any]:
    return {
        "regions": [
            {"slug": f"{prefix}-{i}", "name": f"{prefix} {i}", "kind": "city", "parent": "cn"}
            for i in range(count)
        ]
    }


def test_parallel_imports_serialise(server: Server) -> None:
    def load(prefix: str) -> dict[str, Any]:
        response = httpx.post(
            server.base + "/api/v1/import",
            json=_regions(prefix, 60),
            headers=server.auth,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        counts: dict[str, Any] = response.json()["counts"]["regions"]
        return counts

    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(load, ["alpha", "beta", "gamma", "delta"]))
    assert [r["created"] for r in reports] == [60] * 4
    total = httpx.get(server.base + "/api/v1/regions", params={"limit": 0}).json()["total"]
    assert total == 11 + 240
    changes = httpx.get(server.base + "/api/v1/changes", params={"limit": 1000}).json()["items"]
    created = [e for e in changes if e["type"] == "region" and e["action"] == "create"]
    assert len(created) == 11 + 240
    assert [e["id"] for e in changes] == sorted(e["id"] for e in changes)


def _big_bundle(count: int) -> bytes:
    cite = {
        "source": "digichina-2020-12-21-ai-self-reliance",
        "section": "Introduction",
        "paragraph": 1,
    }
    policies = [
        {
            "slug": f"crash-{i:05d}",
            "title": f"Crash test policy {i}",
            "kind": "measure",
            "announced": "2020",
            "topics": ["talent", "research"],
            "actors": [{"actor": "state-council", "role": "issuer", "citations": [cite]}],
            "regions": [{"region": "cn", "role": "jurisdiction", "citations": [cite]}],
            "citations": [cite, cite],
        }
        for i in range(count)
    ]
    return json.dumps({"policies": policies}).encode()


def test_kill_mid_import_leaves_all_or_nothing(server: Server, tmp_path: Path) -> None:
    count = 6000
    body = _big_bundle(count)
    outcome: dict[str, Any] = {}

    def send() -> None:
        try:
            response = httpx.post(
                server.base + "/api/v1/import",
                content=body,
                headers={**server.auth, "Content-Type": "application/json"},
                timeout=120,
            )
            outcome["status"] = response.status_code
        except httpx.TransportError as exc:
            outcome["error"] = type(exc).__name__

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(1.5)  # well into validation and writing, long before the import can finish
    server.kill()
    sender.join(timeout=30)
    assert "error" in outcome, f"the import finished before the kill: {outcome}"

    server.start()
    total = httpx.get(server.base + "/api/v1/policies", params={"limit": 0}).json()["total"]
    assert total in (27, 27 + count)
    history = httpx.get(server.base + "/api/v1/changes", params={"limit": 1000}).json()["items"]
    crash_entries = [e for e in history if e["slug"].startswith("crash-")]
    assert len(crash_entries) == (0 if total == 27 else count)
    engine = server.database.engine()
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            documents = connection.execute(
                text("SELECT count(*) FROM search_documents WHERE record_type = 'policy'")
            ).scalar()
            assert documents == total
    finally:
        engine.dispose()
    again = httpx.post(
        server.base + "/api/v1/import",
        content=_big_bundle(10),
        headers={**server.auth, "Content-Type": "application/json"},
        timeout=60,
    )
    assert again.status_code == 200

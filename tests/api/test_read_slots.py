"""Reads wait for one of the process's read slots (POLICYDB_READ_CONCURRENCY)."""

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.deps import read_slots
from app.config import Settings


def test_defaults_per_engine() -> None:
    settings = Settings(database_url="sqlite://")
    assert read_slots(settings, "postgresql") is None
    sqlite = read_slots(settings, "sqlite")
    assert sqlite is not None and sqlite._value == 4
    pinned = read_slots(Settings(database_url="sqlite://", read_concurrency=5), "postgresql")
    assert pinned is not None and pinned._value == 5


def test_a_read_waits_for_a_free_slot(app: FastAPI, client: TestClient) -> None:
    slots: threading.BoundedSemaphore | None = app.state.read_slots
    if slots is None:  # PostgreSQL: reads are not limited
        assert client.get("/api/v1/policies?limit=1").status_code == 200
        return
    taken = 0
    while slots.acquire(blocking=False):  # every slot busy, as under load
        taken += 1
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(client.get, "/api/v1/policies?limit=1")
            assert not pending.done() and _still_waiting(pending)
            slots.release()
            taken -= 1
            assert pending.result(timeout=10).status_code == 200
    finally:
        for _ in range(taken):
            slots.release()


def _still_waiting(pending: Future[Any], seconds: float = 0.5) -> bool:
    threading.Event().wait(seconds)
    return not pending.done()

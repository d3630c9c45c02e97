"""A soak run: mixed traffic against one live server for a fixed time, counting failures and
watching the memory of its worker processes.

Every list endpoint (plain, at the page-size limit, filtered, streamed as CSV), record GETs
of the largest records, the paged embedded lists, search, facets, timeline and graph, writes
with If-Match, a small import and whole exports, from a few client threads at once. A 5xx, a
dropped connection or a worker that died or was replaced is a failure. Loopback only; every
loop is bounded by the deadline and every request by a timeout.
"""

import itertools
import json
import os
import random
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.load import HOST

LISTS = ("policies", "actors", "regions", "goals", "sources")
_REQUEST_TIMEOUT_S = 120


@dataclass
class Targets:
    """What the traffic asks for: record keys (largest first) and an admin key for writes."""

    keys: dict[str, list[str]]
    auth: dict[str, str]
    goal: str


@dataclass
class SoakResult:
    seconds: float
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    # Worker pid -> (seconds since start, anonymous resident MB, resident MB) samples.
    memory: dict[int, list[tuple[float, float, float]]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return len(self.failures)

    def memory_growth(self, warmup_s: float) -> float | None:
        """The largest rise of a worker's anonymous memory after warm-up, as a fraction:
        the median of the last third of samples over the median of the first third."""
        growths = []
        for samples in self.memory.values():
            after = [anon for t, anon, _rss in samples if t >= warmup_s]
            if len(after) < 6:
                continue
            third = len(after) // 3
            first, last = statistics.median(after[:third]), statistics.median(after[-third:])
            growths.append(last / first - 1)
        return max(growths) if growths else None

    def as_dict(self, warmup_s: float) -> dict[str, Any]:
        peaks = {
            str(pid): {
                "anon_mb_peak": round(max(s[1] for s in samples), 1),
                "rss_mb_peak": round(max(s[2] for s in samples), 1),
            }
            for pid, samples in self.memory.items()
            if samples
        }
        growth = self.memory_growth(warmup_s)
        return {
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "statuses": dict(sorted(self.statuses.items())),
            "errors": self.errors,
            "failures": self.failures[:20],
            "workers": peaks,
            "memory_growth_after_warmup": None if growth is None else round(growth, 3),
            # About 40 samples per worker: (seconds, anonymous MB).
            "memory_samples": {
                str(pid): [
                    (round(t), round(anon, 1))
                    for t, anon, _rss in samples[:: max(1, len(samples) // 40)]
                ]
                for pid, samples in self.memory.items()
            },
        }


def find_targets(base: str, auth: dict[str, str]) -> Targets:
    """Record keys to ask for, the most linked first (the largest documents)."""
    keys: dict[str, list[str]] = {}
    with httpx.Client(base_url=base, timeout=_REQUEST_TIMEOUT_S) as client:
        for name in LISTS:
            items = client.get(f"/api/v1/{name}", params={"limit": 200}).json()["items"]
            size = "policies_total" if name in ("regions", "actors") else None
            if size:
                items.sort(key=lambda item: -int(item[size]))
            keys[name] = [item["slug"] for item in items]
    return Targets(keys=keys, auth=auth, goal=keys["goals"][0])


def worker_pids(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children")
    try:
        pids = [int(p) for p in children.read_text().split()]
    except OSError:
        return []
    # uvicorn's workers, not multiprocessing's resource tracker.
    return [p for p in pids if b"spawn_main" in _cmdline(p)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _memory_mb(pid: int) -> tuple[float, float] | None:
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
    except OSError:
        return None
    return int(fields["RssAnon"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


def _operations(targets: Targets, rng: random.Random) -> list[Callable[[httpx.Client], Any]]:
    keys = targets.keys

    def get(path: str, **params: Any) -> Callable[[httpx.Client], Any]:
        return lambda c: c.get(path, params=params)

    def stream(path: str, **params: Any) -> Callable[[httpx.Client], Any]:
        def run(c: httpx.Client) -> Any:
            with c.stream("GET", path, params=params) as response:
                for _chunk in response.iter_bytes():
                    pass
                return response

        return run

    def record(name: str) -> Callable[[httpx.Client], Any]:
        return lambda c: c.get(f"/api/v1/{name}/{rng.choice(keys[name][:20])}")

    def write(c: httpx.Client) -> Any:
        url = f"/api/v1/goals/{targets.goal}"
        tag = c.get(url).headers["etag"]
        body = {"metric": f"soak {rng.random()}"}
        return c.patch(url, json=body, headers={**targets.auth, "If-Match": tag})

    def small_import(c: httpx.Client) -> Any:
        slug = f"soak-region-{rng.randrange(10**9)}"
        bundle = {"regions": [{"slug": slug, "name": slug.title(), "kind": "other"}]}
        return c.post("/api/v1/import", json=bundle, headers=targets.auth)

    operations: list[Callable[[httpx.Client], Any]] = []
    for name in LISTS:
        operations += [get(f"/api/v1/{name}"), get(f"/api/v1/{name}", limit=200), record(name)]
    operations += [
        get("/api/v1/regions", kind="country", limit=200),
        get("/api/v1/policies", region=keys["regions"][0], limit=200),
        get("/api/v1/policies", facet=["kind", "status"], limit=0),
        get(f"/api/v1/regions/{keys['regions'][0]}/policies", limit=1000),
        get(f"/api/v1/actors/{keys['actors'][0]}/policies", limit=1000),
        get(f"/api/v1/sources/{keys['sources'][0]}/supports", limit=1000),
        get("/api/v1/search", q="policy"),
        get("/api/v1/timeline", limit=200),
        get("/api/v1/graph", root=f"actor:{keys['actors'][0]}"),
        write,
        write,
        small_import,
        stream("/api/v1/policies", region=keys["regions"][-1], format="csv"),
        stream("/api/v1/goals", policy=keys["policies"][0], format="ndjson"),
    ]
    return operations


def soak(
    base: str,
    *,
    supervisor_pid: int,
    targets: Targets,
    duration_s: float,
    clients: int = 4,
    export_every_s: float = 120,
    seed: int = 0,
) -> SoakResult:
    """Run the mixed traffic until ``duration_s`` has passed; sample worker memory every
    second. One whole export runs every ``export_every_s``."""
    assert base.startswith(f"http://{HOST}:"), "the soak only ever targets loopback"
    start = time.monotonic()
    deadline = start + duration_s
    result = SoakResult(seconds=0)
    lock = threading.Lock()
    workers_seen: set[int] = set(worker_pids(supervisor_pid))

    def record(label: str, response: Any, error: str | None = None) -> None:
        with lock:
            result.requests += 1
            status = "error" if response is None else str(response.status_code)
            result.statuses[status] += 1
            if error or status.startswith("5"):
                result.failures.append(f"{label}: {error or status}")

    def client_loop(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        operations = _operations(targets, rng)
        with httpx.Client(base_url=base, timeout=_REQUEST_TIMEOUT_S) as client:
            for _ in itertools.count():
                if time.monotonic() >= deadline:
                    return
                operation = rng.choice(operations)
                label = getattr(operation, "__name__", "request")
                try:
                    record(label, operation(client))
                except httpx.HTTPError as error:
                    record(label, None, f"{type(error).__name__}: {error}")

    def exporter() -> None:
        with httpx.Client(base_url=base, timeout=None) as client:
            next_at = start + export_every_s / 2
            while time.monotonic() < deadline:
                if time.monotonic() >= next_at:
                    try:
                        with client.stream("GET", "/api/v1/export") as response:
                            for _chunk in response.iter_bytes():
                                if time.monotonic() >= deadline + _REQUEST_TIMEOUT_S:
                                    break
                            record("export", response)
                    except httpx.HTTPError as error:
                        record("export", None, f"{type(error).__name__}: {error}")
                    next_at = time.monotonic() + export_every_s
                time.sleep(0.5)

    def sampler() -> None:
        while time.monotonic() < deadline:
            now = time.monotonic() - start
            for pid in worker_pids(supervisor_pid):
                if pid not in workers_seen:
                    with lock:
                        result.failures.append(f"worker {pid} started: one died or hung")
                    workers_seen.add(pid)
                sample = _memory_mb(pid)
                if sample is not None:
                    result.memory.setdefault(pid, []).append((now, *sample))
            time.sleep(1)

    with ThreadPoolExecutor(clients + 2) as pool:
        futures = [pool.submit(client_loop, i) for i in range(clients)]
        futures += [pool.submit(exporter), pool.submit(sampler)]
        for future in futures:
            future.result()
    result.seconds = time.monotonic() - start
    return result


def summary(result: SoakResult, warmup_s: float) -> str:
    return json.dumps(result.as_dict(warmup_s), indent=2)


# --- the benchmark's soak run (python -m bench --soak) ----------------------------------------


def _admin_key(env: dict[str, str]) -> dict[str, str]:
    from bench import run

    created = subprocess.run(
        [run._bin("policydb"), "keys", "create", f"soak-{int(time.time())}", "--scope", "admin"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=run.SOURCE["root"],
    )
    return {"Authorization": f"Bearer {created.stdout.split()[-1]}"}


def _soak_one(
    engine: str, database_url: str, bundle: Path, duration_s: float, work: Path
) -> dict[str, Any]:
    from bench import run

    env = run._env(database_url)
    run.upgrade(env)
    imported = run.timed_import(bundle, env, work / f"soak-import-{engine}.log", 3600)
    if not imported["finished"]:
        return {"engine": engine, "import": imported, "finished": False}
    auth = _admin_key(env)
    with run.serve_policydb(database_url, work, workers=2, name=f"soak-{engine}") as server:
        targets = find_targets(server.base, auth)
        run.say(f"  {engine}: soaking for {duration_s:.0f}s with 2 workers")
        result = soak(
            server.base,
            supervisor_pid=server.process.pid,
            targets=targets,
            duration_s=duration_s,
        )
        crashed = "Fatal Python error" in server.log.read_text(errors="replace")
    warmup = min(60.0, duration_s / 4)
    summary = {"engine": engine, "finished": True, "crashed": crashed, "warmup_s": warmup}
    summary |= result.as_dict(warmup)
    run.say(
        f"  {engine}: {summary['requests']} requests, {summary['errors']} errors, "
        f"memory growth after warm-up {summary['memory_growth_after_warmup']}"
    )
    return summary


def run_soak(
    label: str, policies: int, *, duration_s: float, postgres_url: str | None, seed: int
) -> dict[str, Any]:
    """The soak at one scale, on SQLite and (unless None) PostgreSQL; stored in results.json
    under ``soak`` and shown in RESULTS.md."""
    from bench import generate, run

    run.say(f"== soak at {label} ({duration_s:.0f}s per engine)")
    bundle = generate.ensure_bundle(run.DATA_DIR, policies=policies, seed=seed)
    work = run.WORK_DIR / f"soak-{label}"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "soak.sqlite3"
    for leftover in work.glob("soak.sqlite3*"):
        leftover.unlink()
    engines = {"sqlite": _soak_one("sqlite", run.sqlite_url(db), bundle, duration_s, work)}
    for leftover in work.glob("soak.sqlite3*"):
        leftover.unlink()
    if postgres_url:
        name = urlsplit(postgres_url).path.lstrip("/") + "_soak"
        url = urlunsplit(urlsplit(postgres_url)._replace(path="/" + name))
        run._pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        run._pg_admin(url, f'CREATE DATABASE "{name}"')
        try:
            engines["postgresql"] = _soak_one("postgresql", url, bundle, duration_s, work)
        finally:
            run._pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results = run.load_results()
    results["soak"] = {"scale": label, "commit": run.SOURCE["commit"], "engines": engines}
    run.save_results(results)
    return results

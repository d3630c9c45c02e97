"""The benchmark run: generate, import, serve, load, compare; results go to results.json."""

import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench import generate, limits, load
from bench.queries import Fixture, Query

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
WORK_DIR = BENCH_DIR / "work"
RESULTS_JSON = WORK_DIR / "results.json"
DATASETTE_DB = "policydb"  # Datasette names a database after its file's stem
FIXTURE_SLUGS = 200  # policies the single-record query cycles through

SCALES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def parse_scale(text: str) -> tuple[str, int]:
    label = text.strip().lower()
    if label in SCALES:
        return label, SCALES[label]
    number = int(label.replace("_", ""))
    for name, value in SCALES.items():
        if value == number:
            return name, value
    return str(number), number


@dataclass
class Options:
    scales: list[tuple[str, int]]
    seed: int
    load: load.LoadSettings
    query_budget_s: float
    import_timeout_s: float
    queries: list[Query]
    postgres_url: str | None
    postgres_scale: str | None
    workers_scale: str | None
    keep: bool
    table_view: bool = False  # also load Datasette's table view (flat rows) where it applies
    log: list[str] = field(default_factory=list)


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        sys.exit(f"bench: {name} not found; install the project with `pip install -e '.[bench]'`")
    return found


# Where the measured policydb comes from: this checkout, or an export of one commit.
SOURCE: dict[str, str] = {"root": str(ROOT), "commit": ""}


def use_commit(rev: str) -> None:
    """Measure policydb as of commit ``rev``: export it (read-only `git archive`) to a temporary
    folder, and run every policydb process there with that folder first on its PYTHONPATH."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Outside bench/, so that neither mypy nor pytest ever sees the exported copy.
    target = Path(tempfile.gettempdir()) / f"policydb-bench-src-{sha[:12]}"
    if not (target / "app").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "archive",
                sha,
                "app",
                "migrations",
                "seed_data",
                "alembic.ini",
            ],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    SOURCE.update(root=str(target), commit=sha[:12])


def _env(database_url: str) -> dict[str, str]:
    env = {
        "POLICYDB_DATABASE_URL": database_url,
        "POLICYDB_SEED_ON_START": "false",
        # wrk is one client: policydb's per-client rate limit would answer it with 429s.
        "POLICYDB_RATE_LIMIT_PER_SECOND": "0",
    }
    if SOURCE["commit"]:
        env["PYTHONPATH"] = SOURCE["root"]
    return env


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


# --- results store ----------------------------------------------------------------------------


def load_results() -> dict[str, Any]:
    if RESULTS_JSON.exists():
        data: dict[str, Any] = json.loads(RESULTS_JSON.read_text())
        return data
    return {}


def save_results(results: dict[str, Any]) -> None:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS_JSON.with_suffix(".part")
    tmp.write_text(json.dumps(results, indent=1))  # key order kept: the query order
    tmp.replace(RESULTS_JSON)


def environment(wrk: str) -> dict[str, Any]:
    def version(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        return (
            (done.stdout or done.stderr).strip().splitlines()[0]
            if done.stdout or done.stderr
            else "?"
        )

    if SOURCE["commit"]:
        commit = f"{SOURCE['commit']} (exported with --at-commit)"
    else:
        head = version(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"])
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "app", "migrations"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        commit = head + (" + uncommitted changes in app/ or migrations/" if dirty else "")
    return {
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": version([wrk, "-v"]),
        "datasette": version([_bin("datasette"), "--version"]),
    }


# --- import -----------------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def timed_import(bundle: Path, env: dict[str, str], log: Path, timeout_s: float) -> dict[str, Any]:
    """Run `policydb import BUNDLE` in a child process: wall time, peak RSS (``ru_maxrss``)
    and RSS sampled every second. An import past ``timeout_s`` is stopped; one that dies
    (killed, or an error) is reported as not finished, with how it ended."""
    log.parent.mkdir(parents=True, exist_ok=True)
    samples: list[tuple[float, float]] = []  # (seconds, RSS MB)
    ended = "finished"
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            [_bin("policydb"), "import", str(bundle)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            cwd=SOURCE["root"],
        )
        next_sample = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.perf_counter() - start
            if elapsed >= next_sample:
                samples.append((round(elapsed, 1), round(_rss_mb(process.pid), 1)))
                next_sample += 1.0
            if elapsed > timeout_s:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                ended = f"stopped after {timeout_s:.0f}s"
                break
            time.sleep(0.2)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if ended == "finished" and code != 0:
        ended = f"killed by signal {-code}" if code < 0 else f"failed with exit code {code}"
        tail = log.read_text(errors="replace")[-1500:]
        say(f"  ! policydb import {ended} after {seconds:.0f}s; see {log}\n{tail}")
    step = max(1, len(samples) // 60)  # keep about 60 samples
    return {
        "finished": ended == "finished",
        "ended": ended,
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "rss_samples": samples[::step],
    }


def upgrade(env: dict[str, str]) -> None:
    subprocess.run(
        [_bin("policydb"), "db", "upgrade"],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
        cwd=SOURCE["root"],
    )


def checkpoint(db: Path) -> None:
    """Fold the WAL into the file: Datasette's immutable mode reads the main file only."""
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


# --- fixture and equivalence ---------------------------------------------------------------------


def make_fixture(db: Path, seed: int) -> Fixture:
    con = sqlite3.connect(db)
    try:
        (count,) = con.execute("SELECT count(*) FROM policies").fetchone()
        step = max(1, count // FIXTURE_SLUGS)
        slugs = [
            row[0]
            for row in con.execute(
                "SELECT slug FROM policies WHERE (id - 1) % ? = 0 ORDER BY id LIMIT ?",
                (step, FIXTURE_SLUGS),
            )
        ]
        row = con.execute("SELECT id FROM policies ORDER BY id DESC LIMIT 1 OFFSET 199").fetchone()
        before_id = row[0] if row else 1
    finally:
        con.close()
    return Fixture(
        slugs=slugs,
        kind=generate.FILTER_KIND,
        region=generate.filter_region(seed),
        word=generate.SEARCH_WORD,
        before_id=before_id,
        deep_cursor=None,
        timeline_from="2020",
    )


def with_deep_cursor(server: load.Server, fx: Fixture) -> Fixture:
    """Ask policydb for the page after the newest 200 policies: its `next` cursor."""
    status, body = first_answer(server, "/api/v1/policies?sort=-id&limit=200&count=false")
    if status != 200 or not isinstance(body, dict) or not body.get("next"):
        return replace(fx, deep_cursor=None)
    cursor = parse_qs(urlsplit(body["next"]).query).get("cursor", [None])[0]
    return replace(fx, deep_cursor=cursor)


def first_answer(server: load.Server, path: str, patience_s: float = 10) -> tuple[int, Any]:
    """The first answer to ``path``; a 5xx is retried for a few seconds (a worker starting)."""
    deadline = time.monotonic() + patience_s
    while True:
        status, body = server.get_json(path)
        if status < 500 or time.monotonic() > deadline:
            return status, body
        time.sleep(0.5)


def _slugs(body: Any) -> list[str] | None:
    """The policy slugs of an answer, in order (None when the answer has none)."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        body = body["items"]
        if all(isinstance(r, dict) and isinstance(r.get("record"), dict) for r in body):
            body = [r["record"] for r in body]  # timeline events
    elif isinstance(body, dict) and "slug" in body:
        body = [body]
    if isinstance(body, list) and all(isinstance(r, dict) and "slug" in r for r in body):
        return [str(r["slug"]) for r in body]
    return None


# --- one scale ----------------------------------------------------------------------------------


def _wrk(wrk: str, server: load.Server, paths: list[str], opts: Options) -> dict[str, Any]:
    result = load.run_wrk(wrk, server.base, paths, opts.load)
    if result.non_2xx or result.socket_errors:
        say(f"    ! {server.name}: {result.non_2xx} non-2xx, {result.socket_errors} socket errors")
    return result.as_dict()


def policydb_queries(
    server: load.Server, fx: Fixture, queries: list[Query], opts: Options, wrk: str
) -> dict[str, dict[str, Any]]:
    """Load every query that policydb answers; the others are marked not available."""
    out: dict[str, dict[str, Any]] = {}
    for query in queries:
        paths = query.policydb_paths(fx)
        entry: dict[str, Any] = {"path": paths[0] if paths else query.policydb}
        if not paths:
            entry.update(available=False, status=0, reason="no cursor from policydb")
            say(f"  {server.name} {query.name}: not run ({entry['reason']})")
            out[query.name] = entry
            continue
        status, body = first_answer(server, paths[0])
        entry["status"] = status
        if status != 200:
            entry["available"] = False
            detail = body.get("detail") if isinstance(body, dict) else None
            entry["reason"] = f"HTTP {status}" + (f": {detail}" if detail else "")
            if status not in (400, 404):
                entry["error"] = True
            what = "not available yet" if status in (400, 404) else "error"
            say(f"  {server.name} {query.name}: {what} ({entry['reason']})")
            out[query.name] = entry
            continue
        entry["available"] = True
        entry["slugs"] = _slugs(body)
        entry["result"] = _wrk(wrk, server, paths, opts)
        r = entry["result"]
        say(f"  {server.name} {query.name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms")
        out[query.name] = entry
    return out


def datasette_queries(
    server: load.Server, fx: Fixture, queries: list[Query], opts: Options, wrk: str
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for query in queries:
        entry: dict[str, Any] = {}
        for kind, paths in (
            ("canned", query.datasette_paths(fx, DATASETTE_DB)),
            ("table", query.datasette_table_paths(fx, DATASETTE_DB) if opts.table_view else []),
        ):
            if not paths:
                continue
            status, body = server.get_json(paths[0])
            if status != 200:
                error = body.get("error") if isinstance(body, dict) else None
                entry[kind] = {"path": paths[0], "error": f"HTTP {status}: {error}"}
                say(f"  ! datasette {query.name} ({kind}) answered {status}: {error}")
                continue
            entry[kind] = {"path": paths[0], "slugs": _slugs(body)}
            entry[kind]["result"] = _wrk(wrk, server, paths, opts)
            r = entry[kind]["result"]
            say(
                f"  datasette {query.name} ({kind}): {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms"
            )
        out[query.name] = entry
    return out


def raw_queries(
    db: Path, fx: Fixture, queries: list[Query], opts: Options
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for query in queries:
        result = limits.raw_query(
            db, query.sql, query.sql_params(fx), query.json_columns, budget_s=opts.query_budget_s
        )
        out[query.name] = {
            "rps": result.rps,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "body_bytes": result.body_bytes,
            "slugs": _slugs(result.rows),
        }
        say(f"  raw {query.name}: {result.rps:.0f} req/s, p50 {result.p50_ms:.2f} ms")
    return out


def serve_policydb(database_url: str, work: Path, workers: int = 1, name: str = "policydb") -> Any:
    port = load.free_port()
    argv = [_bin("policydb"), "serve", "--host", load.HOST, "--port", str(port)]
    argv += ["--workers", str(workers)]
    return load.serve(
        name,
        argv,
        port=port,
        ready_path="/readyz",
        log=work / f"{name}-w{workers}.log",
        env=_env(database_url),
        cwd=SOURCE["root"],
        settle_s=3 if workers > 1 else 0,
    )


def serve_datasette(db: Path, work: Path, queries: list[Query], opts: Options) -> Any:
    inspect = work / "inspect.json"
    subprocess.run(
        [_bin("datasette"), "inspect", str(db), "--inspect-file", str(inspect)],
        check=True,
        capture_output=True,
    )
    metadata = {"databases": {DATASETTE_DB: {"queries": {q.name: {"sql": q.sql} for q in queries}}}}
    metadata_path = work / "datasette-metadata.json"
    metadata_path.write_text(json.dumps(metadata, indent=1))
    port = load.free_port()
    argv = [
        _bin("datasette"),
        "serve",
        "-i",
        str(db),
        "--inspect-file",
        str(inspect),
        "--metadata",
        str(metadata_path),
        "--setting",
        "suggest_facets",
        "off",
        "--setting",
        "sql_time_limit_ms",
        str(opts.load.timeout_s * 1000),
        "--setting",
        "default_page_size",
        "50",
        "--host",
        load.HOST,
        "--port",
        str(port),
    ]
    return load.serve(
        "datasette", argv, port=port, ready_path="/-/versions.json", log=work / "datasette.log"
    )


def _compare(pdb: dict[str, Any], ds: dict[str, Any], raw: dict[str, Any]) -> None:
    """Flag answers whose policy slugs differ (same order) between the three."""
    for name, entry in pdb.items():
        if not entry.get("available"):
            continue
        mine = entry.get("slugs")
        theirs = ds.get(name, {}).get("canned", {}).get("slugs")
        limit = raw.get(name, {}).get("slugs")
        entry["same_as_datasette"] = None if mine is None or theirs is None else mine == theirs
        entry["same_as_raw"] = None if mine is None or limit is None else mine == limit
        if entry["same_as_datasette"] is False or entry["same_as_raw"] is False:
            say(f"  ! {name}: policydb's answer differs from the SQL's (see results.json)")


def run_scale(label: str, n: int, opts: Options, wrk: str, results: dict[str, Any]) -> None:
    say(f"== scale {label}: {n} policies")
    bundle = generate.ensure_bundle(DATA_DIR, policies=n, seed=opts.seed)
    work = WORK_DIR / label
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "policydb.sqlite3"
    env = _env(sqlite_url(db))
    entry: dict[str, Any] = {
        "commit": results.get("env", {}).get("commit"),
        "policies": n,
        "seed": opts.seed,
        "bundle_mb": bundle.stat().st_size / 2**20,
        "load": asdict(opts.load),
    }
    results.setdefault("scales", {})[label] = entry

    upgrade(env)
    say(f"  importing {bundle.name} ({entry['bundle_mb']:.0f} MB) with `policydb import` ...")
    imported = timed_import(bundle, env, work / "import.log", opts.import_timeout_s)
    counts = limits.row_counts(db) if imported["finished"] else {}
    imported["records"] = generate.record_count(n)
    imported["rows"] = sum(counts.values())
    imported["row_counts"] = counts
    imported["records_per_s"] = imported["records"] / imported["seconds"]
    imported["rows_per_s"] = imported["rows"] / imported["seconds"]
    entry["import"] = imported
    save_results(results)
    if not imported["finished"]:
        say(
            f"  import {imported['ended']} (< {imported['records_per_s']:.0f} records/s, "
            f"peak RSS {imported['peak_rss_mb']:.0f} MB); stopping at this scale"
        )
        return
    say(
        f"  import: {imported['seconds']:.1f}s, {imported['records_per_s']:.0f} records/s, "
        f"{imported['rows_per_s']:.0f} rows/s, peak {imported['peak_rss_mb']:.0f} MB"
    )

    raw_db = work / "raw-insert.sqlite3"
    upgrade(_env(sqlite_url(raw_db)))
    raw = limits.raw_insert(db, raw_db)
    entry["raw_insert"] = {"rows": raw.rows, "seconds": raw.seconds, "rows_per_s": raw.rows_per_s}
    for leftover in work.glob("raw-insert.sqlite3*"):
        leftover.unlink()
    say(f"  raw executemany: {raw.rows} rows in {raw.seconds:.2f}s = {raw.rows_per_s:.0f} rows/s")
    save_results(results)

    checkpoint(db)
    fx = make_fixture(db, opts.seed)
    queries = [q.resolved(limits.table_names(db)) for q in opts.queries]
    results["queries"] = {
        q.name: {"title": q.title, "policydb": q.policydb, "note": q.note, "sql": q.sql}
        for q in queries
    }
    with serve_policydb(sqlite_url(db), work) as server:
        fx = with_deep_cursor(server, fx)
        pdb = policydb_queries(server, fx, queries, opts, wrk)
    checkpoint(db)
    with serve_datasette(db, work, queries, opts) as server:
        ds = datasette_queries(server, fx, queries, opts, wrk)
    raw_q = raw_queries(db, fx, queries, opts)
    _compare(pdb, ds, raw_q)
    entry["fixture"] = {k: v for k, v in asdict(fx).items() if k != "slugs"}
    entry["queries"] = {"policydb": pdb, "datasette": ds, "raw": raw_q}
    save_results(results)

    if opts.workers_scale == label:
        with serve_policydb(sqlite_url(db), work, workers=2, name="policydb-2w") as server:
            say("  policydb with 2 workers:")
            two = policydb_queries(server, with_deep_cursor(server, fx), queries, opts, wrk)
        results["workers"] = {
            "scale": label,
            "1": {k: v.get("result") for k, v in pdb.items()},
            "2": {k: v.get("result") for k, v in two.items()},
        }
        save_results(results)
    if opts.postgres_url and opts.postgres_scale == label:
        results["postgres"] = run_postgres(label, n, bundle, fx, queries, opts, wrk, work)
        save_results(results)
    if not opts.keep:
        for leftover in work.glob("policydb.sqlite3*"):
            leftover.unlink()


# --- PostgreSQL -----------------------------------------------------------------------------------


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(statement.encode())


def settle_postgres(url: str) -> None:
    """VACUUM (ANALYZE) the freshly imported database, as autovacuum would soon after: until
    then no page is marked all-visible, so every index-only scan (the paging and filter
    queries) also reads the table, and the planner has no statistics. Like the SQLite
    checkpoint, this measures the database in its steady state, not minutes after a load."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        con.autocommit = True
        con.execute("VACUUM (ANALYZE)")


def run_postgres(
    label: str,
    n: int,
    bundle: Path,
    fx: Fixture,
    queries: list[Query],
    opts: Options,
    wrk: str,
    work: Path,
) -> dict[str, Any]:
    assert opts.postgres_url
    url = opts.postgres_url
    name = urlsplit(url).path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    say(f"  PostgreSQL ({url}): import and serve")
    _pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(url, f'CREATE DATABASE "{name}"')
    try:
        env = _env(url)
        upgrade(env)
        imported = timed_import(bundle, env, work / "import-postgres.log", opts.import_timeout_s)
        imported["records"] = generate.record_count(n)
        imported["records_per_s"] = imported["records"] / imported["seconds"]
        if not imported["finished"]:
            return {"scale": label, "import": imported, "queries": {}}
        seconds, peak = imported["seconds"], imported["peak_rss_mb"]
        say(f"  PostgreSQL import: {seconds:.1f}s, peak {peak:.0f} MB")
        settle_postgres(url)
        with serve_policydb(url, work, name="policydb-postgres") as server:
            answers = policydb_queries(server, with_deep_cursor(server, fx), queries, opts, wrk)
        return {"scale": label, "import": imported, "queries": answers}
    finally:
        if not opts.keep:
            _pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- floor ----------------------------------------------------------------------------------------


def run_floor(opts: Options, wrk: str, results: dict[str, Any]) -> None:
    say("== HTTP floor (same uvicorn, same load)")
    floor: dict[str, Any] = {}
    for name, target in (
        ("asgi", "bench.limits:floor_app"),
        ("fastapi", "bench.limits:fastapi_floor"),
    ):
        port = load.free_port()
        argv = [sys.executable, "-m", "uvicorn", target, "--host", load.HOST, "--port", str(port)]
        with load.serve(
            f"floor-{name}", argv, port=port, ready_path="/", log=WORK_DIR / f"floor-{name}.log"
        ) as server:
            floor[name] = _wrk(wrk, server, ["/"], opts)
        say(f"  {name}: {floor[name]['rps']:.0f} req/s, p50 {floor[name]['p50_ms']:.2f} ms")
    results["floor"] = floor
    save_results(results)


def run(opts: Options, *, fresh: bool) -> dict[str, Any]:
    wrk = load.ensure_wrk()
    results = {} if fresh else load_results()
    results["env"] = environment(wrk)
    run_floor(opts, wrk, results)
    for label, n in opts.scales:
        run_scale(label, n, opts, wrk, results)
    return results

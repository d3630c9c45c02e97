"""`python -m bench`: the policydb benchmark (see bench/README.md).

Generates bundles, imports them with `policydb import`, serves the database with policydb and
with Datasette, loads both with wrk on loopback, measures the limits, and writes
bench/RESULTS.md.
"""

import argparse
import signal
import sys
from pathlib import Path

from bench import generate, load, report, run, soak
from bench.queries import QUERIES, QUERY_NAMES

DEFAULT_SCALES = "1k,10k"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/policydb_bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark policydb: import rate, and queries against Datasette and the "
        "raw limits. Results: bench/RESULTS.md (and bench/work/results.json).",
    )
    parser.add_argument(
        "--scales",
        default=DEFAULT_SCALES,
        help=f"comma-separated: 1k, 10k, 100k, 1m or a number (default {DEFAULT_SCALES})",
    )
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--queries", default=",".join(QUERY_NAMES), help="comma-separated subset of queries"
    )
    parser.add_argument(
        "--import-timeout",
        type=float,
        default=900,
        help="seconds an import may take before it is stopped and the scale skipped",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="database URL for the PostgreSQL run (created and dropped by the bench)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL run")
    parser.add_argument(
        "--postgres-scale",
        help="scale of the PostgreSQL run (default: the largest selected scale up to 10k)",
    )
    parser.add_argument(
        "--workers-scale", help="scale of the 1-vs-2-worker run (default: the largest selected)"
    )
    parser.add_argument("--no-workers", action="store_true", help="skip the 2-worker run")
    parser.add_argument(
        "--fresh", action="store_true", help="forget results of earlier runs at other scales"
    )
    parser.add_argument(
        "--datasette-table-view",
        action="store_true",
        help="also load Datasette's table view (flat rows) for get, page and deep",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the SQLite databases under bench/work/ and the PostgreSQL database",
    )
    parser.add_argument(
        "--generate-only",
        metavar="DIR",
        type=Path,
        help="only write the bundles of --scales into DIR and exit",
    )
    parser.add_argument(
        "--at-commit",
        metavar="REV",
        help="measure policydb as of this commit (exported with git archive to a temporary "
        "folder), not the working tree",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="only rewrite RESULTS.md from results.json"
    )
    parser.add_argument(
        "--soak",
        action="store_true",
        help="only the soak run: mixed reads, writes, imports and exports against 2 workers "
        "at the (single) scale of --scales, on SQLite and PostgreSQL",
    )
    parser.add_argument(
        "--soak-duration", type=float, default=300, help="seconds of soak per engine"
    )
    args = parser.parse_args(argv)
    # A SIGTERM unwinds like Ctrl-C, so that every server started here is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    scales = [run.parse_scale(s) for s in args.scales.split(",") if s.strip()]
    if args.generate_only:
        for label, n in scales:
            path = args.generate_only / f"bundle-{label}.json"
            counts = generate.write_bundle(path, policies=n, seed=args.seed)
            print(f"{path}: {counts}")
        return 0
    if args.soak:
        if len(scales) != 1:
            parser.error("--soak runs at one scale: give --scales a single value")
        ((label, n),) = scales
        if args.at_commit:
            run.use_commit(args.at_commit)
        results = soak.run_soak(
            label,
            n,
            duration_s=args.soak_duration,
            postgres_url=None if args.no_postgres else args.postgres,
            seed=args.seed,
        )
    elif not args.report_only:
        wanted = [q.strip() for q in args.queries.split(",") if q.strip()]
        unknown = sorted(set(wanted) - set(QUERY_NAMES))
        if unknown:
            parser.error(f"unknown queries {unknown}; known: {', '.join(QUERY_NAMES)}")
        labels = [label for label, _ in scales]
        small = [label for label, n in scales if n <= 10_000]
        pg_scale = args.postgres_scale or (small[-1] if small else labels[0])
        options = run.Options(
            scales=scales,
            seed=args.seed,
            load=load.LoadSettings(
                duration_s=args.duration,
                connections=args.connections,
                threads=args.threads,
                warmup_s=args.warmup,
            ),
            query_budget_s=min(1.5, float(args.duration)),
            import_timeout_s=args.import_timeout,
            queries=[q for q in QUERIES if q.name in wanted],
            postgres_url=None if args.no_postgres else args.postgres,
            postgres_scale=pg_scale,
            workers_scale=None if args.no_workers else (args.workers_scale or labels[-1]),
            keep=args.keep,
            table_view=args.datasette_table_view,
        )
        if args.at_commit:
            run.use_commit(args.at_commit)
        results = run.run(options, fresh=args.fresh)
    else:
        results = run.load_results()
        if not results:
            print("bench: no results yet; run `python -m bench` first", file=sys.stderr)
            return 1
    results_md = run.BENCH_DIR / "RESULTS.md"
    if args.soak and not results.get("scales") and results_md.exists():
        text = report.with_soak(results_md.read_text(encoding="utf-8"), results["soak"])
    else:
        text = report.render(results)
    results_md.write_text(text.rstrip("\n") + "\n")
    print(text)
    print(f"\nwritten: {run.BENCH_DIR / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn results.json into bench/RESULTS.md (and print it)."""

from pathlib import Path
from typing import Any

from bench.queries import QUERY_NAMES

NOTES = Path(__file__).with_name("NOTES.md")  # the analysis, appended to RESULTS.md

TARGETS = (
    "Targets: policydb >= 1.0x Datasette's throughput at 100k and 1M; p50 at 1M within 2x of "
    "10k; import >= 25% of the raw insert rate, with flat peak memory."
)


def _n(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _x(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.01x" if value < 0.01 else f"{value:.2f}x"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def _scale_key(label: str) -> int:
    return {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}.get(
        label, int(label) if label.isdigit() else 0
    )


def combined_limit(raw_rps: float | None, floor_rps: float | None) -> float | None:
    """Requests/s if each request cost the raw query plus the empty HTTP round trip."""
    if not raw_rps or not floor_rps:
        return None
    return 1 / (1 / raw_rps + 1 / floor_rps)


def _load(r: dict[str, Any] | None) -> list[str]:
    """req/s, p50 and p99 of a wrk run; a run in which no request finished says so."""
    if not r:
        return ["–", "–", "–"]
    if not r.get("requests"):
        return ["0", f"> {r.get('seconds', 0):.0f} s", "–"]
    bad = r.get("non_2xx", 0) + r.get("socket_errors", 0)
    flag = f" ({bad} errors)" if bad else ""
    return [_n(r["rps"]) + flag, _ms(r["p50_ms"]), _ms(r["p99_ms"])]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(results: dict[str, Any]) -> str:
    env = results.get("env", {})
    scales: dict[str, Any] = results.get("scales", {})
    labels = sorted(scales, key=_scale_key)
    known = {name: i for i, name in enumerate(QUERY_NAMES)}
    queries: dict[str, Any] = dict(
        sorted(results.get("queries", {}).items(), key=lambda kv: known.get(kv[0], len(known)))
    )
    floor = results.get("floor", {})
    floor_rps = floor.get("asgi", {}).get("rps")
    out: list[str] = ["# policydb benchmark results", ""]
    out.append(
        f"Written by `python -m bench` ({env.get('date', '?')}) for policydb at commit "
        f"{env.get('commit', '?')}: {env.get('cpus', '?')} CPUs "
        f"({env.get('machine', '?')}), Python {env.get('python', '?')}, SQLite "
        f"{env.get('sqlite', '?')}, {env.get('wrk', 'wrk ?')}, {env.get('datasette', '?')}. "
        "Loopback only; servers run one at a time. See bench/README.md for what each number "
        "means and how to run it."
    )
    if labels:
        load = scales[labels[-1]].get("load", {})
        out.append(
            f"Load: `wrk -t{load.get('threads')} -c{load.get('connections')} "
            f"-d{load.get('duration_s')}s --latency` after a {load.get('warmup_s')}s warm-up, "
            "per query and server; one uvicorn worker unless said otherwise."
        )
    out += ["", TARGETS, ""]

    # Import
    out += ["## Import", ""]
    rows = []
    for label in labels:
        s = scales[label]
        imp = s.get("import", {})
        raw = s.get("raw_insert", {})
        done = imp.get("finished", False)
        rows.append(
            [
                label,
                _n(imp.get("records")),
                _n(imp.get("rows")) if done else "–",
                f"{imp.get('seconds', 0):,.1f} s"
                + ("" if done else f" ({imp.get('ended', 'stopped')})"),
                ("" if done else "< ") + _n(imp.get("records_per_s")),
                _n(imp.get("rows_per_s")) if done else "–",
                _n(imp.get("peak_rss_mb")) + " MB",
                _n(raw.get("rows_per_s")),
                f"{100 * imp['rows_per_s'] / raw['rows_per_s']:.1f}%"
                if done and raw.get("rows_per_s")
                else "–",
            ]
        )
    out += _table(
        [
            "scale",
            "records",
            "rows written",
            "policydb import",
            "records/s",
            "rows/s",
            "peak RSS",
            "raw executemany rows/s",
            "import/raw",
        ],
        rows,
    )
    out += [""]

    # Per scale
    for label in labels:
        s = scales[label]
        q = s.get("queries")
        if not q:
            continue
        out += [f"## Queries at {label} ({s['policies']:,} policies)", ""]
        rows = []
        for name in queries:
            pdb = q["policydb"].get(name, {})
            ds = q["datasette"].get(name, {}).get("canned", {}).get("result", {})
            raw = q["raw"].get(name, {})
            limit = combined_limit(raw.get("rps"), floor_rps)
            if pdb.get("available"):
                r = pdb["result"]
                mine = _load(r)
                vs = [_x(_ratio(r["rps"], ds.get("rps"))), _x(_ratio(r["rps"], limit))]
            else:
                mine = [f"not available yet ({pdb.get('reason', '?')})", "", ""]
                vs = ["–", "–"]
            ds_error = q["datasette"].get(name, {}).get("canned", {}).get("error")
            theirs = [f"error ({ds_error})", "", ""] if ds_error else _load(ds)
            rows.append(
                [
                    name,
                    *mine,
                    *theirs,
                    vs[0],
                    _n(raw.get("rps")),
                    _ms(raw.get("p50_ms")),
                    _n(limit),
                    vs[1],
                ]
            )
        out += _table(
            [
                "query",
                "policydb req/s",
                "p50 ms",
                "p99 ms",
                "Datasette req/s",
                "p50 ms",
                "p99 ms",
                "policydb/Datasette",
                "raw SQL+JSON req/s",
                "raw p50 ms",
                "limit req/s",
                "policydb/limit",
            ],
            rows,
        )
        table_rows = []
        for name in queries:
            t = q["datasette"].get(name, {}).get("table", {}).get("result")
            if t:
                table_rows.append([name, *_load(t)])
        if table_rows:
            out += [
                "",
                "Datasette's table view for the same filter (flat rows, no nested relations), "
                "for reference:",
                "",
            ]
            out += _table(["query", "req/s", "p50 ms", "p99 ms"], table_rows)
        mismatched = [
            n
            for n, e in q["policydb"].items()
            if e.get("same_as_datasette") is False or e.get("same_as_raw") is False
        ]
        if mismatched:
            out += ["", f"**Answers differ from the SQL's** for: {', '.join(mismatched)}."]
        errors = [
            f"{who} {n}"
            for who, group in (("policydb", q["policydb"]),)
            for n, e in group.items()
            if e.get("result") and (e["result"]["non_2xx"] or e["result"]["socket_errors"])
        ]
        errors += [
            f"datasette {n}"
            for n, e in q["datasette"].items()
            for v in e.values()
            if v.get("result") and (v["result"]["non_2xx"] or v["result"]["socket_errors"])
        ]
        if errors:
            out += ["", f"**Runs with errors** (non-2xx or socket errors): {', '.join(errors)}."]
        out += [""]

    # Growth
    measured = [lb for lb in labels if scales[lb].get("queries")]
    if len(measured) >= 2:
        first = "10k" if "10k" in measured else measured[0]
        last = measured[-1]
        if first != last:
            out += [f"## Latency growth, {first} to {last} (p50)", ""]
            rows = []
            for name in queries:
                cells = [name]
                for who in ("policydb", "datasette"):
                    a = _p50(scales[first]["queries"], who, name)
                    b = _p50(scales[last]["queries"], who, name)
                    cells += [_ms(a), _ms(b), _x(_ratio(b, a))]
                rows.append(cells)
            out += _table(
                [
                    "query",
                    f"policydb {first}",
                    f"policydb {last}",
                    "growth",
                    f"Datasette {first}",
                    f"Datasette {last}",
                    "growth",
                ],
                rows,
            )
            out += [""]

    # Floor
    if floor:
        out += ["## HTTP floor (empty endpoint, same uvicorn, same load)", ""]
        out += _table(
            ["endpoint", "req/s", "p50 ms", "p99 ms"],
            [
                [
                    {"asgi": "raw ASGI app", "fastapi": "FastAPI sync route"}.get(k, k),
                    _n(v["rps"]),
                    _ms(v["p50_ms"]),
                    _ms(v["p99_ms"]),
                ]
                for k, v in floor.items()
            ],
        )
        out += [""]

    # PostgreSQL
    pg = results.get("postgres")
    if pg:
        label = pg["scale"]
        imp = pg.get("import", {})
        out += [f"## PostgreSQL at {label} (policydb only)", ""]
        state = "" if imp.get("finished") else " (stopped, did not finish)"
        out.append(
            f"Import: {imp.get('seconds', 0):,.1f} s{state}, {_n(imp.get('records_per_s'))} "
            f"records/s, peak RSS {_n(imp.get('peak_rss_mb'))} MB."
        )
        out.append("")
        sqlite_q = scales.get(label, {}).get("queries", {}).get("policydb", {})
        rows = []
        for name in queries:
            e = pg.get("queries", {}).get(name, {})
            lite = sqlite_q.get(name, {}).get("result") or {}
            if e.get("available"):
                r = e["result"]
                rows.append(
                    [
                        name,
                        *_load(r),
                        _n(lite.get("rps")),
                        _x(_ratio(r["rps"], lite.get("rps"))),
                    ]
                )
            elif e:
                rows.append([name, f"not available yet ({e.get('reason')})", "", "", "", ""])
        out += _table(
            ["query", "req/s", "p50 ms", "p99 ms", "SQLite req/s", "PostgreSQL/SQLite"], rows
        )
        out += [""]

    # Workers
    workers = results.get("workers")
    if workers:
        out += [f"## policydb workers at {workers['scale']} (SQLite, req/s)", ""]
        rows = []
        for name in queries:
            one = (workers["1"].get(name) or {}).get("rps")
            two = (workers["2"].get(name) or {}).get("rps")
            if one or two:
                rows.append([name, _n(one), _n(two), _x(_ratio(two, one))])
        out += _table(["query", "--workers 1", "--workers 2", "speed-up"], rows)
        out += [
            "",
            f"On {env.get('cpus', '?')} CPUs shared with wrk, a second worker can only help "
            "as far as a core is free.",
            "",
        ]

    # Queries
    out += ["## The queries", ""]
    rows = [
        [f"`{name}`", q["title"], f"`{q['policydb']}`", q.get("note", "")]
        for name, q in queries.items()
    ]
    out += _table(["query", "what", "policydb URL", "note"], rows)
    out += [
        "",
        "Datasette answers each with a canned query of the same SQL that the raw limit runs "
        "(bench/queries.py), returning the same information as policydb (nested actors, "
        "regions, relations, goals and citations as JSON via `_json=`), in immutable mode with "
        "an inspect file, `suggest_facets off`, `_shape=array&_nocount=1&_nofacet=1`, on the "
        "same SQLite file and so with the same indexes.",
        "",
    ]
    for name, q in queries.items():
        if q.get("sql"):
            out += [f"<details><summary>SQL of <code>{name}</code></summary>", ""]
            out += ["```sql", q["sql"].strip(), "```", "", "</details>", ""]
    out += _soak_section(results.get("soak"))
    notes = NOTES.read_text(encoding="utf-8").strip() if NOTES.exists() else ""
    if notes:  # the hand-written analysis survives regenerating the tables
        out += ["", notes, ""]
    return "\n".join(out)


def _p50(q: dict[str, Any], who: str, name: str) -> float | None:
    """A p50 to compare across scales; None when not measured or no request finished."""
    if who == "policydb":
        e = q["policydb"].get(name, {})
        r = e.get("result") if e.get("available") else None
    else:
        r = q["datasette"].get(name, {}).get("canned", {}).get("result")
    return r["p50_ms"] if r and r.get("requests") else None


def _soak_section(soak: dict[str, Any] | None) -> list[str]:
    """The soak run: errors, crashes and worker memory per engine."""
    if not soak:
        return []
    out = [
        "",
        f"## Soak at {soak['scale']}"
        + (f" (commit {soak['commit']})" if soak.get("commit") else ""),
        "",
        "Mixed traffic from 4 client threads against `policydb serve --workers 2` for a fixed "
        "time: every list (plain, at limit=200, filtered, CSV stream), the largest records, "
        "paged embedded lists, search, facets, timeline, graph, PATCH with If-Match, a small "
        "import, and a whole export every minute (bench/soak.py). Memory is each worker's "
        "anonymous resident memory (the mmap'd SQLite file is page cache, not counted); "
        "growth compares the median of the last third of samples after warm-up with the first.",
        "",
    ]
    rows = []
    for engine, e in soak["engines"].items():
        if not e.get("finished"):
            rows.append([engine, "import did not finish", "", "", "", "", ""])
            continue
        peaks = [w["anon_mb_peak"] for w in e["workers"].values()]
        growth = e["memory_growth_after_warmup"]
        rows.append(
            [
                engine,
                f"{e['seconds']:.0f}",
                str(e["requests"]),
                ", ".join(f"{k}: {v}" for k, v in e["statuses"].items()),
                str(e["errors"]) + (" (crash)" if e.get("crashed") else ""),
                ", ".join(f"{p:.0f}" for p in peaks),
                "n/a" if growth is None else f"{growth:+.1%}",
            ]
        )
    header = ["engine", "seconds", "requests", "statuses", "errors", "peak MB", "growth"]
    return out + _table(header, rows)


def with_soak(text: str, soak: dict[str, Any]) -> str:
    """RESULTS.md ``text`` with its soak section replaced (or added before "## The queries"):
    a soak run alone does not redo the other tables."""
    section = "\n".join(_soak_section(soak)).strip("\n") + "\n\n"
    start = text.find("## Soak at ")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        return text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    anchor = text.find("## The queries")
    anchor = anchor if anchor >= 0 else len(text)
    return text[:anchor] + section + text[anchor:]

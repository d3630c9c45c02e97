"""The YAML import rate beside JSON's: the same generated bundle, written both ways, imported
by `policydb import` into a fresh SQLite database each; the table goes into RESULTS.md.

    python -m bench.yaml_import --policies 1000 3000

YAML bundles are parsed whole (JSON is streamed) and may hold at most 500,000 values, so
the sizes stay below that (3,000 policies is about 9,700 records).
"""

import argparse
import multiprocessing
import re
import tempfile
from pathlib import Path

import yaml

from bench import generate
from bench.run import BENCH_DIR, DATA_DIR, _env, sqlite_url, timed_import, upgrade

RESULTS = BENCH_DIR / "RESULTS.md"
START, END = "<!-- yaml-import -->", "<!-- /yaml-import -->"
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _convert(source: str, target: str) -> None:
    data = yaml.load(Path(source).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    with Path(target).open("w", encoding="utf-8") as out:
        yaml.dump(data, out, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


def yaml_copy(bundle: Path) -> Path:
    """The JSON bundle written as YAML (block style, as `policydb export --format yaml`).

    In a process of its own: the imports' peak RSS (ru_maxrss) counts what a child held
    when it was forked, and this one's memory would be counted in theirs.
    """
    path = bundle.with_suffix(".yaml")
    if not path.exists():
        process = multiprocessing.get_context("spawn").Process(
            target=_convert, args=(str(bundle), str(path))
        )
        process.start()
        process.join()
    return path


def measure(policies: int) -> list[str]:
    bundle = generate.ensure_bundle(DATA_DIR, policies=policies)
    rows: list[str] = []
    for path in (bundle, yaml_copy(bundle)):
        with tempfile.TemporaryDirectory() as work:
            env = _env(sqlite_url(Path(work) / "policydb.sqlite3"))
            upgrade(env)
            run = timed_import(path, env, Path(work) / "import.log", timeout_s=3600)
            log = (Path(work) / "import.log").read_text(errors="replace")
        records = sum(int(m[1]) for m in re.finditer(r"^\w+: (\d+) created", log, re.M))
        rate = records / run["seconds"] if run["finished"] else 0
        rows.append(
            f"| {policies:,} | {path.suffix[1:].upper()} | {records:,} | "
            f"{path.stat().st_size / 1e6:.1f} MB | {run['seconds']:.1f} s | {rate:,.0f} | "
            f"{run['peak_rss_mb']:.0f} MB | {run['ended']} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policies", type=int, nargs="+", default=[1000, 3000])
    args = parser.parse_args()
    rows = [row for n in args.policies for row in measure(n)]
    loader = "libyaml (CSafeLoader)" if hasattr(yaml, "CSafeLoader") else "pure Python"
    section = "\n".join(
        [
            START,
            "## YAML import",
            "",
            f"`python -m bench.yaml_import`: the generated bundle as JSON and as YAML, each "
            f"imported by `policydb import` into a fresh SQLite database; YAML parsed with "
            f"{loader}, the repeated-key check included. From 3,000 policies (10,001 records) "
            "a YAML bundle holds more than 500,000 values and is refused (YAML is parsed "
            "whole): large datasets go in JSON, which is streamed.",
            "",
            "| policies | syntax | records | file | import | records/s | peak RSS | ended |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            END,
        ]
    )
    text = RESULTS.read_text(encoding="utf-8")
    if START in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()

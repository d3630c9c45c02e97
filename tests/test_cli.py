"""The `policydb` command, against real databases on both engines."""

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from app.cli import app
from app.config import get_settings
from app.models import HistoryEntry, Source
from tests.conftest import Database

runner = CliRunner()


@pytest.fixture
def cli_db(empty_database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("POLICYDB_DATABASE_URL", empty_database.url)
    get_settings.cache_clear()
    yield empty_database
    get_settings.cache_clear()


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.output


def test_db_commands(cli_db: Database) -> None:
    code, out = run("db", "current")
    assert code == 0 and "none (empty database)" in out
    assert run("db", "upgrade")[0] == 0
    code, out = run("db", "current")
    assert "up to date" in out
    assert run("db", "downgrade", "base")[0] == 0
    assert "none" in run("db", "current")[1]


def test_keys_create_list_revoke(cli_db: Database) -> None:
    run("db", "upgrade")
    code, secret = run("keys", "create", "analyst")
    assert code == 0 and secret.strip().startswith("pdb_")
    assert run("keys", "create", "analyst")[0] == 1  # names are unique
    code, listing = run("keys", "list")
    assert "analyst" in listing and "active" in listing and secret.strip() not in listing
    assert run("keys", "revoke", "analyst")[0] == 0
    assert "revoked" in run("keys", "list")[1]
    assert run("keys", "revoke", "nobody")[0] == 1


def test_seed_twice_changes_nothing_and_citations_verify(
    cli_db: Database, article_path: Path
) -> None:
    run("db", "upgrade")
    code, out = run("seed")
    assert code == 0 and "created" in out
    engine = cli_db.engine()
    try:
        with engine.connect() as connection:
            authors = connection.execute(select(HistoryEntry.changed_by).distinct()).scalars()
            assert set(authors) == {"seed"}
    finally:
        engine.dispose()
    code, out = run("seed")
    assert code == 0 and "created" not in out and "updated" not in out
    code, out = run("verify-citations", "digichina-2020-12-21-ai-self-reliance", str(article_path))
    assert code == 0, out
    assert "excerpts found verbatim" in out


def test_verify_citations_fails_on_other_text(
    cli_db: Database, tmp_path: Path, article_path: Path
) -> None:
    run("db", "upgrade")
    run("seed")
    altered = tmp_path / "altered.txt"
    altered.write_text(article_path.read_text().replace("Lingang New Area", "Lingang Zone"))
    code, out = run("verify-citations", "digichina-2020-12-21-ai-self-reliance", str(altered))
    assert code == 1
    assert "NOT FOUND" in out and "Lingang" in out
    # The source records the SHA-256 of its text: any other bytes are named as a mismatch.
    digest = hashlib.sha256(altered.read_bytes()).hexdigest()
    assert f"SHA-256 MISMATCH {altered} has {digest}; source" in out
    plain = tmp_path / "plain.txt"
    plain.write_text(
        article_path.read_text().replace("\u2019", "'").replace("\u201c", '"').replace("\n", "  \n")
    )
    code, out = run("verify-citations", "digichina-2020-12-21-ai-self-reliance", str(plain))
    assert code == 1 and "SHA-256 MISMATCH" in out and "NOT FOUND" not in out
    # Without a recorded digest, typographic quotes and whitespace are normalised, nothing else.
    engine = cli_db.engine()
    try:
        with engine.begin() as connection:
            connection.execute(update(Source).values(sha256=None))
    finally:
        engine.dispose()
    assert run("verify-citations", "digichina-2020-12-21-ai-self-reliance", str(plain))[0] == 0


def test_export_import_round_trip_through_files(cli_db: Database, tmp_path: Path) -> None:
    run("db", "upgrade")
    run("seed")
    for fmt in ("json", "yaml"):
        out = tmp_path / f"bundle.{fmt}"
        assert run("export", "--format", fmt, "--out", str(out))[0] == 0
        code, report = run("import", str(out))
        assert code == 0 and "created" not in report and "updated" not in report
    csv_dir = tmp_path / "csv"
    assert run("export", "--format", "csv", "--out", str(csv_dir))[0] == 0
    code, report = run("import", str(csv_dir), "--dry-run")
    assert code == 0 and "dry run" in report and "updated" not in report


def test_import_from_stdin_and_errors(cli_db: Database, tmp_path: Path) -> None:
    run("db", "upgrade")
    bundle = {"regions": [{"slug": "atlantis", "name": "Atlantis", "kind": "country"}]}
    code, out = run("import", "-", input=json.dumps(bundle))
    assert code == 0 and "regions: 1 created" in out
    engine = cli_db.engine()
    try:
        with engine.connect() as connection:
            who = connection.execute(
                select(HistoryEntry.changed_by).where(HistoryEntry.slug == "atlantis")
            ).scalar_one()
    finally:
        engine.dispose()
    assert who == "cli"
    bad = {
        "regions": [
            {"slug": "x", "name": "X", "kind": "planet"},
            {"slug": "y", "name": "Y", "kind": "city", "parent": "nowhere"},
        ]
    }
    code, out = run("import", "-", input=json.dumps(bad))
    assert code == 1
    assert "/regions/0/kind [x]" in out and "/regions/1/parent [y]" in out
    assert run("import", "-", "--mode", "replace", input=json.dumps(bundle))[0] == 2
    assert run("import", str(tmp_path / "missing.json"))[0] == 1


def test_bundle_schema_is_json_schema(cli_db: Database) -> None:
    code, out = run("bundle-schema")
    assert code == 0
    schema = json.loads(out)
    assert {"sources", "regions", "actors", "policies", "goals"} <= set(schema["properties"])


def test_import_streams_json_files_and_reads_yaml_from_stdin(
    cli_db: Database, tmp_path: Path
) -> None:
    run("db", "upgrade")
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"regions": [{"slug": "lemuria", "name": "L", "kind": "country"}]}))
    code, out = run("import", str(path))
    assert code == 0 and "regions: 1 created" in out
    path.write_text('{"regions": [\n  {"slug": "mu",}\n]}')
    code, out = run("import", str(path))
    assert code == 1 and "not valid JSON" in out and "line 2, column" in out
    # A YAML flow mapping starts like JSON but is not: stdin falls back to YAML.
    code, out = run("import", "-", input="{regions: [{slug: mu, name: Mu, kind: country}]}")
    assert code == 0 and "regions: 1 created" in out


def run_result(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=input)


def test_every_command_answers_bad_input_without_a_traceback(
    cli_db: Database, tmp_path: Path
) -> None:
    """Each command, given a mistake a user makes, says so in a line or two and exits non-zero;
    none lets an exception out (which would print a traceback)."""
    missing = str(tmp_path / "missing.txt")
    cases: list[list[str]] = [
        # Against a database that has not been migrated.
        ["keys", "list"],
        ["keys", "create", "someone"],
        ["keys", "revoke", "someone"],
        ["seed"],
        ["import", "-"],
        ["export"],
        ["verify-citations", "some-source", missing],
        # Bad arguments and files, whatever the database.
        ["serve", "--port", "not-a-port"],
        ["serve", "--workers", "0"],
        ["db", "upgrade", "no-such-revision"],
        ["db", "downgrade", "no-such-revision"],
        ["db", "current", "extra"],
        ["import", missing],
        ["import", "-", "--mode", "sideways"],
        ["import", "-", "--report", "xml"],
        ["export", "--format", "pdf"],
        ["export", "--out", str(tmp_path / "no" / "such" / "dir.json")],
        ["mcp", "extra"],
        ["bundle-schema", "extra"],
        ["verify-citations", "only-one-argument"],
        ["no-such-command"],
    ]
    for args in cases:
        if args == ["import", missing]:
            run("db", "upgrade")  # the rest of the cases, on a migrated database
        result = run_result(*args, input='{"regions": []}')
        assert result.exit_code not in (0, None), args
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.exception,
        )
        assert "Traceback" not in result.output, args
        assert result.output.strip(), args


def test_an_unmigrated_database_says_how_to_migrate_it(cli_db: Database) -> None:
    for args in (["keys", "list"], ["seed"], ["export"]):
        code, out = run(*args)
        assert code == 1
        assert out.strip() == "error: the database is not migrated; run `policydb db upgrade` first"


def test_a_missing_file_is_one_line(cli_db: Database, tmp_path: Path) -> None:
    run("db", "upgrade")
    code, out = run("verify-citations", "x", str(tmp_path / "missing.txt"))
    assert (
        code == 1 and out.strip() == f"error: {tmp_path / 'missing.txt'}: No such file or directory"
    )


def test_import_merge_and_its_reports(cli_db: Database) -> None:
    run("db", "upgrade")
    run("seed")
    patch = json.dumps({"regions": [{"slug": "cn", "name": "China (PRC)"}]})
    code, out = run("import", "-", "--mode", "merge", "--dry-run", input=patch)
    assert code == 0, out
    assert "dry run: would have regions: 1 updated" in out
    assert '~ regions/cn\n    name: "China" -> "China (PRC)"' in out
    code, out = run("import", "-", "--mode", "merge", "--report", "json", input=patch)
    report = json.loads(out)
    assert report["mode"] == "merge" and report["changes_total"] == 1
    assert report["changes"][0]["fields"] == {"name": {"old": "China", "new": "China (PRC)"}}
    bare = json.dumps({"regions": [{"slug": "cn", "name": "China", "kind": "country"}]})
    code, out = run("import", "-", input=bare)
    assert code == 0 and "warning: mode upsert replaces whole records" in out


# Modules a command that needs none of them must not load (they made every command take
# 1.5-4 s to start). Speed itself is measured in the benchmark, never in a timed test.
HEAVY = ("fastapi", "uvicorn", "yaml", "ijson", "alembic", "pycountry", "app.resources")


def loaded_modules(*args: str, database_url: str) -> set[str]:
    script = (
        "import sys\nfrom app.cli import app\n"
        f"try:\n    app({list(args)!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sys.modules))"
    )
    env = {**os.environ, "POLICYDB_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return set(done.stdout.splitlines()[-1].split())


def test_help_and_keys_list_load_no_heavy_module(cli_db: Database) -> None:
    run("db", "upgrade")
    loaded = loaded_modules("--help", database_url=cli_db.url)
    assert not loaded & {*HEAVY, "sqlalchemy", "app.config", "app.models"}
    loaded = loaded_modules("keys", "list", database_url=cli_db.url)
    assert "app.services.keys" in loaded  # the command did run
    assert not loaded & {*HEAVY, "app.services.search", "app.services.bundle"}

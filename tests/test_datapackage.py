"""`policydb export --format datapackage` and its import, on both engines, checked by the
`frictionless` library itself."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from frictionless import validate
from typer.testing import CliRunner

from app.cli import app
from app.config import get_settings
from app.vocabularies import ActorKind
from tests.conftest import Database

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def use(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYDB_DATABASE_URL", database.url)
    get_settings.cache_clear()


@pytest.fixture
def seeded(empty_database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    use(empty_database, monkeypatch)
    assert run("db", "upgrade")[0] == 0
    assert run("seed")[0] == 0
    yield empty_database
    get_settings.cache_clear()


@pytest.fixture
def exported(seeded: Database, tmp_path: Path) -> Path:
    folder = tmp_path / "package"
    code, out = run("export", "--format", "datapackage", "--out", str(folder))
    assert code == 0, out
    return folder


def _errors(descriptor: Path) -> list[list[str]]:
    report = validate(str(descriptor))
    flat: list[list[str]] = report.flatten(["type", "note"])
    return flat


def test_package_validates_with_zero_errors(exported: Path) -> None:
    descriptor = json.loads((exported / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    resources = {r["name"]: r for r in descriptor["resources"]}
    assert set(resources) == {p.stem for p in exported.glob("*.csv")}
    actors = resources["actors"]["schema"]
    assert actors["primaryKey"] == ["slug"]
    assert {"fields": ["region"], "reference": {"resource": "regions", "fields": ["slug"]}} in (
        actors["foreignKeys"]
    )
    assert {"fields": ["parent"], "reference": {"fields": ["slug"]}} in actors["foreignKeys"]
    kind = next(f for f in actors["fields"] if f["name"] == "kind")
    assert kind["constraints"]["enum"] == [k.value for k in ActorKind]
    assert resources["policy_actors"]["schema"]["primaryKey"] == ["policy", "actor", "role"]
    report = validate(str(exported / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "type", "note"])
    assert report.stats["errors"] == 0
    assert report.stats["tasks"] == len(resources)


def test_validation_is_not_vacuous(exported: Path) -> None:
    actors = exported / "actors.csv"
    actors.write_text(actors.read_text(encoding="utf-8").replace(",ministry,", ",wizard,", 1))
    regions = exported / "regions.csv"
    text = regions.read_text(encoding="utf-8")
    regions.write_text(text.replace(",CN-TJ,cn,", ",CN-TJ,atlantis,", 1), encoding="utf-8")
    types = {error[0] for error in _errors(exported / "datapackage.json")}
    assert {"constraint-error", "foreign-key"} <= types


def test_round_trip_is_byte_identical(
    exported: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    empty_database: Database,
) -> None:
    other = Database(empty_database.engine_name, tmp_path)
    try:
        use(other, monkeypatch)
        assert run("db", "upgrade")[0] == 0
        code, out = run("import", str(exported / "datapackage.json"))
        assert code == 0, out
        assert "created" in out
        again = tmp_path / "again"
        assert run("export", "--format", "datapackage", "--out", str(again))[0] == 0
        files = sorted(p.name for p in exported.iterdir())
        assert files == sorted(p.name for p in again.iterdir())
        assert len(files) == 10
        for name in files:
            assert (exported / name).read_bytes() == (again / name).read_bytes(), name
        # The folder imports too, through the same path: nothing changes the second time.
        code, out = run("import", str(exported))
        assert code == 0, out
        assert "created" not in out and "updated" not in out
    finally:
        other.drop()


def test_bad_packages_are_refused_without_a_traceback(exported: Path, tmp_path: Path) -> None:
    descriptor = exported / "datapackage.json"
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    package["resources"][0]["path"] = "../../etc/passwd"
    descriptor.write_text(json.dumps(package), encoding="utf-8")
    code, out = run("import", str(descriptor))
    assert code == 1 and "not a policydb data package" in out and "Traceback" not in out
    descriptor.write_text("{ not json", encoding="utf-8")
    code, out = run("import", str(exported))
    assert code == 1 and "not valid JSON" in out
    descriptor.write_text("{}", encoding="utf-8")
    code, out = run("import", str(descriptor))
    assert code == 1 and "not a data package" in out
    code, out = run("import", str(tmp_path / "missing" / "datapackage.json"))
    assert code == 1 and "Traceback" not in out
    # Found by a review: a multipart path (a list) and deep nesting were tracebacks.
    package["resources"][0]["path"] = ["sources.csv", "/etc/passwd"]
    descriptor.write_text(json.dumps(package), encoding="utf-8")
    code, out = run("import", str(descriptor))
    assert code == 1 and "not a policydb data package" in out and "Traceback" not in out
    descriptor.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, out = run("import", str(descriptor))
    assert code == 1 and "not valid JSON" in out and "Traceback" not in out


def test_bad_rows_name_their_file_and_line(exported: Path) -> None:
    actors = exported / "actors.csv"
    actors.write_text(actors.read_text(encoding="utf-8").replace(",ministry,", ",wizard,", 1))
    code, out = run("import", str(exported / "datapackage.json"), "--dry-run")
    assert code == 1
    assert "actors.csv:" in out and "/kind" in out


def test_export_needs_a_folder(seeded: Database, tmp_path: Path) -> None:
    code, out = run("export", "--format", "datapackage")
    assert code == 2 and "--out" in out
    file = tmp_path / "file"
    file.write_text("x")
    code, out = run("export", "--format", "datapackage", "--out", str(file))
    assert code == 2 and "not a folder" in out
    assert run("export", "--format", "xml")[0] == 2

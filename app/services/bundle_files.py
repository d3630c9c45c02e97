"""Bundles on disk: JSON, YAML, or a folder of CSV files (one per resource and link table)."""

import csv
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy.orm import Session

from app.errors import ErrorDetail, InvalidInput, pointer
from app.safe_text import csv_cell, unquote_csv_cell
from app.services.bulk_import import json_bundle
from app.services.bundle import SourceMap, iter_records, json_bundle_file, parse_bundle_text
from app.services.resources import WRITE_ORDER

RECORD_COLUMNS: dict[str, list[str]] = {
    "sources": [
        "slug",
        "title",
        "publisher",
        "series",
        "authors",
        "url",
        "published",
        "language",
        "sha256",
    ],
    "regions": ["slug", "name", "names", "aliases", "kind", "iso_code", "parent", "description"],
    "actors": [
        "slug",
        "name",
        "names",
        "aliases",
        "kind",
        "region",
        "parent",
        "description",
        "identifiers",
    ],
    "policies": [
        "slug",
        "title",
        "short_name",
        "titles",
        "kind",
        "status",
        "summary",
        "identifiers",
        "announced",
        "in_force_from",
        "in_force_to",
        "money_amount",
        "money_currency",
        "money_approximate",
        "topics",
    ],
    "goals": [
        "slug",
        "statement",
        "policy",
        "actor",
        "metric",
        "target_value",
        "unit",
        "baseline_value",
        "deadline",
        "stage",
        "status",
    ],
}
JSON_COLUMNS = {"authors", "names", "aliases", "identifiers", "titles", "topics"}
# link file -> (field of the policy record, column naming the other record, column of the role)
LINK_FILES: dict[str, tuple[str, str, str]] = {
    "policy_actors": ("actors", "actor", "role"),
    "policy_regions": ("regions", "region", "role"),
    "policy_relations": ("related", "policy", "relation"),
}
LINK_COLUMNS = {
    "policy_actors": ["policy", "actor", "role"],
    "policy_regions": ["policy", "region", "role"],
    "policy_relations": ["policy", "related_policy", "relation"],
}
CITATION_COLUMNS = [
    "resource",
    "record",
    "link_target",
    "link_role",
    "source",
    "section",
    "paragraph",
    "excerpt",
    "note",
]
CITATION_FIELDS = ["source", "section", "paragraph", "excerpt", "note"]


def read_bundle_path(path: str | Path) -> tuple[Any, SourceMap | None]:
    """Read a bundle from a file (by extension), a CSV folder, or ``-`` (stdin; JSON or YAML)."""
    if str(path) == "-":
        return _read_stdin(), None
    path = Path(path)
    if path.name == "datapackage.json" or (path / "datapackage.json").is_file():
        from app.services.datapackage import read_datapackage  # it builds on this module

        return read_datapackage(path)
    if path.is_dir():
        yaml_files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.json"))
        if yaml_files and not (path / "policies.csv").exists():
            return _merge_documents(yaml_files), None
        return read_csv_folder(path)
    if not path.exists():
        raise InvalidInput(f"no such file: {path}", [ErrorDetail("", f"{path} does not exist")])
    if _syntax(path) == "json":
        return json_bundle_file(path), None  # streamed: a large file is never held whole
    return parse_bundle_text(path.read_bytes(), syntax="yaml"), None


def _read_stdin() -> Any:
    """Standard input, copied to a temporary file: JSON is then streamed, YAML parsed whole."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115  lives as long as the opener below
    shutil.copyfileobj(sys.stdin.buffer, spool)
    spool.seek(0)
    start = spool.read(4096).lstrip()

    def reopen() -> IO[bytes]:
        stream = os.fdopen(os.dup(spool.fileno()), "rb")
        stream.seek(0)
        return stream

    if start.startswith(b"{"):
        try:
            return json_bundle(reopen)
        except InvalidInput:
            pass  # not JSON after all (a YAML flow mapping?): YAML reads both
    with reopen() as stream:
        return parse_bundle_text(stream.read(), syntax="yaml")


def _syntax(path: Path) -> Literal["json", "yaml"]:
    return "json" if path.suffix.lower() == ".json" else "yaml"


def _merge_documents(paths: Iterable[Path]) -> dict[str, Any]:
    """Several bundle files in one folder make one bundle (records concatenated by section)."""
    merged: dict[str, Any] = {}
    for path in paths:
        data = parse_bundle_text(path.read_bytes(), syntax=_syntax(path))
        for key, value in (data or {}).items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


def _cell_out(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv_folder(session: Session, folder: Path) -> None:
    """Export the database as CSV files, one per resource, link table and for citations."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        name: (folder / f"{name}.csv").open("w", newline="", encoding="utf-8")
        for name in [*WRITE_ORDER, *LINK_FILES, "citations"]
    }
    try:
        writers = {name: csv.writer(f, lineterminator="\n") for name, f in files.items()}
        for name, columns in [*RECORD_COLUMNS.items(), *LINK_COLUMNS.items()]:
            writers[name].writerow(columns)
        writers["citations"].writerow(CITATION_COLUMNS)
        for name in WRITE_ORDER:
            for record in iter_records(session, name):
                flat = dict(record)
                money = flat.pop("money", None) or {}
                for key in ("amount", "currency", "approximate"):
                    flat[f"money_{key}"] = money.get(key)
                row = [_cell_out(c, flat.get(c)) for c in RECORD_COLUMNS[name]]
                writers[name].writerow([csv_cell(cell) for cell in row])
                _write_citations(writers["citations"], name, record["slug"], "", "", record)
                for link_file, (field, other, role) in LINK_FILES.items():
                    if name != "policies":
                        continue
                    for link in record.get(field, []):
                        link_row = [record["slug"], link[other], link[role]]
                        writers[link_file].writerow([csv_cell(cell) for cell in link_row])
                        _write_citations(
                            writers["citations"],
                            link_file,
                            record["slug"],
                            link[other],
                            link[role],
                            link,
                        )
    finally:
        for f in files.values():
            f.close()


def _write_citations(
    writer: Any, resource: str, slug: str, target: str, role: str, owner: dict[str, Any]
) -> None:
    for citation in owner.get("citations", []):
        writer.writerow(
            [
                resource,
                slug,
                target,
                role,
                *(csv_cell(_cell_out(f, citation.get(f))) for f in CITATION_FIELDS),
            ]
        )


# (resource, slug) -> (record, its index in the bundle section)
RecordIndex = dict[tuple[str, str], tuple[dict[str, Any], int]]
# bundle pointer -> (file, line), filled in as the files are read
LineMap = dict[str, tuple[str, int]]


def read_csv_folder(folder: Path) -> tuple[dict[str, Any], LineMap]:
    """Rebuild a bundle from a CSV folder, remembering each record's file and line."""
    errors: list[ErrorDetail] = []
    source_map: LineMap = {}
    bundle: dict[str, Any] = {}
    index: RecordIndex = {}
    for name in WRITE_ORDER:
        records: list[dict[str, Any]] = []
        for line, row in _rows(folder / f"{name}.csv", errors):
            record = _record_from_row(name, len(records), line, row, errors)
            source_map[pointer(name, len(records))] = (f"{name}.csv", line)
            index[(name, record.get("slug", ""))] = (record, len(records))
            records.append(record)
        bundle[name] = records
    _read_links(folder, index, errors, source_map)
    _read_citations(folder, index, errors, source_map)
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s) in the CSV files; nothing was written", errors
        )
    return bundle, source_map


def _record_from_row(
    name: str, position: int, line: int, row: dict[str, str], errors: list[ErrorDetail]
) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column, text in row.items():
        if column is None or text in ("", None):
            continue
        if column in JSON_COLUMNS:
            try:
                record[column] = json.loads(text)
            except json.JSONDecodeError as exc:
                errors.append(
                    ErrorDetail(
                        pointer(name, position, column),
                        f"not valid JSON: {exc.msg}",
                        file=f"{name}.csv",
                        line=line,
                    )
                )
                continue
        else:
            record[column] = text
    if name == "policies":
        money = {
            k: record.pop(f"money_{k}")
            for k in ("amount", "currency", "approximate")
            if f"money_{k}" in record
        }
        if money:
            record["money"] = money
    return record


def _read_links(
    folder: Path, index: RecordIndex, errors: list[ErrorDetail], source_map: LineMap
) -> None:
    """Each link file's rows, added to their policies' link lists."""
    for link_file, (field, other, role) in LINK_FILES.items():
        columns = LINK_COLUMNS[link_file]
        for line, row in _rows(folder / f"{link_file}.csv", errors):
            found = index.get(("policies", row.get("policy") or ""))
            if found is None:
                errors.append(
                    ErrorDetail(
                        "",
                        f"unknown policy {row.get('policy')!r}",
                        file=f"{link_file}.csv",
                        line=line,
                    )
                )
                continue
            owner, position = found
            links = owner.setdefault(field, [])
            link = {other: row.get(columns[1]) or "", role: row.get(columns[2]) or ""}
            source_map[pointer("policies", position, field, len(links))] = (
                f"{link_file}.csv",
                line,
            )
            links.append(link)


def _read_citations(
    folder: Path, index: RecordIndex, errors: list[ErrorDetail], source_map: LineMap
) -> None:
    """citations.csv's rows, added to the records and links they cite for."""
    for line, row in _rows(folder / "citations.csv", errors):
        resource, slug = row.get("resource") or "", row.get("record") or ""
        cited = _citation_owner(index, resource, slug, row)
        if cited is None:
            errors.append(
                ErrorDetail(
                    "", f"citation of unknown {resource} {slug!r}", file="citations.csv", line=line
                )
            )
            continue
        target, path = cited
        citations = target.setdefault("citations", [])
        source_map[pointer(*path, "citations", len(citations))] = ("citations.csv", line)
        citations.append({f: row[f] for f in CITATION_FIELDS if row.get(f)})


def _citation_owner(
    index: RecordIndex,
    resource: str,
    slug: str,
    row: dict[str, str],
) -> tuple[dict[str, Any], tuple[str | int, ...]] | None:
    """The record or link a citations.csv row belongs to, and its place in the bundle."""
    if resource in RECORD_COLUMNS:
        found = index.get((resource, slug))
        return (found[0], (resource, found[1])) if found else None
    if resource in LINK_FILES and (found := index.get(("policies", slug))):
        policy, position = found
        field, other, role = LINK_FILES[resource]
        for i, link in enumerate(policy.get(field, [])):
            if link[other] == row.get("link_target") and link[role] == row.get("link_role"):
                return link, ("policies", position, field, i)
    return None


def _unquoted(cell: str) -> str:
    return unquote_csv_cell(cell) if isinstance(cell, str) else cell


def _rows(path: Path, errors: list[ErrorDetail]) -> Iterable[tuple[int, dict[str, str]]]:
    if not path.exists():
        return
    # utf-8-sig: a byte order mark (Excel writes one) is not part of the first column's name.
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for row in reader:
            if None in row:
                errors.append(
                    ErrorDetail("", "more cells than columns", file=path.name, line=reader.line_num)
                )
                continue
            # Cells the export neutralised against formula injection read back as written.
            yield reader.line_num, {k: _unquoted(v) for k, v in row.items()}

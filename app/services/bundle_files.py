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
from app.resources import RESOURCES, ResourceName
from app.safe_text import csv_cell, unquote_csv_cell
from app.services.bundle import SourceMap, iter_records, json_bundle_file, parse_bundle_text
from app.services.imports import json_bundle
from app.services.tabular import (
    CITATION_COLUMNS,
    CITATION_FIELDS,
    CITATIONS_FILE,
    FILES,
    LINK_TABLES,
    RECORD_TABLES,
    LinkTable,
    RecordTable,
)


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


def _cell_out(table: RecordTable | None, column: str, value: Any) -> str:
    if value is None:
        return ""
    if table is not None and column in table.json_columns:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv_folder(session: Session, folder: Path) -> None:
    """Export the database as CSV files, one per resource, link table and for citations."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        name: (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") for name in FILES
    }
    try:
        writers = {name: csv.writer(f, lineterminator="\n") for name, f in files.items()}
        for table in RECORD_TABLES.values():
            writers[table.name].writerow(table.columns)
        for link_table in LINK_TABLES.values():
            writers[link_table.name].writerow(link_table.columns)
        writers[CITATIONS_FILE].writerow(CITATION_COLUMNS)
        for name, table in RECORD_TABLES.items():
            links = [t for t in LINK_TABLES.values() if t.owner.name == name]
            for record in iter_records(session, name):
                flat = table.flatten(record)
                row = [_cell_out(table, c, flat.get(c)) for c in table.columns]
                writers[name].writerow([csv_cell(cell) for cell in row])
                _write_citations(writers[CITATIONS_FILE], name, record["slug"], "", "", record)
                for link_table in links:
                    key, kind = link_table.links.key, link_table.links.kind
                    for link in record.get(link_table.links.field, []):
                        link_row = [record["slug"], link[key], link[kind]]
                        writers[link_table.name].writerow([csv_cell(c) for c in link_row])
                        _write_citations(
                            writers[CITATIONS_FILE],
                            link_table.name,
                            record["slug"],
                            link[key],
                            link[kind],
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
                *(csv_cell(_cell_out(None, f, citation.get(f))) for f in CITATION_FIELDS),
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
    for name, table in RECORD_TABLES.items():
        records: list[dict[str, Any]] = []
        for line, row in _rows(folder / f"{name}.csv", errors):
            record = _record_from_row(table, len(records), line, row, errors)
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
    table: RecordTable, position: int, line: int, row: dict[str, str], errors: list[ErrorDetail]
) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for column, text in row.items():
        if column is None or text in ("", None):
            continue
        if column not in table.json_columns:
            flat[column] = text
            continue
        try:
            flat[column] = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(
                ErrorDetail(
                    pointer(table.name, position, column),
                    f"not valid JSON: {exc.msg}",
                    file=f"{table.name}.csv",
                    line=line,
                )
            )
    return table.unflatten(flat)


def _read_links(
    folder: Path, index: RecordIndex, errors: list[ErrorDetail], source_map: LineMap
) -> None:
    """Each link file's rows, added to their owners' link lists."""
    for link_file, link_table in LINK_TABLES.items():
        owner_column, target_column, kind = link_table.columns
        owner_name, field, key = link_table.owner.name, link_table.links.field, link_table.links.key
        for line, row in _rows(folder / f"{link_file}.csv", errors):
            found = index.get((owner_name, row.get(owner_column) or ""))
            if found is None:
                errors.append(
                    ErrorDetail(
                        "",
                        f"unknown {link_table.owner.singular} {row.get(owner_column)!r}",
                        file=f"{link_file}.csv",
                        line=line,
                    )
                )
                continue
            owner, position = found
            links = owner.setdefault(field, [])
            link = {key: row.get(target_column) or "", kind: row.get(kind) or ""}
            source_map[pointer(owner_name, position, field, len(links))] = (
                f"{link_file}.csv",
                line,
            )
            links.append(link)


def _read_citations(
    folder: Path, index: RecordIndex, errors: list[ErrorDetail], source_map: LineMap
) -> None:
    """citations.csv's rows, added to the records and links they cite for."""
    for line, row in _rows(folder / f"{CITATIONS_FILE}.csv", errors):
        cited = _citation_owner(index, row)
        if isinstance(cited, str):
            errors.append(ErrorDetail("", cited, file="citations.csv", line=line))
            continue
        target, path = cited
        citations = target.setdefault("citations", [])
        source_map[pointer(*path, "citations", len(citations))] = ("citations.csv", line)
        citations.append({f: row[f] for f in CITATION_FIELDS if row.get(f)})


# A citations.csv row's ``resource`` names a record file (``policies``), a record type
# (``policy``) or a link file (``policy_actors``): each is read as the files it may mean.
_CITED_FILES: dict[str, tuple[ResourceName, list[LinkTable]]] = {
    **{
        spelling: (name, [t for t in LINK_TABLES.values() if t.owner.name == name])
        for name, table in RECORD_TABLES.items()
        for spelling in (name, table.resource.singular)
    },
    **{name: (table.owner.name, [table]) for name, table in LINK_TABLES.items()},
}


def _citation_owner(
    index: RecordIndex, row: dict[str, str]
) -> tuple[dict[str, Any], tuple[str | int, ...]] | str:
    """The record or link a citations.csv row belongs to and its place in the bundle, or
    why the row fits none. A row with ``link_target`` and ``link_role`` cites a link of the
    record (whatever file ``resource`` names); one without them cites the record itself."""
    resource, slug = row.get("resource") or "", row.get("record") or ""
    link_target, link_role = row.get("link_target") or "", row.get("link_role") or ""
    if resource not in _CITED_FILES:
        return f"unknown resource {resource!r}; expected one of {sorted(FILES)}"
    owner_name, link_tables = _CITED_FILES[resource]
    found = index.get((owner_name, slug))
    if found is None:
        return f"citation of unknown {RESOURCES[owner_name].singular} {slug!r}"
    owner, position = found
    if not link_target and not link_role:
        if resource in LINK_TABLES:
            return "a citation of a link needs link_target and link_role"
        return owner, (owner_name, position)
    if not link_target or not link_role:
        return "a citation of a link needs both link_target and link_role"
    matches = [
        (link, (owner_name, position, table.links.field, i))
        for table in link_tables
        for i, link in enumerate(owner.get(table.links.field, []))
        if link[table.links.key] == link_target and link[table.links.kind] == link_role
    ]
    if len(matches) != 1:
        what = "no link" if not matches else "more than one link"
        return f"{what} of {slug!r} to {link_target!r} as {link_role!r} to attach the citation to"
    return matches[0]


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

"""The database as a Frictionless Data Package (v2): the CSV bundle plus ``datapackage.json``.

The CSV files are exactly those of ``policydb export --format csv`` (app/services/bundle_files);
the descriptor adds a Table Schema per file: field types, enum constraints from the
vocabularies, primary keys and foreign keys. Importing reads the CSV files back through the
same CSV reader and the same import path as every other import.
"""

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ErrorDetail, InvalidInput
from app.services.bundle_files import read_csv_folder, write_csv_folder
from app.services.tabular import (
    FILES,
    LINK_TABLES,
    RECORD_TABLES,
    Field,
    citation_fields,
    foreign_keys,
    link_fields,
    primary_key,
    record_fields,
    title,
)

DESCRIPTOR = "datapackage.json"
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
DIALECT_PROFILE = "https://datapackage.org/profiles/2.0/tabledialect.json"


def _fields(name: str) -> list[Field]:
    if name in RECORD_TABLES:
        return record_fields(RECORD_TABLES[name])
    if name in LINK_TABLES:
        return link_fields(LINK_TABLES[name])
    return citation_fields()


def _table_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": SCHEMA_PROFILE,
        "fields": _fields(name),
        "missingValues": [""],
    }
    if (key := primary_key(name)) is not None:
        schema["primaryKey"] = key
    if references := foreign_keys(name):
        keys = []
        for columns, target, target_columns in references:
            reference: dict[str, Any] = {"fields": target_columns}
            if target != name:  # a reference within the same file names no resource
                reference = {"resource": target, **reference}
            keys.append({"fields": columns, "reference": reference})
        schema["foreignKeys"] = keys
    return schema


def descriptor() -> dict[str, Any]:
    """``datapackage.json``: one tabular resource per CSV file of the bundle."""
    return {
        "$schema": PACKAGE_PROFILE,
        "name": "policydb",
        "title": "policydb: a structured, cited database of public policy",
        "description": "Policies, actors, regions, goals and sources, each fact cited. The "
        "CSV files are policydb's CSV bundle; `policydb import DIR` loads them back.",
        "resources": [
            {
                "$schema": RESOURCE_PROFILE,
                "name": name,
                "title": title(name),
                "path": f"{name}.csv",
                "type": "table",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"$schema": DIALECT_PROFILE, "header": True, "delimiter": ","},
                "schema": _table_schema(name),
            }
            for name in FILES
        ],
    }


def write_datapackage(session: Session, folder: Path) -> None:
    """Export the database as a data package in ``folder``."""
    write_csv_folder(session, folder)
    text = json.dumps(descriptor(), ensure_ascii=False, indent=2) + "\n"
    (folder / DESCRIPTOR).write_text(text, encoding="utf-8")


def read_datapackage(path: Path) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """A data package written by ``write_datapackage`` (its descriptor or its folder) as a
    bundle, read by the CSV bundle reader."""
    if path.is_dir():
        path = path / DESCRIPTOR
    where = path.name
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {where}", [ErrorDetail("", str(exc))]) from None
    except json.JSONDecodeError as exc:
        detail = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise InvalidInput(f"{where} is not valid JSON", [ErrorDetail("", detail)]) from None
    except (RecursionError, ValueError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidInput(f"{where} is not valid JSON", [ErrorDetail("", detail)]) from None
    expected = {f"{name}.csv" for name in FILES}
    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list):
        raise InvalidInput(
            f"{where} is not a data package", [ErrorDetail("/resources", "a list is required")]
        )
    errors = []
    for i, resource in enumerate(resources):
        resource_path = resource.get("path") if isinstance(resource, dict) else None
        if not isinstance(resource_path, str) or resource_path not in expected:
            errors.append(
                ErrorDetail(
                    f"/resources/{i}/path",
                    f"{str(resource_path)[:100]!r} is not a file of a policydb package "
                    f"({', '.join(sorted(expected))})",
                    file=where,
                )
            )
    if errors:
        raise InvalidInput(f"{where} is not a policydb data package", errors)
    return read_csv_folder(path.parent)

"""The database as a Frictionless Data Package (v2): the CSV bundle plus ``datapackage.json``.

The CSV files are exactly those of ``policydb export --format csv`` (app/services/bundle_files);
the descriptor adds a Table Schema per file: field types, enum constraints from the
vocabularies, primary keys and foreign keys. Importing reads the CSV files back through the
same CSV reader and the same import path as every other import.
"""

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ErrorDetail, InvalidInput
from app.schemas.common import SLUG_PATTERN
from app.services.bundle_files import (
    CITATION_COLUMNS,
    LINK_COLUMNS,
    LINK_FILES,
    RECORD_COLUMNS,
    read_csv_folder,
    write_csv_folder,
)
from app.services.resources import WRITE_ORDER
from app.vocabularies import (
    ActorKind,
    ActorRole,
    GoalStatus,
    PolicyKind,
    PolicyRelationType,
    PolicyStatus,
    RegionKind,
    RegionRole,
)

DESCRIPTOR = "datapackage.json"
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
DIALECT_PROFILE = "https://datapackage.org/profiles/2.0/tabledialect.json"

PARTIAL_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
DECIMAL = r"^-?\d+(\.\d+)?$"

Field = dict[str, Any]


def _enum(vocabulary: type[StrEnum], required: bool = False) -> Field:
    constraints: dict[str, Any] = {"enum": [v.value for v in vocabulary]}
    if required:
        constraints["required"] = True
    return {"type": "string", "constraints": constraints}


def _slug(required: bool = False) -> Field:
    constraints: dict[str, Any] = {"pattern": SLUG_PATTERN.strip("^$")}
    if required:
        constraints["required"] = True
    return {"type": "string", "constraints": constraints}


_DATE: Field = {
    "type": "string",
    "description": "YYYY, YYYY-MM or YYYY-MM-DD",
    "constraints": {"pattern": PARTIAL_DATE.strip("^$")},
}
# Decimals are kept as strings: a "number" field would let readers round them.
_DECIMAL: Field = {
    "type": "string",
    "description": "A decimal number, written exactly",
    "constraints": {"pattern": DECIMAL.strip("^$")},
}
_REQUIRED: Field = {"type": "string", "constraints": {"required": True}}
_JSON_LIST: Field = {"type": "array", "description": "A JSON array"}
_JSON_OBJECT: Field = {"type": "object", "description": "A JSON object"}

# Fields that are not plain optional strings, per file (other columns: {"type": "string"}).
FIELDS: dict[str, dict[str, Field]] = {
    "sources": {
        "slug": _slug(True),
        "title": _REQUIRED,
        "authors": _JSON_LIST,
        "published": _DATE,
        "sha256": {"type": "string", "constraints": {"pattern": "[0-9a-f]{64}"}},
    },
    "regions": {
        "slug": _slug(True),
        "name": _REQUIRED,
        "names": _JSON_OBJECT,
        "aliases": _JSON_LIST,
        "kind": _enum(RegionKind, required=True),
        "iso_code": {"type": "string", "constraints": {"unique": True}},
        "parent": _slug(),
    },
    "actors": {
        "slug": _slug(True),
        "name": _REQUIRED,
        "names": _JSON_OBJECT,
        "aliases": _JSON_LIST,
        "kind": _enum(ActorKind, required=True),
        "region": _slug(),
        "parent": _slug(),
        "identifiers": _JSON_LIST,
    },
    "policies": {
        "slug": _slug(True),
        "title": _REQUIRED,
        "titles": _JSON_OBJECT,
        "kind": _enum(PolicyKind, required=True),
        "status": _enum(PolicyStatus),
        "identifiers": _JSON_LIST,
        "announced": _DATE,
        "in_force_from": _DATE,
        "in_force_to": _DATE,
        "money_amount": _DECIMAL,
        "money_currency": {"type": "string", "constraints": {"pattern": "[A-Z]{3}"}},
        "money_approximate": {"type": "boolean"},
        "topics": _JSON_LIST | {"description": "A JSON array of topic codes"},
    },
    "goals": {
        "slug": _slug(True),
        "statement": _REQUIRED,
        "policy": _slug(),
        "actor": _slug(),
        "target_value": _DECIMAL,
        "baseline_value": _DECIMAL,
        "deadline": _DATE,
        "stage": {"type": "integer", "constraints": {"minimum": 1}},
        "status": _enum(GoalStatus),
    },
    "policy_actors": {
        "policy": _slug(True),
        "actor": _slug(True),
        "role": _enum(ActorRole, required=True),
    },
    "policy_regions": {
        "policy": _slug(True),
        "region": _slug(True),
        "role": _enum(RegionRole, required=True),
    },
    "policy_relations": {
        "policy": _slug(True),
        "related_policy": _slug(True),
        "relation": _enum(PolicyRelationType, required=True),
    },
    "citations": {
        "resource": {
            "type": "string",
            "description": "The file of the cited record or link",
            "constraints": {"required": True, "enum": [*WRITE_ORDER, *LINK_FILES]},
        },
        "record": _slug(True),
        "source": _slug(True),
        "paragraph": {"type": "integer", "constraints": {"minimum": 1}},
    },
}

# file -> [(columns, referenced file, its columns)]
FOREIGN_KEYS: dict[str, list[tuple[list[str], str, list[str]]]] = {
    "regions": [(["parent"], "regions", ["slug"])],
    "actors": [(["region"], "regions", ["slug"]), (["parent"], "actors", ["slug"])],
    "goals": [(["policy"], "policies", ["slug"]), (["actor"], "actors", ["slug"])],
    "policy_actors": [(["policy"], "policies", ["slug"]), (["actor"], "actors", ["slug"])],
    "policy_regions": [(["policy"], "policies", ["slug"]), (["region"], "regions", ["slug"])],
    "policy_relations": [
        (["policy"], "policies", ["slug"]),
        (["related_policy"], "policies", ["slug"]),
    ],
    "citations": [(["source"], "sources", ["slug"])],
}
PRIMARY_KEYS: dict[str, list[str]] = {
    **{name: ["slug"] for name in WRITE_ORDER},
    **LINK_COLUMNS,
}
TITLES = {
    "sources": "Sources: the documents every fact is cited to",
    "regions": "Regions (a tree, with ISO 3166 codes)",
    "actors": "Actors behind and around policies",
    "policies": "Policies",
    "goals": "Goals: quantified targets with deadlines",
    "policy_actors": "Actors of each policy, with their role",
    "policy_regions": "Regions of each policy, with their role",
    "policy_relations": "Relations between policies",
    "citations": "Citations of records and links",
}


def _columns(name: str) -> list[str]:
    if name in RECORD_COLUMNS:
        return RECORD_COLUMNS[name]
    if name in LINK_COLUMNS:
        return LINK_COLUMNS[name]
    return CITATION_COLUMNS


def _field(name: str, column: str) -> Field:
    spec = FIELDS.get(name, {}).get(column, {"type": "string"})
    return {"name": column, **json.loads(json.dumps(spec))}


def _table_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": SCHEMA_PROFILE,
        "fields": [_field(name, column) for column in _columns(name)],
        "missingValues": [""],
    }
    if name in PRIMARY_KEYS:
        schema["primaryKey"] = PRIMARY_KEYS[name]
    if name in FOREIGN_KEYS:
        keys = []
        for columns, target, target_columns in FOREIGN_KEYS[name]:
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
                "title": TITLES[name],
                "path": f"{name}.csv",
                "type": "table",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"$schema": DIALECT_PROFILE, "header": True, "delimiter": ","},
                "schema": _table_schema(name),
            }
            for name in [*WRITE_ORDER, *LINK_FILES, "citations"]
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
    expected = {f"{name}.csv" for name in [*WRITE_ORDER, *LINK_FILES, "citations"]}
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

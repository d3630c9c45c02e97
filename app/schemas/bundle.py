"""The bundle: a whole dataset in one document (JSON or YAML), records referring by slug."""

from typing import Literal

from pydantic import BaseModel

BUNDLE_FORMAT = "policydb-bundle"
BUNDLE_VERSION = 1


class ImportCounts(BaseModel):
    created: int
    updated: int
    unchanged: int
    deleted: int


class ImportReport(BaseModel):
    """What an import did; with ``dry_run`` what it would have done (nothing was written)."""

    dry_run: bool
    mode: Literal["upsert", "insert", "replace"]
    counts: dict[str, ImportCounts]

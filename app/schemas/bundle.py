"""The bundle: a whole dataset in one document (JSON or YAML), records referring by slug."""

from typing import Any, Literal

from pydantic import BaseModel, Field

BUNDLE_FORMAT = "policydb-bundle"
BUNDLE_VERSION = 1

ImportModeName = Literal["upsert", "merge", "insert", "replace"]


class ImportCounts(BaseModel):
    created: int
    updated: int
    unchanged: int
    deleted: int


class FieldChange(BaseModel):
    """A field's stored value and the value the import gives it (null: absent)."""

    old: Any = None
    new: Any = None


class RecordChange(BaseModel):
    """One record an import creates, changes or deletes, field by field (links and citations
    are fields too: their whole list before and after)."""

    resource: str
    slug: str
    action: Literal["create", "update", "delete"]
    fields: dict[str, FieldChange]
    cleared: list[str] = Field(
        default=[],
        description="Fields that held a value (or links, citations) and are left empty: in "
        "mode upsert, every field the bundle omits is cleared; mode merge keeps them.",
    )


class ImportReport(BaseModel):
    """What an import did; with ``dry_run`` what it would have done (nothing was written)."""

    dry_run: bool
    mode: ImportModeName
    counts: dict[str, ImportCounts]
    changes: list[RecordChange] = Field(
        default=[],
        description="The first changed records in full (created, updated, deleted); the "
        "counts cover them all.",
    )
    changes_total: int = Field(
        default=0, description="How many records change; more than `changes` lists if large."
    )
    warnings: list[str] = []

"""The bundle: a whole dataset in one document (JSON or YAML), records referring by slug."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.actor import ActorRecord
from app.schemas.goal import GoalRecord
from app.schemas.policy import PolicyRecord
from app.schemas.region import RegionRecord
from app.schemas.source import SourceRecord

BUNDLE_FORMAT = "policydb-bundle"
BUNDLE_VERSION = 1


class Bundle(BaseModel):
    """A policydb dataset. Records refer to each other by slug, in any order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": "urn:policydb:bundle:1", "title": "policydb bundle"},
    )

    format: Literal["policydb-bundle"] = "policydb-bundle"
    version: Literal[1] = 1
    sources: list[SourceRecord] = Field(default_factory=list)
    regions: list[RegionRecord] = Field(default_factory=list)
    actors: list[ActorRecord] = Field(default_factory=list)
    policies: list[PolicyRecord] = Field(default_factory=list)
    goals: list[GoalRecord] = Field(default_factory=list)


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

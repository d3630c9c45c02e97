from pydantic import BaseModel, Field, model_validator

from app.schemas.common import (
    MAX_INT,
    RECORD_READ_ONLY,
    Citations,
    DecimalValue,
    PartialDateValue,
    RecordOut,
    SafeText,
    Slug,
    Text,
    WriteModel,
)
from app.vocabularies import GoalStatus


class GoalRecord(WriteModel):
    """A goal as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"owners"}

    slug: Slug = Field(examples=["moe-ai-higher-education-stage-1"])
    statement: Text = Field(
        max_length=2000, examples=["Finish bringing AI into university curricula."]
    )
    policy: Slug | None = Field(default=None, description="Slug of the policy that sets the goal.")
    actor: Slug | None = Field(default=None, description="Slug of the actor that owns the goal.")
    metric: SafeText | None = Field(default=None, max_length=300)
    target_value: DecimalValue | None = None
    unit: SafeText | None = Field(default=None, max_length=100, examples=["persons"])
    baseline_value: DecimalValue | None = None
    deadline: PartialDateValue | None = None
    stage: int | None = Field(
        default=None, ge=1, le=MAX_INT, description="Order of the stage in a staged plan."
    )
    status: GoalStatus = GoalStatus.unknown
    citations: Citations

    @model_validator(mode="after")
    def _has_owner(self) -> "GoalRecord":
        if self.policy is None and self.actor is None:
            raise ValueError("a goal needs an owner: policy, actor or both")
        return self


class GoalOwners(BaseModel):
    policy_title: str | None
    actor_name: str | None


class GoalOut(RecordOut, GoalRecord):
    READ_ONLY = frozenset()

    owners: GoalOwners

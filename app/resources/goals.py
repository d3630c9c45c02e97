"""Goals: quantified targets with deadlines, set by a policy or an actor."""

from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import selectinload

import app.resources.document as doc
from app.models import Actor, Citation, Goal, Policy
from app.resources.descriptor import (
    DateBound,
    EndsOnOrAfter,
    Facet,
    Filter,
    Is,
    Reference,
    Resource,
    SearchText,
    SlugOf,
    Sortable,
    StartsOnOrBefore,
    cited,
    text_search,
    timestamps,
)
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

# The record's shapes: as written (POST/PUT bodies, bundles) and as read (GET).


class GoalRecord(WriteModel):
    """A goal as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"owners"}

    slug: Slug = Field(examples=["example-ai-curriculum-goal", "moe-ai-higher-education-stage-1"])
    statement: Text = Field(
        max_length=2000, examples=["Finish bringing AI into university curricula."]
    )
    policy: Slug | None = Field(
        default=None,
        description="Slug of the policy that sets the goal.",
        examples=["new-generation-ai-development-plan"],
    )
    actor: Slug | None = Field(
        default=None,
        description="Slug of the actor that owns the goal.",
        examples=["ministry-of-education"],
    )
    metric: SafeText | None = Field(default=None, max_length=300)
    target_value: DecimalValue | None = None
    unit: SafeText | None = Field(default=None, max_length=100, examples=["persons"])
    baseline_value: DecimalValue | None = None
    baseline_date: PartialDateValue | None = Field(
        default=None, description="When the baseline value was measured or stated."
    )
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


# The read document (GET), declared once: app/services/read builds it in Python and SQL.

GOAL_DOCUMENT = doc.DocumentSpec(
    Goal,
    (
        doc.Text("slug"),
        doc.Text("statement"),
        doc.Reference("policy", "policy_id", Policy),
        doc.Reference("actor", "actor_id", Actor),
        doc.Text("metric"),
        doc.Amount("target_value"),
        doc.Text("unit"),
        doc.Amount("baseline_value"),
        doc.PartialDate("baseline_date"),
        doc.PartialDate("deadline"),
        doc.Integer("stage"),
        doc.Text("status"),
        doc.Citations("goal_id"),
        *doc.RECORD_TAIL,
        doc.Nested(
            "owners",
            (
                doc.Reference("policy_title", "policy_id", Policy, "title"),
                doc.Reference("actor_name", "actor_id", Actor, "name"),
            ),
        ),
    ),
)


# The descriptor.

GOALS = Resource(
    name="goals",
    singular="goal",
    model=Goal,
    record=GoalRecord,
    document=GoalOut,
    cited_as=Citation.goal_id,
    label=Goal.statement,
    search=SearchText(Goal.statement, (Goal.metric, Goal.unit)),
    document_spec=GOAL_DOCUMENT,
    facets={
        "status": Facet("goal status", Goal.status),
        "policy": Facet("owner policy", Goal.policy_id, target="policies"),
        "actor": Facet("owner actor", Goal.actor_id, target="actors"),
        "year": Facet("deadline year", Goal.deadline_earliest, by_year=True),
    },
    sortable={
        **timestamps(Goal),
        "deadline": Sortable(Goal.deadline_earliest, nullable=True),
        "stage": Sortable(Goal.stage, nullable=True),
    },
    filters={
        "q": text_search(Goal),
        "policy": Filter(
            SlugOf("policies"),
            Is(Goal.policy_id),
            "Slug of the owning policy.",
            ("tianjin-100bn-rmb-ai-fund",),
        ),
        "actor": Filter(
            SlugOf("actors"), Is(Goal.actor_id), "Slug of the owning actor.", ("steve-chen",)
        ),
        "deadline_from": Filter(
            DateBound(),
            EndsOnOrAfter(Goal.deadline_latest),
            "Deadline on or after (overlap).",
            ("2025",),
        ),
        "deadline_to": Filter(
            DateBound(),
            StartsOnOrBefore(Goal.deadline_earliest),
            "Deadline on or before (overlap).",
            ("2030",),
        ),
    },
    references=(
        Reference("policy", "policies", Goal.policy_id, referrers="goals"),
        Reference("actor", "actors", Goal.actor_id, referrers="goals"),
    ),
    load_for_write=(selectinload(Goal.policy), selectinload(Goal.actor), cited(Goal.citations)),
)

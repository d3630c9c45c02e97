"""Goals: quantified targets with deadlines, set by a policy or an actor."""

from sqlalchemy.orm import selectinload

from app.models import Citation, Goal
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
from app.schemas.goal import GoalOut, GoalRecord

GOALS = Resource(
    name="goals",
    singular="goal",
    model=Goal,
    record=GoalRecord,
    document=GoalOut,
    cited_as=Citation.goal_id,
    label=Goal.statement,
    search=SearchText(Goal.statement, (Goal.metric, Goal.unit)),
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

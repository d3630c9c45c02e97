"""Goals: quantified targets with deadlines, set by a policy or an actor."""

from sqlalchemy.orm import selectinload

from app.models import Citation, Goal
from app.resources.descriptor import (
    Facet,
    Reference,
    Resource,
    SearchText,
    Sortable,
    cited,
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
    references=(
        Reference("policy", "policies", Goal.policy_id, referrers="goals"),
        Reference("actor", "actors", Goal.actor_id, referrers="goals"),
    ),
    load_for_write=(selectinload(Goal.policy), selectinload(Goal.actor), cited(Goal.citations)),
)

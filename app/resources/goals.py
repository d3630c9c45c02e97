"""Goals: quantified targets with deadlines, set by a policy or an actor."""

from sqlalchemy.orm import selectinload

from app.models import Citation, Goal
from app.resources.descriptor import Reference, Resource, Sortable, cited, timestamps
from app.schemas.goal import GoalOut, GoalRecord

GOALS = Resource(
    name="goals",
    singular="goal",
    model=Goal,
    record=GoalRecord,
    document=GoalOut,
    cited_as=Citation.goal_id,
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

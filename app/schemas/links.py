"""Links between records, as embedded in the records that own them."""

from collections.abc import Sequence

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from app.models import Citation as CitationModel
from app.models import Goal
from app.schemas.common import Citation, Citations, Slug, WriteModel
from app.vocabularies import ActorRole, PolicyRelationType, RegionRole

_RO: JsonDict = {"readOnly": True}


class ActorLink(WriteModel):
    """An actor's role in a policy."""

    READ_ONLY = frozenset({"actor_name"})

    actor: Slug
    role: ActorRole
    citations: Citations
    actor_name: str | None = Field(default=None, json_schema_extra=_RO)


class RegionLink(WriteModel):
    """A region a policy applies to, with the role it plays."""

    READ_ONLY = frozenset({"region_name"})

    region: Slug
    role: RegionRole
    citations: Citations
    region_name: str | None = Field(default=None, json_schema_extra=_RO)


class RelationLink(WriteModel):
    """This policy --relation--> ``policy`` (e.g. this plan *implements* that one)."""

    READ_ONLY = frozenset({"policy_title"})

    policy: Slug
    relation: PolicyRelationType
    citations: Citations
    policy_title: str | None = Field(default=None, json_schema_extra=_RO)


class PolicyRef(BaseModel):
    """A policy seen from a linked record, with the role or relation that links them."""

    policy: str
    title: str
    role: str


class GoalRef(BaseModel):
    slug: str
    statement: str
    deadline: str | None
    stage: int | None


def citations_out(citations: Sequence[CitationModel], *, read_only: bool = True) -> list[Citation]:
    return [
        Citation.model_construct(
            source=c.source.slug,
            section=c.section,
            paragraph=c.paragraph,
            excerpt=c.excerpt,
            note=c.note,
            source_title=c.source.title if read_only else None,
        )
        for c in citations
    ]


def goal_ref(goal: Goal) -> GoalRef:
    deadline = goal.deadline
    return GoalRef(
        slug=goal.slug,
        statement=goal.statement,
        deadline=str(deadline) if deadline else None,
        stage=goal.stage,
    )

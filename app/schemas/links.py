"""Links between records, as embedded in the records that own them."""

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from app.schemas.common import Citations, Slug, WriteModel
from app.vocabularies import ActorRole, PolicyRelationType, RegionRole

_RO: JsonDict = {"readOnly": True}


class ActorLink(WriteModel):
    """An actor's role in a policy."""

    READ_ONLY = frozenset({"actor_name"})

    actor: Slug = Field(examples=["state-council"])
    role: ActorRole
    citations: Citations
    actor_name: str | None = Field(default=None, json_schema_extra=_RO)


class RegionLink(WriteModel):
    """A region a policy applies to, with the role it plays."""

    READ_ONLY = frozenset({"region_name"})

    region: Slug = Field(examples=["cn"])
    role: RegionRole
    citations: Citations
    region_name: str | None = Field(default=None, json_schema_extra=_RO)


class RelationLink(WriteModel):
    """This policy --relation--> ``policy`` (e.g. this plan *implements* that one)."""

    READ_ONLY = frozenset({"policy_title"})

    policy: Slug = Field(examples=["new-generation-ai-development-plan"])
    relation: PolicyRelationType
    citations: Citations
    policy_title: str | None = Field(default=None, json_schema_extra=_RO)


# A record embeds at most this many of its linked policies (and an actor of its goals), with
# their total: a hub region or actor links thousands, and its document must stay small.
EMBEDDED_LINKS = 100


class PolicyRef(BaseModel):
    """A policy seen from a linked record, with the role or relation that links them."""

    policy: str
    title: str
    role: str


class PolicyRefPage(BaseModel):
    """A page of the policies linked to a region or actor; ``next`` fetches the following."""

    items: list[PolicyRef]
    total: int
    next: str | None = Field(description="URL of the next page, null on the last page.")


class GoalRef(BaseModel):
    slug: str
    statement: str
    deadline: str | None
    stage: int | None

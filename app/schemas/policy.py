from pydantic import BaseModel, Field, model_validator

from app.schemas.common import (
    MAX_LINKS,
    MAX_NAMES,
    RECORD_READ_ONLY,
    Citations,
    CurrencyCode,
    DecimalValue,
    Identifiers,
    LocalNames,
    LongText,
    PartialDateValue,
    RecordOut,
    SafeText,
    Slug,
    Text,
    WriteModel,
    unique_items,
)
from app.schemas.explore import ChainLink
from app.schemas.links import (
    ActorLink,
    GoalRef,
    PolicyRef,
    RegionLink,
    RelationLink,
)
from app.vocabularies import (
    PolicyKind,
    PolicyStatus,
    Topic,
)


class Money(WriteModel):
    amount: DecimalValue = Field(ge=0, examples=["100000000000"])
    currency: CurrencyCode
    approximate: bool = Field(
        default=False, description="True when the source gives a rough figure."
    )


class PolicyRecord(WriteModel):
    """A policy as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"related_from", "goals"}

    slug: Slug = Field(examples=["new-generation-ai-development-plan"])
    title: Text = Field(
        max_length=500, examples=["New Generation Artificial Intelligence Development Plan"]
    )
    short_name: SafeText | None = Field(default=None, max_length=100, examples=["AIDP"])
    titles: LocalNames = Field(default_factory=dict, examples=[{"zh": "新一代人工智能发展规划"}])
    kind: PolicyKind
    status: PolicyStatus = PolicyStatus.unknown
    summary: LongText | None = None
    identifiers: Identifiers
    announced: PartialDateValue | None = None
    in_force_from: PartialDateValue | None = None
    in_force_to: PartialDateValue | None = None
    money: Money | None = None
    topics: list[Topic] = Field(default_factory=list, max_length=MAX_NAMES)
    actors: list[ActorLink] = Field(
        default_factory=list,
        max_length=MAX_LINKS,
        examples=[[{"actor": "state-council", "role": "issuer", "citations": []}]],
    )
    regions: list[RegionLink] = Field(default_factory=list, max_length=MAX_LINKS)
    related: list[RelationLink] = Field(
        default_factory=list,
        max_length=MAX_LINKS,
        description="Relations from this policy to others.",
    )
    citations: Citations

    @model_validator(mode="after")
    def _consistent(self) -> "PolicyRecord":
        if (
            self.in_force_from is not None
            and self.in_force_to is not None
            and self.in_force_from.earliest > self.in_force_to.latest
        ):
            raise ValueError("in_force_from is after in_force_to")
        unique_items(((t,) for t in self.topics), "topic")
        self.topics.sort()  # a set: one canonical order, so re-imports compare equal
        unique_items(((a.actor, a.role) for a in self.actors), "actor link")
        unique_items(((r.region, r.role) for r in self.regions), "region link")
        unique_items(((r.policy, r.relation) for r in self.related), "relation")
        if any(r.policy == self.slug for r in self.related):
            raise ValueError("a policy cannot be related to itself")
        return self


class PolicyOut(RecordOut, PolicyRecord):
    READ_ONLY = frozenset()

    related_from: list[PolicyRef] = Field(
        description="Policies with a relation to this one; `role` is their relation."
    )
    goals: list[GoalRef]
    relation_chain: list[ChainLink] | None = Field(
        default=None,
        description="With `expand=relations`: policies reached through implements/supports/"
        "amends links, transitively.",
        exclude_if=lambda value: value is None,
    )
    relation_chain_truncated: bool | None = Field(
        default=None,
        description="With `expand=relations`: true when the chain holds more policies than "
        "the server lists (POLICYDB_EXPAND_MAX_LINKS).",
        exclude_if=lambda value: value is None,
    )


class PolicySummary(BaseModel):
    slug: str
    title: str

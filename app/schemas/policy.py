from pydantic import BaseModel, Field, model_validator

from app.models import Policy
from app.schemas.common import (
    MAX_LINKS,
    MAX_NAMES,
    RECORD_READ_ONLY,
    Citations,
    CurrencyCode,
    DecimalValue,
    Identifier,
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
    citations_out,
    goal_ref,
)
from app.vocabularies import (
    ActorRole,
    PolicyKind,
    PolicyRelationType,
    PolicyStatus,
    RegionRole,
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

    @classmethod
    def from_model(cls, policy: Policy, *, read_only: bool = True) -> "PolicyOut":
        money = None
        if policy.money_amount is not None and policy.money_currency is not None:
            money = Money(
                amount=policy.money_amount,
                currency=policy.money_currency,
                approximate=policy.money_approximate,
            )
        return cls(
            id=policy.id,
            created_at=policy.created_at,
            updated_at=policy.updated_at,
            slug=policy.slug,
            title=policy.title,
            short_name=policy.short_name,
            titles=policy.titles,
            kind=PolicyKind(policy.kind),
            status=PolicyStatus(policy.status),
            summary=policy.summary,
            identifiers=[Identifier(**i) for i in policy.identifiers],
            announced=policy.announced,
            in_force_from=policy.in_force_from,
            in_force_to=policy.in_force_to,
            money=money,
            topics=[Topic(t) for t in policy.topics],
            actors=[
                ActorLink.model_construct(
                    actor=link.actor.slug,
                    role=ActorRole(link.role),
                    citations=citations_out(link.citations, read_only=read_only),
                    actor_name=link.actor.name if read_only else None,
                )
                for link in policy.actor_links
            ],
            regions=[
                RegionLink.model_construct(
                    region=link.region.slug,
                    role=RegionRole(link.role),
                    citations=citations_out(link.citations, read_only=read_only),
                    region_name=link.region.name if read_only else None,
                )
                for link in policy.region_links
            ],
            related=[
                RelationLink.model_construct(
                    policy=rel.related_policy.slug,
                    relation=PolicyRelationType(rel.relation),
                    citations=citations_out(rel.citations, read_only=read_only),
                    policy_title=rel.related_policy.title if read_only else None,
                )
                for rel in policy.relations
            ],
            citations=citations_out(policy.citations, read_only=read_only),
            related_from=[
                PolicyRef(policy=rel.policy.slug, title=rel.policy.title, role=rel.relation)
                for rel in policy.incoming_relations
            ]
            if read_only
            else [],
            goals=[goal_ref(g) for g in policy.goals] if read_only else [],
        )


class PolicySummary(BaseModel):
    slug: str
    title: str

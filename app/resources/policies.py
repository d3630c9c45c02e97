"""Policies: plans, laws, measures, funds, zones and initiatives, with their links."""

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import case, func
from sqlalchemy.orm import selectinload

import app.resources.document as doc
from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    PolicyTopic,
    Region,
)
from app.resources.descriptor import (
    Codes,
    DateBound,
    EndsOnOrAfter,
    Facet,
    Filter,
    Is,
    Linked,
    Links,
    Resource,
    SearchText,
    SlugOf,
    Sortable,
    Spans,
    StartsOnOrBefore,
    ValueList,
    cited,
    text_search,
    timestamps,
    within_region,
)
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
    ActorRole,
    PolicyKind,
    PolicyStatus,
    RegionRole,
    Topic,
)

# The record's shapes: as written (POST/PUT bodies, bundles) and as read (GET).


class Money(WriteModel):
    amount: DecimalValue = Field(ge=0, examples=["100000000000"])
    currency: CurrencyCode
    approximate: bool = Field(
        default=False, description="True when the source gives a rough figure."
    )


class PolicyRecord(WriteModel):
    """A policy as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"related_from", "goals"}

    slug: Slug = Field(examples=["example-ai-talent-plan", "new-generation-ai-development-plan"])
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


# The read document (GET), declared once: app/services/read builds it in Python and SQL.

POLICY_DOCUMENT = doc.DocumentSpec(
    Policy,
    (
        doc.Text("slug"),
        doc.Text("title"),
        doc.Text("short_name"),
        doc.JsonObject("titles"),
        doc.Text("kind"),
        doc.Text("status"),
        doc.Text("summary"),
        doc.IDENTIFIERS,
        doc.PartialDate("announced"),
        doc.PartialDate("in_force_from"),
        doc.PartialDate("in_force_to"),
        doc.Nested(
            "money",
            (
                doc.Amount("amount", "money_amount"),
                doc.Text("currency", "money_currency"),
                doc.Boolean("approximate", "money_approximate"),
            ),
            unless_null=("money_amount", "money_currency"),
        ),
        doc.Embedded("topics", PolicyTopic, "policy_id", ("topic",), doc.Text("topic")),
        doc.Embedded(
            "actors",
            PolicyActor,
            "policy_id",
            ("position", "id"),
            (
                doc.Reference("actor", "actor_id", Actor),
                doc.Text("role"),
                doc.Citations("policy_actor_id"),
                doc.Reference("actor_name", "actor_id", Actor, "name"),
            ),
        ),
        doc.Embedded(
            "regions",
            PolicyRegion,
            "policy_id",
            ("position", "id"),
            (
                doc.Reference("region", "region_id", Region),
                doc.Text("role"),
                doc.Citations("policy_region_id"),
                doc.Reference("region_name", "region_id", Region, "name"),
            ),
        ),
        doc.Embedded(
            "related",
            PolicyRelation,
            "policy_id",
            ("position", "id"),
            (
                doc.Reference("policy", "related_policy_id", Policy),
                doc.Text("relation"),
                doc.Citations("policy_relation_id"),
                doc.Reference("policy_title", "related_policy_id", Policy, "title"),
            ),
        ),
        doc.Citations("policy_id"),
        *doc.RECORD_TAIL,
        doc.Embedded(
            "related_from",
            PolicyRelation,
            "related_policy_id",
            ("id",),
            (
                doc.Reference("policy", "policy_id", Policy),
                doc.Reference("title", "policy_id", Policy, "title"),
                doc.Text("role", "relation"),
            ),
        ),
        # Unstaged goals last on every engine (SQLite sorts NULL first, PostgreSQL last).
        doc.Embedded("goals", Goal, "policy_id", (doc.NullsLast("stage"), "id"), doc.GOAL_REF),
    ),
)


# The descriptor.

# When a policy is in force: from its stated start or else from its announcement, unless it is
# only planned (a pledge is not in force); until its stated end, or open-ended.
IN_FORCE_START = func.coalesce(
    Policy.in_force_from_earliest,
    case((Policy.status == PolicyStatus.planned.value, None), else_=Policy.announced_earliest),
)

POLICIES = Resource(
    name="policies",
    singular="policy",
    model=Policy,
    record=PolicyRecord,
    document=PolicyOut,
    cited_as=Citation.policy_id,
    label=Policy.title,
    search=SearchText(
        Policy.title, (Policy.short_name, Policy.titles, Policy.summary, Policy.identifiers)
    ),
    document_spec=POLICY_DOCUMENT,
    facets={
        "kind": Facet("policy kind", Policy.kind),
        "status": Facet("status", Policy.status),
        "topic": Facet("topic", PolicyTopic.topic, owner=PolicyTopic.policy_id),
        "region": Facet(
            "directly linked region",
            PolicyRegion.region_id,
            owner=PolicyRegion.policy_id,
            target="regions",
        ),
        "actor": Facet(
            "linked actor", PolicyActor.actor_id, owner=PolicyActor.policy_id, target="actors"
        ),
        "year": Facet("year announced", Policy.announced_earliest, by_year=True),
    },
    sortable={
        **timestamps(Policy),
        "title": Sortable(Policy.title),
        "announced": Sortable(Policy.announced_earliest, nullable=True),
        "in_force_from": Sortable(Policy.in_force_from_earliest, nullable=True),
        "in_force_to": Sortable(Policy.in_force_to_earliest, nullable=True),
    },
    filters={
        "q": text_search(Policy),
        "kind": Filter(
            Codes(PolicyKind),
            Is(Policy.kind),
            "Policy kind (repeat for any of several).",
            ("fund",),
        ),
        "status": Filter(
            Codes(PolicyStatus), Is(Policy.status), "Status (repeatable).", ("in_force",)
        ),
        "topic": Filter(
            Codes(Topic),
            Linked(PolicyTopic.policy_id, PolicyTopic.topic, every=True),
            "Topic (repeatable; all must match).",
            ("talent",),
        ),
        "region": within_region(Linked(PolicyRegion.policy_id, PolicyRegion.region_id)),
        "region_role": Filter(
            Codes(RegionRole),
            Linked(PolicyRegion.policy_id, PolicyRegion.role),
            "With `region`: only links with this role (repeatable), e.g. `jurisdiction` to "
            "leave out other countries' measures that merely target the region.",
            ("jurisdiction",),
        ),
        "actor": Filter(
            SlugOf("actors"),
            Linked(PolicyActor.policy_id, PolicyActor.actor_id),
            "Actor slug.",
            ("ministry-of-education",),
        ),
        "actor_role": Filter(
            Codes(ActorRole),
            Linked(PolicyActor.policy_id, PolicyActor.role),
            "With `actor`: only links with this role (repeatable).",
            ("issuer",),
        ),
        "announced_from": Filter(
            DateBound(),
            EndsOnOrAfter(Policy.announced_latest),
            "Announced on or after (overlap: 2019 matches 2019-07).",
            ("2019",),
        ),
        "announced_to": Filter(
            DateBound(),
            StartsOnOrBefore(Policy.announced_earliest),
            "Announced on or before (overlap).",
            ("2020-06",),
        ),
        "in_force_on": Filter(
            DateBound(),
            Spans(IN_FORCE_START, Policy.in_force_to_latest),
            "In force at some time within this date.",
            ("2022",),
        ),
    },
    links=(
        Links(
            field="actors",
            key="actor",
            kind="role",
            label="actor_name",
            target="actors",
            model=PolicyActor,
            owner=PolicyActor.policy_id,
            target_column=PolicyActor.actor_id,
            cited_as=Citation.policy_actor_id,
            referrers="policy links",
        ),
        Links(
            field="regions",
            key="region",
            kind="role",
            label="region_name",
            target="regions",
            model=PolicyRegion,
            owner=PolicyRegion.policy_id,
            target_column=PolicyRegion.region_id,
            cited_as=Citation.policy_region_id,
            referrers="policy links",
        ),
        Links(
            field="related",
            key="policy",
            kind="relation",
            label="policy_title",
            target="policies",
            model=PolicyRelation,
            owner=PolicyRelation.policy_id,
            target_column=PolicyRelation.related_policy_id,
            cited_as=Citation.policy_relation_id,
            referrers="relations from other policies",
        ),
    ),
    expansions=frozenset({"relations"}),
    load_for_write=(
        selectinload(Policy.topic_links),
        selectinload(Policy.actor_links).selectinload(PolicyActor.actor),
        selectinload(Policy.actor_links).options(cited(PolicyActor.citations)),
        selectinload(Policy.region_links).selectinload(PolicyRegion.region),
        selectinload(Policy.region_links).options(cited(PolicyRegion.citations)),
        selectinload(Policy.relations).selectinload(PolicyRelation.related_policy),
        selectinload(Policy.relations).options(cited(PolicyRelation.citations)),
        cited(Policy.citations),
    ),
    value_lists=(ValueList("topics", PolicyTopic, PolicyTopic.policy_id, PolicyTopic.topic),),
)

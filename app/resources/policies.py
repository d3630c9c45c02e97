"""Policies: plans, laws, measures, funds, zones and initiatives, with their links."""

from sqlalchemy import case, func
from sqlalchemy.orm import selectinload

from app.models import Citation, Policy, PolicyActor, PolicyRegion, PolicyRelation, PolicyTopic
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
from app.schemas.policy import PolicyOut, PolicyRecord
from app.vocabularies import ActorRole, PolicyKind, PolicyStatus, Topic

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

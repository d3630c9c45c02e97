"""Policies: plans, laws, measures, funds, zones and initiatives, with their links."""

from sqlalchemy.orm import selectinload

from app.models import Citation, Policy, PolicyActor, PolicyRegion, PolicyRelation, PolicyTopic
from app.resources.descriptor import Links, Resource, Sortable, ValueList, cited, timestamps
from app.schemas.policy import PolicyOut, PolicyRecord

POLICIES = Resource(
    name="policies",
    singular="policy",
    model=Policy,
    record=PolicyRecord,
    document=PolicyOut,
    cited_as=Citation.policy_id,
    sortable={
        **timestamps(Policy),
        "title": Sortable(Policy.title),
        "announced": Sortable(Policy.announced_earliest, nullable=True),
        "in_force_from": Sortable(Policy.in_force_from_earliest, nullable=True),
        "in_force_to": Sortable(Policy.in_force_to_earliest, nullable=True),
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

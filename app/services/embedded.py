"""The long lists a record embeds only the start of, paged in full: what a source supports,
and the policies linked to a region or an actor."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Subquery, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    Region,
)

Document = dict[str, Any]
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)


def _supports() -> Subquery:
    """Every citation with what it cites: ``type`` (policy, actor, region, goal, or a link:
    policy_actor, policy_region, policy_relation), ``record`` (the slug of the record, or of
    the link's policy) and ``link`` ("role: slug" of the link's other end)."""
    ends = {name: aliased(Policy) for name in ("actor_link", "region_link", "relation", "target")}
    linked_actor, linked_region = aliased(Actor), aliased(Region)
    cited = (
        (Citation.policy_actor_id, "policy_actor", ends["actor_link"].slug),
        (Citation.policy_region_id, "policy_region", ends["region_link"].slug),
        (Citation.policy_relation_id, "policy_relation", ends["relation"].slug),
        (Citation.policy_id, "policy", Policy.slug),
        (Citation.actor_id, "actor", Actor.slug),
        (Citation.region_id, "region", Region.slug),
    )
    links = (
        (Citation.policy_actor_id, PolicyActor.role, linked_actor.slug),
        (Citation.policy_region_id, PolicyRegion.role, linked_region.slug),
        (Citation.policy_relation_id, PolicyRelation.relation, ends["target"].slug),
    )
    return (
        select(
            Citation.id,
            Citation.source_id,
            case(*((owner.is_not(None), kind) for owner, kind, _ in cited), else_="goal").label(
                "type"
            ),
            case(*((owner.is_not(None), slug) for owner, _, slug in cited), else_=Goal.slug).label(
                "record"
            ),
            case(*((owner.is_not(None), kind + ": " + slug) for owner, kind, slug in links)).label(
                "link"
            ),
            Citation.section,
            Citation.paragraph,
            Citation.excerpt,
            Citation.note,
        )
        .outerjoin(PolicyActor, PolicyActor.id == Citation.policy_actor_id)
        .outerjoin(ends["actor_link"], ends["actor_link"].id == PolicyActor.policy_id)
        .outerjoin(linked_actor, linked_actor.id == PolicyActor.actor_id)
        .outerjoin(PolicyRegion, PolicyRegion.id == Citation.policy_region_id)
        .outerjoin(ends["region_link"], ends["region_link"].id == PolicyRegion.policy_id)
        .outerjoin(linked_region, linked_region.id == PolicyRegion.region_id)
        .outerjoin(PolicyRelation, PolicyRelation.id == Citation.policy_relation_id)
        .outerjoin(ends["relation"], ends["relation"].id == PolicyRelation.policy_id)
        .outerjoin(ends["target"], ends["target"].id == PolicyRelation.related_policy_id)
        .outerjoin(Policy, Policy.id == Citation.policy_id)
        .outerjoin(Actor, Actor.id == Citation.actor_id)
        .outerjoin(Region, Region.id == Citation.region_id)
        .outerjoin(Goal, Goal.id == Citation.goal_id)
        .subquery("supports")
    )


# What a source supports, as its document embeds it (app/services/read/specs.py) and as the
# supports pages list it: the columns after id and source_id are a SupportedFact's fields.
SUPPORTS = _supports()
_FACT_KEYS = [column.key for column in SUPPORTS.c][2:]
_SUPPORTS_PAGE = (
    select(SUPPORTS)
    .where(SUPPORTS.c.source_id == bindparam("source_id"), SUPPORTS.c.id > bindparam("after"))
    .order_by(SUPPORTS.c.id)
    .limit(bindparam("limit"))
)
_SUPPORT_COUNTS = (
    select(Citation.source_id, func.count())
    .where(Citation.source_id.in_(_IDS))
    .group_by(Citation.source_id)
)


def supported_facts(
    session: Session, source_id: int, *, after: int = 0, limit: int
) -> tuple[list[Document], int | None]:
    """A page of what a source supports, by citation id, and the id to continue after."""
    rows = session.execute(
        _SUPPORTS_PAGE, {"source_id": source_id, "after": after, "limit": limit + 1}
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    facts = [{key: row._mapping[key] for key in _FACT_KEYS} for row in rows]
    return facts, (rows[-1].id if more else None)


def support_counts(session: Session, source_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(_SUPPORT_COUNTS, {"ids": list(source_ids)})
    return {row[0]: int(row[1]) for row in rows}


def _linked_policies(link: Any, owner: Any) -> Any:
    return (
        select(link.id, Policy.slug, Policy.title, link.role)
        .join(Policy, Policy.id == link.policy_id)
        .where(owner == bindparam("owner"), link.id > bindparam("after"))
        .order_by(link.id)
        .limit(bindparam("limit"))
    )


_LINKED = {
    "regions": (
        _linked_policies(PolicyRegion, PolicyRegion.region_id),
        select(func.count()).where(PolicyRegion.region_id == bindparam("owner")),
    ),
    "actors": (
        _linked_policies(PolicyActor, PolicyActor.actor_id),
        select(func.count()).where(PolicyActor.actor_id == bindparam("owner")),
    ),
}


def linked_policies(
    session: Session, resource: str, owner_id: int, *, after: int = 0, limit: int
) -> tuple[list[Document], int, int | None]:
    """A page of the policies linked to a region or actor, in link order: the items (as the
    record embeds them), the total, and the link id to continue after (None on the last page)."""
    page, count = _LINKED[resource]
    rows = session.execute(page, {"owner": owner_id, "after": after, "limit": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"policy": slug, "title": title, "role": role} for _id, slug, title, role in rows]
    total = int(session.scalar(count, {"owner": owner_id}) or 0)
    return items, total, (rows[-1].id if more else None)

"""The long lists a record embeds only the start of, paged in full: what a source supports,
and the policies linked to a region or an actor."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, func, select
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


def _supports_query() -> Any:
    """A source's citations, with what each one cites (a record, or a link and its ends)."""
    ends = {name: aliased(Policy) for name in ("actor_link", "region_link", "relation", "target")}
    linked_actor, linked_region = aliased(Actor), aliased(Region)
    return (
        select(
            Citation.id,
            Citation.section,
            Citation.paragraph,
            Citation.excerpt,
            Citation.note,
            PolicyActor.role.label("actor_role"),
            ends["actor_link"].slug.label("actor_link_policy"),
            linked_actor.slug.label("actor_link_actor"),
            PolicyRegion.role.label("region_role"),
            ends["region_link"].slug.label("region_link_policy"),
            linked_region.slug.label("region_link_region"),
            PolicyRelation.relation.label("relation"),
            ends["relation"].slug.label("relation_policy"),
            ends["target"].slug.label("relation_target"),
            Policy.slug.label("policy"),
            Actor.slug.label("actor"),
            Region.slug.label("region"),
            Goal.slug.label("goal"),
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
        .where(Citation.source_id == bindparam("source_id"), Citation.id > bindparam("after"))
        .order_by(Citation.id)
        .limit(bindparam("limit"))
    )


_SUPPORTS = _supports_query()
_SUPPORT_COUNTS = (
    select(Citation.source_id, func.count())
    .where(Citation.source_id.in_(_IDS))
    .group_by(Citation.source_id)
)


def _fact(row: Any) -> Document:
    """A citation as a SupportedFact (app/schemas/source.py)."""
    if row.actor_role is not None:
        kind, record, link = (
            "policy_actor",
            row.actor_link_policy,
            (row.actor_role, row.actor_link_actor),
        )
    elif row.region_role is not None:
        kind, record = "policy_region", row.region_link_policy
        link = (row.region_role, row.region_link_region)
    elif row.relation is not None:
        kind, record, link = (
            "policy_relation",
            row.relation_policy,
            (row.relation, row.relation_target),
        )
    else:
        kind, record = next(
            (k, getattr(row, k)) for k in ("policy", "actor", "region", "goal") if getattr(row, k)
        )
        link = None
    return {
        "type": kind,
        "record": record,
        "link": f"{link[0]}: {link[1]}" if link else None,
        "section": row.section,
        "paragraph": row.paragraph,
        "excerpt": row.excerpt,
        "note": row.note,
    }


def supported_facts(
    session: Session, source_id: int, *, after: int = 0, limit: int
) -> tuple[list[Document], int | None]:
    """A page of what a source supports, by citation id, and the id to continue after."""
    rows = session.execute(
        _SUPPORTS, {"source_id": source_id, "after": after, "limit": limit + 1}
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [_fact(r) for r in rows], (rows[-1].id if more else None)


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

"""Relation chains: the policies reached by following implements/supports/amends links
onward from one policy."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Policy, PolicyRelation

CHAIN_RELATIONS = ("implements", "supports", "amends")


# Rows read per link the chain may hold (links to policies already seen are read too).
ROWS_PER_LINK = 4


def relation_chain(
    *, session: Session, policy_id: int, policy_slug: str, max_depth: int, max_links: int = 200
) -> tuple[list[dict[str, Any]], bool]:
    """Policies reached by following implements/supports/amends links onward (cycle-safe),
    at most ``max_links`` of them; the flag says whether there were more."""
    seen = {policy_id}
    truncated = False
    frontier = [policy_id]
    chain: list[dict[str, Any]] = []
    slugs = {policy_id: policy_slug}
    for depth in range(1, max_depth + 1):
        if not frontier:
            break
        rows = session.execute(
            select(
                PolicyRelation.policy_id,
                PolicyRelation.relation,
                Policy.id,
                Policy.slug,
                Policy.title,
            )
            .join(Policy, Policy.id == PolicyRelation.related_policy_id)
            .where(
                PolicyRelation.policy_id.in_(frontier),
                PolicyRelation.relation.in_(CHAIN_RELATIONS),
            )
            .order_by(PolicyRelation.policy_id, PolicyRelation.position)
            .limit(ROWS_PER_LINK * max_links + 1)
        ).all()
        if len(rows) > ROWS_PER_LINK * max_links:
            rows = rows[: ROWS_PER_LINK * max_links]
            truncated = True
        frontier = []
        for source_id, relation, target_id, target_slug, title in rows:
            slugs[target_id] = target_slug
            if target_id in seen:
                continue
            if len(chain) >= max_links:
                return chain, True
            seen.add(target_id)
            frontier.append(target_id)
            chain.append(
                {
                    "policy": target_slug,
                    "title": title,
                    "relation": relation,
                    "via": slugs[source_id],
                    "depth": depth,
                }
            )
    return chain, truncated

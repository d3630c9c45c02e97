"""The long lists a record embeds only the start of, paged in full: what a source supports,
and the policies linked to a region or an actor."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, func, select
from sqlalchemy.orm import Session

from app.models import (
    Citation,
    Policy,
    PolicyActor,
    PolicyRegion,
)
from app.resources.sources import SUPPORTS

Document = dict[str, Any]
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)


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

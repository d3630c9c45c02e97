"""The graph of links around a record: nodes and typed edges within a few links of a root,
bounded by depth and node count."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session

from app.errors import BadQuery, ErrorDetail, NotFound
from app.models import Actor, Goal, Policy, PolicyActor, PolicyRegion, PolicyRelation, Region

GRAPH_TYPES: dict[str, Any] = {
    "policy": Policy,
    "actor": Actor,
    "region": Region,
    "goal": Goal,
}
_LABELS = {
    "policy": Policy.title,
    "actor": Actor.name,
    "region": Region.name,
    "goal": Goal.statement,
}

Node = tuple[str, int]  # (record type, id)


@dataclass(frozen=True)
class Edge:
    source: Node
    target: Node
    type: str
    role: str | None = None


@dataclass
class Graph:
    nodes: dict[Node, dict[str, Any]]
    edges: list[Edge]
    truncated: bool


def parse_root(root: str) -> tuple[str, str]:
    record_type, _, slug = root.partition(":")
    if record_type not in GRAPH_TYPES or not slug:
        raise BadQuery(
            "root must be <type>:<slug>",
            [ErrorDetail("/query/root", f"e.g. policy:some-slug; types: {', '.join(GRAPH_TYPES)}")],
        )
    return record_type, slug


# --- edges, one query per kind of edge -----------------------------------------------------
def _actor_roles(session: Session, policies: list[int], actors: list[int]) -> list[Edge]:
    if not (policies or actors):
        return []
    rows = session.execute(
        select(PolicyActor.policy_id, PolicyActor.actor_id, PolicyActor.role).where(
            or_(PolicyActor.policy_id.in_(policies), PolicyActor.actor_id.in_(actors))
        )
    )
    return [
        Edge(("actor", actor), ("policy", policy), "actor_role", role)
        for policy, actor, role in rows
    ]


def _region_roles(session: Session, policies: list[int], regions: list[int]) -> list[Edge]:
    if not (policies or regions):
        return []
    rows = session.execute(
        select(PolicyRegion.policy_id, PolicyRegion.region_id, PolicyRegion.role).where(
            or_(PolicyRegion.policy_id.in_(policies), PolicyRegion.region_id.in_(regions))
        )
    )
    return [
        Edge(("policy", policy), ("region", region), "region_role", role)
        for policy, region, role in rows
    ]


def _policy_relations(session: Session, policies: list[int]) -> list[Edge]:
    if not policies:
        return []
    rows = session.execute(
        select(
            PolicyRelation.policy_id, PolicyRelation.related_policy_id, PolicyRelation.relation
        ).where(
            or_(
                PolicyRelation.policy_id.in_(policies),
                PolicyRelation.related_policy_id.in_(policies),
            )
        )
    )
    return [
        Edge(("policy", source), ("policy", target), "policy_relation", relation)
        for source, target, relation in rows
    ]


def _goal_owners(
    session: Session, goals: list[int], policies: list[int], actors: list[int]
) -> list[Edge]:
    if not (goals or policies or actors):
        return []
    edges: list[Edge] = []
    for goal, owner_policy, owner_actor in session.execute(
        select(Goal.id, Goal.policy_id, Goal.actor_id).where(
            or_(Goal.id.in_(goals), Goal.policy_id.in_(policies), Goal.actor_id.in_(actors))
        )
    ):
        if owner_policy is not None:
            edges.append(Edge(("goal", goal), ("policy", owner_policy), "goal_owner", "policy"))
        if owner_actor is not None:
            edges.append(Edge(("goal", goal), ("actor", owner_actor), "goal_owner", "actor"))
    return edges


def _parents(session: Session, record_type: str, model: Any, ids: list[int]) -> list[Edge]:
    if not ids:
        return []
    rows = session.execute(
        select(model.id, model.parent_id).where(
            model.parent_id.is_not(None),
            or_(model.id.in_(ids), model.parent_id.in_(ids)),
        )
    )
    return [
        Edge((record_type, child), (record_type, parent), "parent")
        for child, parent in rows
        if parent is not None
    ]


def _home_regions(session: Session, actors: list[int]) -> list[Edge]:
    if not actors:
        return []
    rows = session.execute(
        select(Actor.id, Actor.region_id).where(Actor.id.in_(actors), Actor.region_id.is_not(None))
    )
    return [
        Edge(("actor", actor), ("region", home), "home_region")
        for actor, home in rows
        if home is not None
    ]


def _neighbours(session: Session, frontier: dict[str, list[int]]) -> list[Edge]:
    """Every edge touching the frontier, one query per kind of edge."""
    policies, actors = frontier.get("policy", []), frontier.get("actor", [])
    regions, goals = frontier.get("region", []), frontier.get("goal", [])
    return [
        *_actor_roles(session, policies, actors),
        *_region_roles(session, policies, regions),
        *_policy_relations(session, policies),
        *_goal_owners(session, goals, policies, actors),
        *_parents(session, "region", Region, regions),
        *_parents(session, "actor", Actor, actors),
        *_home_regions(session, actors),
    ]


# --- the walk ------------------------------------------------------------------------------
def _by_type(nodes: Iterable[Node]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for node_type, node_id in nodes:
        grouped[node_type].append(node_id)
    return grouped


def _walk(
    session: Session, root: Node, depth: int, max_nodes: int
) -> tuple[set[Node], set[Edge], bool]:
    """Breadth first from ``root``: the nodes seen, the edges between them, and whether the
    node limit cut the walk short."""
    seen: set[Node] = {root}
    frontier = {root}
    edges: set[Edge] = set()
    truncated = False
    for _level in range(depth):
        next_frontier: set[Node] = set()
        for edge in _neighbours(session, _by_type(frontier)):
            for end in (edge.source, edge.target):
                if end not in seen:
                    if len(seen) >= max_nodes:
                        truncated = True
                        continue
                    seen.add(end)
                    next_frontier.add(end)
            if edge.source in seen and edge.target in seen:
                edges.add(edge)
        frontier = next_frontier
        if not frontier:
            break
    return seen, edges, truncated


def _describe_nodes(session: Session, nodes: Iterable[Node]) -> dict[Node, dict[str, Any]]:
    """Each node's id, type, slug, label and kind, one query per record type."""
    described: dict[Node, dict[str, Any]] = {}
    for node_type, ids in _by_type(nodes).items():
        model = GRAPH_TYPES[node_type]
        for node_id, node_slug, node_label, kind in session.execute(
            select(
                model.id, model.slug, _LABELS[node_type], getattr(model, "kind", literal(None))
            ).where(model.id.in_(ids))
        ):
            described[(node_type, node_id)] = {
                "id": f"{node_type}:{node_slug}",
                "type": node_type,
                "slug": node_slug,
                "label": node_label,
                "kind": kind,
            }
    return described


def graph(*, session: Session, root: str, depth: int, max_nodes: int) -> Graph:
    """Nodes and typed edges within ``depth`` links of ``root``, at most ``max_nodes`` nodes."""
    record_type, slug = parse_root(root)
    model = GRAPH_TYPES[record_type]
    root_id = session.scalar(select(model.id).where(model.slug == slug))
    if root_id is None:
        raise NotFound(f"no {record_type} with slug {slug!r}")
    seen, edges, truncated = _walk(session, (record_type, root_id), depth, max_nodes)
    ordered_edges = sorted(edges, key=lambda e: (e.source, e.target, e.type, e.role or ""))
    return Graph(nodes=_describe_nodes(session, seen), edges=ordered_edges, truncated=truncated)

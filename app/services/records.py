"""Create, replace, patch and delete single records: thin wrappers over the one write path.

Each takes the write lock first (begin_write), then runs the caller's ``precondition`` (the
API checks If-Match there), so the check and the write see the same version of the record.
"""

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, ErrorDetail, InvalidInput, validation_errors
from app.models import (
    Actor,
    Citation,
    Goal,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    Region,
)
from app.schemas.common import WriteModel
from app.services.queries import get_record
from app.services.resources import RESOURCES, RecordModel, ResourceName, record_dump
from app.services.writes import Change, apply_changes, begin_write

Precondition = Callable[[], None]


def _slug_taken(session: Session, resource: ResourceName, slug: str) -> Conflict | None:
    model = RESOURCES[resource].model
    if session.scalar(select(model.id).where(model.slug == slug)) is None:
        return None
    return Conflict(
        f"a {RESOURCES[resource].singular} with slug {slug!r} already exists",
        [ErrorDetail(pointer="/slug", detail="slug already taken", slug=slug)],
    )


def create_record(
    *, session: Session, resource: ResourceName, record: WriteModel, changed_by: str
) -> Any:
    """Insert a new record; Conflict if the slug is taken."""
    begin_write(session)
    if conflict := _slug_taken(session, resource, getattr(record, "slug")):  # noqa: B009
        raise conflict
    outcome = apply_changes(session, [Change(resource, record, ())], changed_by=changed_by)
    session.commit()
    return outcome.written[0]


def replace_record(
    *,
    session: Session,
    resource: ResourceName,
    key: str,
    record: WriteModel,
    changed_by: str,
    precondition: Precondition | None = None,
) -> Any:
    """Replace a record whole (PUT); a different slug in the body renames it."""
    return _rewrite(session, resource, key, lambda _existing: record, changed_by, precondition)


def _rewrite(
    session: Session,
    resource: ResourceName,
    key: str,
    new_record: Callable[[Any], WriteModel],
    changed_by: str,
    precondition: Precondition | None,
) -> Any:
    """Lock, check the precondition, then write ``new_record(existing)`` over the record."""
    begin_write(session)
    if precondition is not None:
        precondition()
    existing = get_record(session=session, resource=resource, key=key, for_write=True)
    record = new_record(existing)
    slug = getattr(record, "slug")  # noqa: B009
    if slug != existing.slug and (conflict := _slug_taken(session, resource, slug)):
        raise conflict
    apply_changes(session, [Change(resource, record, (), existing)], changed_by=changed_by)
    session.commit()
    return existing


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patch_record(
    *,
    session: Session,
    resource: ResourceName,
    key: str,
    patch: dict[str, Any],
    changed_by: str,
    precondition: Precondition | None = None,
) -> Any:
    """Apply a JSON merge patch to a record and write the result as a whole record."""
    spec = RESOURCES[resource]

    def patched(existing: Any) -> WriteModel:
        current = record_dump(spec, spec.to_record(existing))
        try:
            return spec.record.model_validate(merge_patch(current, patch))
        except ValidationError as exc:
            raise InvalidInput("the patched record is invalid", validation_errors(exc)) from None

    return _rewrite(session, resource, key, patched, changed_by, precondition)


# What points at a record of each type, as (label, referring column).
_REFERRERS: dict[ResourceName, list[tuple[str, Any]]] = {
    "regions": [
        ("child regions", Region.parent_id),
        ("actors (home region)", Actor.region_id),
        ("policy links", PolicyRegion.region_id),
    ],
    "actors": [
        ("child actors", Actor.parent_id),
        ("policy links", PolicyActor.actor_id),
        ("goals", Goal.actor_id),
    ],
    "policies": [
        ("relations from other policies", PolicyRelation.related_policy_id),
        ("goals", Goal.policy_id),
    ],
    "sources": [("citations", Citation.source_id)],
    "goals": [],
}


def delete_record(
    *,
    session: Session,
    resource: ResourceName,
    key: str,
    force: bool,
    changed_by: str,
    precondition: Precondition | None = None,
) -> None:
    """Delete a record. Refuse (Conflict) while others point at it, unless ``force``.

    With ``force`` the records that point at it are rewritten without the reference (links
    and citations dropped, parents cleared, the owner removed from goals; a goal left with no
    owner is deleted) through the same write path, so each of them gets its history entry.
    """
    begin_write(session)
    if precondition is not None:
        precondition()
    row = get_record(session=session, resource=resource, key=key, for_write=True)
    referrers = []
    for label, column in _REFERRERS[resource]:
        count = session.query(column).filter(column == row.id).count()
        if count:
            referrers.append(ErrorDetail(pointer="", detail=f"{count} {label}"))
    if referrers and not force:
        raise Conflict(
            f"{RESOURCES[resource].singular} {row.slug!r} is still referred to; "
            "delete with ?force=true to detach and remove those references",
            referrers,
        )
    changes, deletions = _detach(session, resource, row)
    apply_changes(session, changes, delete=[*deletions, (resource, row)], changed_by=changed_by)
    session.commit()


# How each kind of record refers to a record of another kind: (referring, referred) ->
# a scalar field holding the slug, or a list of links and the key in each link.
_SCALAR_REFERENCES: dict[tuple[ResourceName, ResourceName], str] = {
    ("regions", "regions"): "parent",
    ("actors", "regions"): "region",
    ("actors", "actors"): "parent",
    ("goals", "actors"): "actor",
    ("goals", "policies"): "policy",
}
_LINK_REFERENCES: dict[ResourceName, tuple[str, str, Any, Any]] = {
    "regions": ("regions", "region", PolicyRegion.policy_id, PolicyRegion.region_id),
    "actors": ("actors", "actor", PolicyActor.policy_id, PolicyActor.actor_id),
    "policies": ("related", "policy", PolicyRelation.policy_id, PolicyRelation.related_policy_id),
}
_SCALAR_COLUMNS: dict[tuple[ResourceName, ResourceName], Any] = {
    ("regions", "regions"): Region.parent_id,
    ("actors", "regions"): Actor.region_id,
    ("actors", "actors"): Actor.parent_id,
    ("goals", "actors"): Goal.actor_id,
    ("goals", "policies"): Goal.policy_id,
}
_CITING_COLUMNS: dict[ResourceName, Any] = {
    "policies": Citation.policy_id,
    "actors": Citation.actor_id,
    "regions": Citation.region_id,
    "goals": Citation.goal_id,
}
_LINK_CITATIONS = (
    (PolicyActor, Citation.policy_actor_id),
    (PolicyRegion, Citation.policy_region_id),
    (PolicyRelation, Citation.policy_relation_id),
)


def _detach(
    session: Session, resource: ResourceName, row: RecordModel
) -> tuple[list[Change], list[tuple[ResourceName, RecordModel]]]:
    """The records that refer to ``row``, rewritten without the reference (or deleted: goals
    left with no owner)."""
    changes: list[Change] = []
    deletions: list[tuple[ResourceName, RecordModel]] = []
    for name, spec in RESOURCES.items():
        for other in _referring_rows(session, name, resource, row.id):
            data = _without_reference(
                record_dump(spec, spec.to_record(other)), name, resource, row.slug
            )
            if name == "goals" and not data.get("policy") and not data.get("actor"):
                deletions.append((name, other))
            else:
                changes.append(Change(name, spec.record.model_validate(data), (), other))
    return changes, deletions


def _referring_rows(
    session: Session, name: ResourceName, resource: ResourceName, row_id: int
) -> list[Any]:
    """Records of type ``name`` that refer to the ``resource`` record ``row_id``."""
    spec = RESOURCES[name]
    model = spec.model
    conditions: list[Any] = []
    if resource == "sources":
        if name in _CITING_COLUMNS:
            cited = select(_CITING_COLUMNS[name]).where(Citation.source_id == row_id)
            conditions.append(model.id.in_(cited))
        if name == "policies":
            for link, column in _LINK_CITATIONS:
                owners = select(link.policy_id).join(Citation, column == link.id)
                conditions.append(model.id.in_(owners.where(Citation.source_id == row_id)))
    else:
        if (name, resource) in _SCALAR_COLUMNS:
            conditions.append(_SCALAR_COLUMNS[(name, resource)] == row_id)
        if name == "policies" and resource in _LINK_REFERENCES:
            _field, _key, owner, target = _LINK_REFERENCES[resource]
            conditions.append(model.id.in_(select(owner).where(target == row_id)))
    if not conditions:
        return []
    query = select(model).where(or_(*conditions))
    if name == resource:
        query = query.where(model.id != row_id)
    query = query.options(*spec.load_for_write)
    return list(session.scalars(query))


def _without_reference(
    data: dict[str, Any], name: ResourceName, resource: ResourceName, slug: str
) -> dict[str, Any]:
    """A record's data (of type ``name``) with its references to ``resource`` ``slug`` gone."""
    data = dict(data)
    if resource == "sources":
        return _without_citations(data, slug)
    field = _SCALAR_REFERENCES.get((name, resource))
    if field and data.get(field) == slug:
        del data[field]
    if name == "policies" and resource in _LINK_REFERENCES:
        links, key, _owner, _target = _LINK_REFERENCES[resource]
        data[links] = [link for link in data.get(links, []) if link[key] != slug]
    return data


def _without_citations(data: dict[str, Any], source: str) -> dict[str, Any]:
    data["citations"] = [c for c in data.get("citations", []) if c["source"] != source]
    for links in ("actors", "regions", "related"):
        if links in data:
            data[links] = [_without_citations(dict(link), source) for link in data[links]]
    return data

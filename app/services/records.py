"""Create, replace, patch and delete single records: thin wrappers over the one write path."""

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, ErrorDetail, InvalidInput, validation_errors
from app.models import Actor, Citation, Goal, PolicyActor, PolicyRegion, PolicyRelation, Region
from app.schemas.common import WriteModel
from app.services.queries import get_record
from app.services.resources import RESOURCES, ResourceName, record_dump
from app.services.writes import Change, apply_changes


def create_record(*, session: Session, resource: ResourceName, record: WriteModel) -> Any:
    """Insert a new record; Conflict if the slug is taken."""
    slug = getattr(record, "slug")  # noqa: B009
    model = RESOURCES[resource].model
    if session.scalar(select(model.id).where(model.slug == slug)) is not None:
        raise Conflict(
            f"a {RESOURCES[resource].singular} with slug {slug!r} already exists",
            [ErrorDetail(pointer="/slug", detail="slug already taken", slug=slug)],
        )
    outcome = apply_changes(session, [Change(resource, record, ())])
    session.commit()
    return outcome.written[0]


def replace_record(
    *, session: Session, resource: ResourceName, key: str, record: WriteModel
) -> Any:
    """Replace a record whole (PUT); a different slug in the body renames it."""
    existing = get_record(session=session, resource=resource, key=key, for_write=True)
    slug = getattr(record, "slug")  # noqa: B009
    if slug != existing.slug:
        model = RESOURCES[resource].model
        if session.scalar(select(model.id).where(model.slug == slug)) is not None:
            raise Conflict(
                f"cannot rename to {slug!r}: that slug is taken",
                [ErrorDetail(pointer="/slug", detail="slug already taken", slug=slug)],
            )
    apply_changes(session, [Change(resource, record, (), existing)])
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
    *, session: Session, resource: ResourceName, key: str, patch: dict[str, Any]
) -> Any:
    """Apply a JSON merge patch to a record and write the result as a whole record."""
    existing = get_record(session=session, resource=resource, key=key, for_write=True)
    spec = RESOURCES[resource]
    current = record_dump(spec, spec.to_record(existing))
    try:
        record = spec.record.model_validate(merge_patch(current, patch))
    except ValidationError as exc:
        raise InvalidInput("the patched record is invalid", validation_errors(exc)) from None
    return replace_record(session=session, resource=resource, key=key, record=record)


_REFERRERS: dict[ResourceName, list[tuple[str, Any, Any]]] = {
    "regions": [
        ("child regions", Region, Region.parent_id),
        ("actors (home region)", Actor, Actor.region_id),
        ("policy links", PolicyRegion, PolicyRegion.region_id),
    ],
    "actors": [
        ("child actors", Actor, Actor.parent_id),
        ("policy links", PolicyActor, PolicyActor.actor_id),
        ("goals", Goal, Goal.actor_id),
    ],
    "policies": [
        ("relations from other policies", PolicyRelation, PolicyRelation.related_policy_id),
        ("goals", Goal, Goal.policy_id),
    ],
    "sources": [("citations", Citation, Citation.source_id)],
    "goals": [],
}


def delete_record(*, session: Session, resource: ResourceName, key: str, force: bool) -> None:
    """Delete a record. Refuse (Conflict) while others point at it, unless ``force``.

    With ``force``: links to it and citations of it are deleted, children lose their parent
    and goals lose it as an owner (a goal left with no owner is deleted).
    """
    row = get_record(session=session, resource=resource, key=key, for_write=True)
    referrers = [
        (label, model, column, count)
        for label, model, column in _REFERRERS[resource]
        if (count := session.scalar(select(func.count()).where(column == row.id)) or 0)
    ]
    if referrers and not force:
        raise Conflict(
            f"{RESOURCES[resource].singular} {row.slug!r} is still referred to; "
            "delete with ?force=true to detach and remove those references",
            [
                ErrorDetail(pointer="", detail=f"{count} {label}")
                for label, _m, _c, count in referrers
            ],
        )
    for _label, model, column, _count in referrers:
        if model is Goal:  # a goal must keep an owner: drop those it would lose
            other_owner = Goal.actor_id if column is Goal.policy_id else Goal.policy_id
            session.execute(delete(Goal).where(column == row.id, other_owner.is_(None)))
        if model in (PolicyRegion, PolicyActor, PolicyRelation, Citation):
            session.execute(delete(model).where(column == row.id))
        else:
            session.execute(update(model).where(column == row.id).values({column.key: None}))
    session.delete(row)
    session.commit()

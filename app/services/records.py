"""Create, replace, patch and delete single records: thin wrappers over the one write path.

Each takes the write lock first (begin_write), then runs the caller's ``precondition`` (the
API checks If-Match there), so the check and the write see the same version of the record.
"""

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, ErrorDetail, InvalidInput, NotFound, validation_errors
from app.models import Citation
from app.models.base import RecordMixin
from app.resources import links_to, references_to, referrers
from app.schemas.common import WriteModel
from app.services.resources import RESOURCES, ResourceName, is_record_key, numeric_id
from app.services.rows import stored_dumps
from app.services.writes import Change, apply_changes, begin_write

Precondition = Callable[[], None]
Dump = dict[str, Any]


def get_record(
    *, session: Session, resource: ResourceName, key: str, for_write: bool = False
) -> RecordMixin:
    """A record by numeric id or slug (with what a write loads, if ``for_write``); NotFound
    otherwise."""
    spec = RESOURCES[resource]
    model: type[RecordMixin] = spec.model
    if not is_record_key(key):
        raise NotFound(f"no {spec.singular} with id or slug {key!r}")
    id_ = numeric_id(key)
    condition = model.id == id_ if id_ is not None else model.slug == key
    options = spec.load_for_write if for_write else ()
    row = session.scalars(select(model).where(condition).options(*options)).first()
    if row is None:
        raise NotFound(f"no {spec.singular} with id or slug {key!r}")
    return row


def stored_dump(session: Session, resource: ResourceName, row: RecordMixin) -> Dump:
    """A stored record's bundle shape (``record_dump``), from its document."""
    return stored_dumps(session, RESOURCES[resource], [row.id])[row.id]


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
) -> RecordMixin:
    """Insert a new record; Conflict if the slug is taken."""
    begin_write(session)
    change = Change(resource, record, ())
    if conflict := _slug_taken(session, resource, change.slug):
        raise conflict
    outcome = apply_changes(session, [change], changed_by=changed_by)
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
) -> RecordMixin:
    """Replace a record whole (PUT); a different slug in the body renames it."""
    return _rewrite(session, resource, key, lambda _existing: record, changed_by, precondition)


def _rewrite(
    session: Session,
    resource: ResourceName,
    key: str,
    new_record: Callable[[RecordMixin], WriteModel],
    changed_by: str,
    precondition: Precondition | None,
) -> RecordMixin:
    """Lock, check the precondition, then write ``new_record(existing)`` over the record."""
    begin_write(session)
    if precondition is not None:
        precondition()
    existing = get_record(session=session, resource=resource, key=key, for_write=True)
    change = Change(resource, new_record(existing), (), existing)
    if change.slug != existing.slug and (conflict := _slug_taken(session, resource, change.slug)):
        raise conflict
    apply_changes(session, [change], changed_by=changed_by)
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
) -> RecordMixin:
    """Apply a JSON merge patch to a record and write the result as a whole record."""
    spec = RESOURCES[resource]

    def patched(existing: RecordMixin) -> WriteModel:
        current = stored_dump(session, resource, existing)
        try:
            return spec.record.model_validate(merge_patch(current, patch))
        except ValidationError as exc:
            raise InvalidInput("the patched record is invalid", validation_errors(exc)) from None

    return _rewrite(session, resource, key, patched, changed_by, precondition)


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
    holders: list[ErrorDetail] = []
    for label, column in referrers(resource):
        count = session.query(column).filter(column == row.id).count()
        if count:
            holders.append(ErrorDetail(pointer="", detail=f"{count} {label}"))
    if holders and not force:
        raise Conflict(
            f"{RESOURCES[resource].singular} {row.slug!r} is still referred to; "
            "delete with ?force=true to detach and remove those references",
            holders,
        )
    changes, deletions = _detach(session, resource, row)
    apply_changes(session, changes, delete=[*deletions, (resource, row)], changed_by=changed_by)
    session.commit()


def _detach(
    session: Session, resource: ResourceName, row: RecordMixin
) -> tuple[list[Change], list[tuple[ResourceName, RecordMixin]]]:
    """The records that refer to ``row``, rewritten without the reference (or deleted: goals
    left with no owner)."""
    changes: list[Change] = []
    deletions: list[tuple[ResourceName, RecordMixin]] = []
    for name, spec in RESOURCES.items():
        others = _referring_rows(session, name, resource, row.id)
        stored = stored_dumps(session, spec, [other.id for other in others])
        for other in others:
            data = _without_reference(stored[other.id], name, resource, row.slug)
            if name == "goals" and not data.get("policy") and not data.get("actor"):
                deletions.append((name, other))
            else:
                changes.append(Change(name, spec.record.model_validate(data), (), other))
    return changes, deletions


def _referring_rows(
    session: Session, name: ResourceName, resource: ResourceName, row_id: int
) -> list[RecordMixin]:
    """Records of type ``name`` that refer to the ``resource`` record ``row_id``."""
    spec = RESOURCES[name]
    model: type[RecordMixin] = spec.model
    conditions: list[ColumnElement[bool]] = []
    if resource == "sources":
        if spec.cited_as is not None:
            cited = select(spec.cited_as).where(Citation.source_id == row_id)
            conditions.append(model.id.in_(cited))
        for links in spec.links:
            owners = select(links.owner).join(Citation, links.cited_as == links.model.id)
            conditions.append(model.id.in_(owners.where(Citation.source_id == row_id)))
    else:
        conditions += [ref.column == row_id for ref in references_to(name, resource)]
        conditions += [
            model.id.in_(select(links.owner).where(links.target_column == row_id))
            for links in links_to(name, resource)
        ]
    if not conditions:
        return []
    query = select(model).where(or_(*conditions))
    if name == resource:
        query = query.where(model.id != row_id)
    query = query.options(*spec.load_for_write)
    return list(session.scalars(query))


def _without_reference(data: Dump, name: ResourceName, resource: ResourceName, slug: str) -> Dump:
    """A record's data (of type ``name``) with its references to ``resource`` ``slug`` gone."""
    data = dict(data)
    if resource == "sources":
        return _without_citations(data, name, slug)
    for ref in references_to(name, resource):
        if data.get(ref.field) == slug:
            del data[ref.field]
    for links in links_to(name, resource):
        data[links.field] = [link for link in data.get(links.field, []) if link[links.key] != slug]
    return data


def _without_citations(data: Dump, name: ResourceName, source: str) -> Dump:
    data["citations"] = [c for c in data.get("citations", []) if c["source"] != source]
    for links in RESOURCES[name].links:
        if links.field in data:
            data[links.field] = [
                {
                    **link,
                    "citations": [c for c in link.get("citations", []) if c["source"] != source],
                }
                for link in data[links.field]
            ]
    return data

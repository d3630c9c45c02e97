"""Import and export of whole datasets; the API, the CLI and the seed loader all call these.

An import is validated whole before anything is written, applied in one transaction, and
either lands completely or not at all; every problem is reported with its location.
"""

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from app.errors import ErrorDetail, InvalidInput, TooLarge, pointer, validation_errors
from app.schemas.bundle import BUNDLE_FORMAT, BUNDLE_VERSION, ImportCounts, ImportReport
from app.services.resources import RESOURCES, WRITE_ORDER, RecordModel, ResourceName, record_dump
from app.services.writes import Change, apply_changes, begin_write

ImportMode = Literal["upsert", "insert", "replace"]
# Where a pointer into the bundle came from in the user's files (CSV file and line).
SourceMap = Mapping[str, tuple[str, int]]
Progress = Callable[[int], None]

_TOP_LEVEL = {"format", "version", *WRITE_ORDER}


def parse_bundle_text(text: str | bytes, *, syntax: Literal["json", "yaml"]) -> Any:
    """Parse a JSON or YAML document; a syntax error is an InvalidInput with its position."""
    try:
        if syntax == "json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        detail = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise InvalidInput("the bundle is not valid JSON", [ErrorDetail("", detail)]) from None
    except yaml.YAMLError as exc:
        raise InvalidInput("the bundle is not valid YAML", [ErrorDetail("", str(exc))]) from None


def _validate(data: Any) -> tuple[list[Change], list[ErrorDetail], set[tuple[ResourceName, str]]]:
    """Validate every record on its own so that one bad record hides no other problem."""
    if not isinstance(data, dict):
        raise InvalidInput(
            "a bundle is a JSON/YAML object", [ErrorDetail("", "expected an object")]
        )
    errors: list[ErrorDetail] = []
    for key in sorted(set(data) - _TOP_LEVEL):
        errors.append(ErrorDetail(pointer(key), f"unknown section; expected {sorted(_TOP_LEVEL)}"))
    if data.get("format", BUNDLE_FORMAT) != BUNDLE_FORMAT:
        errors.append(ErrorDetail("/format", f"must be {BUNDLE_FORMAT!r}"))
    if data.get("version", BUNDLE_VERSION) != BUNDLE_VERSION:
        errors.append(ErrorDetail("/version", f"this policydb reads version {BUNDLE_VERSION}"))
    changes: list[Change] = []
    invalid_slugs: set[tuple[ResourceName, str]] = set()
    for name in WRITE_ORDER:
        items = data.get(name, [])
        if not isinstance(items, list):
            errors.append(ErrorDetail(pointer(name), "expected a list of records ([] for none)"))
            continue
        for index, item in enumerate(items):
            slug = item.get("slug") if isinstance(item, dict) else None
            try:
                record = RESOURCES[name].record.model_validate(item)
            except ValidationError as exc:
                for error in validation_errors(exc, (name, index)):
                    error.slug = slug if isinstance(slug, str) else None
                    errors.append(error)
                if isinstance(slug, str):
                    invalid_slugs.add((name, slug))
                continue
            changes.append(Change(name, record, (name, index)))
    return changes, errors, invalid_slugs


def _existing_rows(session: Session, name: ResourceName, slugs: Sequence[str]) -> dict[str, Any]:
    spec = RESOURCES[name]
    rows: dict[str, Any] = {}
    for start in range(0, len(slugs), 500):
        chunk = slugs[start : start + 500]
        query = select(spec.model).where(spec.model.slug.in_(chunk)).options(*spec.load_for_write)
        rows.update({row.slug: row for row in session.scalars(query)})
    return rows


def import_bundle(
    *,
    session: Session,
    data: Any,
    mode: ImportMode = "upsert",
    dry_run: bool = False,
    max_records: int | None = None,
    source_map: SourceMap | None = None,
    progress: Progress | None = None,
    changed_by: str = "import",
) -> ImportReport:
    """Validate and apply a whole bundle in one transaction (rolled back on a dry run)."""
    if max_records is not None and (total := record_count(data)) > max_records:
        raise TooLarge(f"the bundle has {total} records; at most {max_records} per request")
    changes, errors, invalid_slugs = _validate(data)
    begin_write(session)  # imports queue behind each other instead of interleaving

    deletions: list[tuple[ResourceName, RecordModel]] = []
    for name in WRITE_ORDER:
        batch = [c for c in changes if c.resource == name]
        existing = _existing_rows(session, name, [getattr(c.record, "slug") for c in batch])  # noqa: B009
        for change in batch:
            change.existing = existing.get(getattr(change.record, "slug"))  # noqa: B009
            if mode == "insert" and change.existing is not None:
                errors.append(
                    ErrorDetail(
                        pointer(*change.location, "slug"),
                        "a record with this slug already exists (mode=insert)",
                        slug=change.existing.slug,
                    )
                )
        if mode == "replace":
            keep = {getattr(c.record, "slug") for c in batch} | {  # noqa: B009
                slug for kind, slug in invalid_slugs if kind == name
            }
            spec = RESOURCES[name]
            absent = select(spec.model).where(spec.model.slug.not_in(keep) if keep else true())
            for row in session.scalars(absent.options(*spec.load_for_write)):
                deletions.append((name, row))

    try:
        outcome = apply_changes(
            session,
            changes,
            delete=deletions,
            known=invalid_slugs,
            errors=errors,
            progress=progress,
            changed_by=changed_by,
        )
    except InvalidInput as exc:
        session.rollback()
        raise InvalidInput(exc.detail, _locate(exc.errors, source_map)) from None
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return ImportReport(
        dry_run=dry_run,
        mode=mode,
        counts={name: ImportCounts(**counts) for name, counts in outcome.counts.items()},
    )


def record_count(data: Any) -> int:
    """How many records a (not yet validated) bundle holds."""
    if not isinstance(data, dict):
        return 0
    return sum(len(data[n]) for n in WRITE_ORDER if isinstance(data.get(n), list))


def _locate(errors: list[ErrorDetail], source_map: SourceMap | None) -> list[ErrorDetail]:
    """Add the CSV file and line to each error whose pointer falls inside a mapped row."""
    if not source_map:
        return errors
    for error in errors:
        path = error.pointer
        while path:
            if path in source_map:
                error.file, error.line = source_map[path]
                break
            path = path.rpartition("/")[0]
    return errors


def iter_records(
    session: Session, name: ResourceName, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Every record of a resource in its bundle shape, by slug, loaded a batch at a time."""
    spec = RESOURCES[name]
    last: str | None = None
    while True:
        query = select(spec.model).order_by(spec.model.slug).limit(batch)
        if last is not None:
            query = query.where(spec.model.slug > last)
        rows = list(session.scalars(query.options(*spec.load_for_write)))
        if not rows:
            return
        for row in rows:
            yield record_dump(spec, spec.to_record(row))
        last = rows[-1].slug
        session.expunge_all()  # keep memory flat on large exports


def iter_export_json(session: Session) -> Iterator[str]:
    """The whole database as a bundle in JSON, produced piece by piece."""
    yield f'{{"format": "{BUNDLE_FORMAT}", "version": {BUNDLE_VERSION}'
    for name in WRITE_ORDER:
        yield f', "{name}": ['
        for i, record in enumerate(iter_records(session, name)):
            yield ("\n  " if i == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False)
        yield "]"
    yield "}\n"


def iter_export_yaml(session: Session) -> Iterator[str]:
    """The whole database as a bundle in YAML, produced piece by piece."""
    yield f"format: {BUNDLE_FORMAT}\nversion: {BUNDLE_VERSION}\n"
    for name in WRITE_ORDER:
        empty = True
        for record in iter_records(session, name):
            if empty:
                yield f"{name}:\n"
                empty = False
            yield yaml.safe_dump([record], allow_unicode=True, sort_keys=False, width=100)
        if empty:
            yield f"{name}: []\n"

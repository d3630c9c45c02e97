"""Import and export of whole datasets; the API, the CLI and the seed loader all call these.

An import is validated whole before anything is written, applied in one transaction, and
either lands completely or not at all; every problem is reported with its location.
"""

import io
import json
import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.errors import ErrorDetail, InvalidInput, TooLarge
from app.schemas.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    ImportCounts,
    ImportReport,
    RecordChange,
)
from app.services.documents import documents
from app.services.imports import (
    CHUNK,
    LISTED,
    MAX_DEPTH,
    BundleInput,
    ImportMode,
    Progress,
    dict_bundle,
    json_bundle,
    run_import,
)
from app.services.imports.reading import check_json_keys, duplicate_key
from app.services.resources import (
    RESOURCES,
    WRITE_ORDER,
    ResourceName,
    record_from_document,
)

__all__ = ["BundleInput", "ImportMode", "Progress"]

# Where a pointer into the bundle came from in the user's files (CSV file and line).
SourceMap = Mapping[str, tuple[str, int]]


# libyaml's parser when PyYAML was built with it (about 4x faster than pure Python).
_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Values (scalars, lists, maps) a YAML bundle may hold: each costs a few hundred bytes once
# parsed, so 500,000 stay near 100 MB. Larger datasets go in JSON, which is streamed.
MAX_YAML_VALUES = 500_000


class BoundedYamlLoader(_YamlLoader):  # type: ignore[misc]
    """YAML's safe subset, with integers of at most 100 digits (Python refuses longer) and
    numbers with a fraction read as decimals (as JSON's are: never through float)."""

    def construct_exact_float(self, node: Any) -> Any:
        text = str(node.value).replace("_", "")
        try:
            return Decimal(text) if Decimal(text).is_finite() else self.construct_yaml_float(node)
        except InvalidOperation:  # .inf, .nan and sexagesimal 1:30.5 are YAML's own
            return self.construct_yaml_float(node)

    def construct_bounded_int(self, node: Any) -> Any:
        if len(str(node.value)) > 100:
            raise yaml.constructor.ConstructorError(
                None, None, "an integer of more than 100 digits", node.start_mark
            )
        return self.construct_yaml_int(node)


BoundedYamlLoader.add_constructor("tag:yaml.org,2002:int", BoundedYamlLoader.construct_bounded_int)
BoundedYamlLoader.add_constructor(
    "tag:yaml.org,2002:float", BoundedYamlLoader.construct_exact_float
)


def _check_yaml_keys(node: Any) -> None:
    """Refuse a mapping that repeats a key (PyYAML would keep the last), with its pointer."""
    pending: list[tuple[Any, list[str | int]]] = [(node, [])]
    while pending:
        current, path = pending.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
                if key in seen:
                    raise duplicate_key(path, key)
                seen.add(key)
                pending.append((value_node, [*path, key]))
        elif isinstance(current, yaml.SequenceNode):
            pending.extend((item, [*path, i]) for i, item in enumerate(current.value))


def check_yaml_shape(text: str | bytes, max_depth: int, max_values: int = MAX_YAML_VALUES) -> None:
    """Refuse, from the parser's events and before any document is built, YAML that would
    cost far more than its size: aliases (a 440-byte "billion laughs" expands to gigabytes),
    nesting beyond ``max_depth``, more than ``max_values`` values."""
    depth = values = 0
    for event in yaml.parse(text, Loader=_YamlLoader):
        problem = None
        if isinstance(event, yaml.AliasEvent):
            problem = "aliases (*name) are not accepted in a bundle"
        elif isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
            values += 1
            if values > max_values:
                problem = f"more than {max_values} values; use JSON for large bundles"
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    problem = f"nested deeper than {max_depth} levels"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if problem is not None:
            mark: Any = event.start_mark
            raise yaml.composer.ComposerError(None, None, problem, mark)


def parse_bundle_text(
    text: str | bytes, *, syntax: Literal["json", "yaml"], max_depth: int = MAX_DEPTH
) -> Any:
    """Parse a JSON or YAML document; a syntax error is an InvalidInput with its position."""
    try:
        if syntax == "json":
            data = json.loads(text, parse_float=Decimal)
            check_json_keys(text)
            return data
        check_yaml_shape(text, max_depth)
        loader = BoundedYamlLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_yaml_keys(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except json.JSONDecodeError as exc:
        detail = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise InvalidInput("the bundle is not valid JSON", [ErrorDetail("", detail)]) from None
    except RecursionError:
        detail = "nested too deeply"
        raise InvalidInput("the bundle nests too deeply", [ErrorDetail("", detail)]) from None
    except ValueError as exc:  # e.g. a JSON integer of more than 4300 digits
        raise InvalidInput("the bundle is not valid JSON", [ErrorDetail("", str(exc))]) from None
    except yaml.YAMLError as exc:
        raise InvalidInput("the bundle is not valid YAML", [ErrorDetail("", str(exc))]) from None


def as_bundle_input(data: Any) -> BundleInput:
    """A bundle to import: already streamable, or a parsed document (dict) in memory."""
    return data if isinstance(data, BundleInput) else dict_bundle(data)


def json_bundle_file(path: str | Path) -> BundleInput:
    """A JSON bundle file, streamed: it is never held in memory whole."""
    return json_bundle(lambda: Path(path).open("rb"))


def json_bundle_bytes(
    body: bytes, max_depth: int = MAX_DEPTH, max_records: int | None = None
) -> BundleInput:
    """A JSON bundle already in memory as bytes (a request body), parsed as a stream."""
    return json_bundle(lambda: io.BytesIO(body), max_depth, max_records)


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
    chunk_size: int = CHUNK,
    listed: int = LISTED,
) -> ImportReport:
    """Validate and apply a whole bundle in one transaction (rolled back on a dry run).

    ``data`` is a parsed document or a BundleInput (a JSON file or body, streamed). The
    report lists the first ``listed`` changed records field by field and counts them all.
    """
    bundle = as_bundle_input(data)
    if max_records is not None and (total := record_count(bundle)) > max_records:
        raise TooLarge(f"the bundle has {total} records; at most {max_records} per request")
    try:
        outcome = run_import(
            session=session,
            bundle=bundle,
            mode=mode,
            max_records=max_records,
            progress=progress,
            changed_by=changed_by,
            chunk_size=chunk_size,
            listed=listed,
        )
    except InvalidInput as exc:
        session.rollback()
        raise InvalidInput(exc.detail, _locate(exc.errors, source_map)) from None
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
        changed = sum(n for c in outcome.counts.values() for k, n in c.items() if k != "unchanged")
        if changed >= REFRESH_STATISTICS_AFTER:
            refresh_statistics(session)
    return ImportReport(
        dry_run=dry_run,
        mode=mode,
        counts={name: ImportCounts(**counts) for name, counts in outcome.counts.items()},
        changes=outcome.changes,
        changes_total=outcome.changes_total,
        warnings=_warnings(mode, outcome.changes),
    )


def _warnings(mode: ImportMode, changes: list[RecordChange]) -> list[str]:
    """What a user may not have meant: an upsert clearing fields the bundle left out."""
    clearing = [c for c in changes if c.action == "update" and c.cleared]
    if mode != "upsert" or not clearing:
        return []
    listed = ", ".join(f"{c.resource}/{c.slug} ({', '.join(c.cleared)})" for c in clearing[:5])
    more = f" and {len(clearing) - 5} more" if len(clearing) > 5 else ""
    return [
        f"mode upsert replaces whole records: it clears fields, links or citations the "
        f"bundle leaves out, here {listed}{more}; mode merge keeps them"
    ]


logger = logging.getLogger(__name__)

# PostgreSQL plans from table statistics that autovacuum refreshes only a while after a bulk
# load; until then a freshly imported table looks empty and lists are planned as full scans.
REFRESH_STATISTICS_AFTER = 1000


def refresh_statistics(session: Session) -> None:
    """Bring the planner's statistics up to date after a large import (PostgreSQL only:
    SQLite plans these queries well without statistics, and ANALYZE would change them)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    try:
        session.execute(text("ANALYZE"))
        session.commit()
    except DBAPIError:  # the import is committed; autovacuum will analyse the tables later
        session.rollback()
        logger.warning("ANALYZE after the import failed", exc_info=True)


def record_count(data: Any) -> int:
    """How many records a (not yet validated) bundle holds."""
    if isinstance(data, BundleInput):
        return sum(data.counts.values())
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
    """Every record of a resource in its bundle shape, by slug, a batch of documents at a time
    (built from a few queries per batch, as reads are: no ORM object per record)."""
    spec = RESOURCES[name]
    last: str | None = None
    while True:
        query = select(spec.model.id, spec.model.slug).order_by(spec.model.slug).limit(batch)
        if last is not None:
            query = query.where(spec.model.slug > last)
        rows = session.execute(query).all()
        if not rows:
            return
        for document in documents(session, name, [row.id for row in rows]):
            yield record_from_document(spec, document)
        last = rows[-1].slug


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

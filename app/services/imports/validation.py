"""Pass 1 of an import: every record validated on its own (so one bad record hides no other
problem) and handed to the shared write checks, which keep it in the ledger."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.errors import ErrorDetail, ErrorList, TooLarge, pointer, validation_errors
from app.resources import RESOURCES, WRITE_ORDER, ResourceName
from app.schemas.bundle import BUNDLE_FORMAT, BUNDLE_VERSION
from app.services.changes import Change, merge_patch
from app.services.imports.ledger import Ledger
from app.services.imports.reading import BundleInput
from app.services.rows import stored_dumps
from app.services.write_checks import LOOKUP, BatchChecks, slug_ids

TOP_LEVEL = {"format", "version", *WRITE_ORDER}


@dataclass
class Plan:
    """What pass 1 keeps: problems found so far, and the checks over the ledger."""

    ledger: Ledger = field(default_factory=Ledger)
    errors: ErrorList = field(default_factory=ErrorList)

    def __post_init__(self) -> None:
        self.checks = BatchChecks(self.ledger)

    def close(self) -> None:
        self.ledger.close()


def validate(
    bundle: BundleInput, max_records: int | None, merge_into: Session | None = None
) -> Plan:
    """Pass 1 over the whole bundle; the caller closes the plan (its files).

    With ``merge_into``, each record is first applied as a merge patch (RFC 7396) to the
    stored record of its slug in that session's database (if there is one).
    """
    plan = Plan()
    try:
        _header(plan, bundle)
        _records(plan, bundle, max_records, merge_into)
    except BaseException:
        plan.close()  # the spool files written so far
        raise
    return plan


def _header(plan: Plan, bundle: BundleInput) -> None:
    header = bundle.header
    for key in sorted(set(header) - TOP_LEVEL):
        plan.errors.append(
            ErrorDetail(pointer(key), f"unknown section; expected {sorted(TOP_LEVEL)}")
        )
    if header.get("format", BUNDLE_FORMAT) != BUNDLE_FORMAT:
        plan.errors.append(ErrorDetail("/format", f"must be {BUNDLE_FORMAT!r}"))
    if header.get("version", BUNDLE_VERSION) != BUNDLE_VERSION:
        plan.errors.append(ErrorDetail("/version", f"this policydb reads version {BUNDLE_VERSION}"))


def _merged(session: Session, name: ResourceName, items: list[Any]) -> list[Any]:
    """Each record of a chunk applied as a merge patch to the stored record of its slug."""
    slugs = [i["slug"] for i in items if isinstance(i, dict) and isinstance(i.get("slug"), str)]
    ids = slug_ids(session, name, slugs)
    stored = stored_dumps(session, RESOURCES[name], list(ids.values())) if ids else {}
    return [
        merge_patch(stored.get(ids.get(str(item.get("slug")), 0), {}), item)
        if isinstance(item, dict)
        else item
        for item in items
    ]


def _items(bundle: BundleInput, name: ResourceName, merge_into: Session | None) -> Iterator[Any]:
    if merge_into is None:
        yield from bundle.items(name)
        return
    for chunk in itertools.batched(bundle.items(name), LOOKUP):
        yield from _merged(merge_into, name, list(chunk))


def _records(
    plan: Plan, bundle: BundleInput, max_records: int | None, merge_into: Session | None
) -> None:
    seen = 0
    for name in WRITE_ORDER:
        shape = RESOURCES[name].record
        if name not in bundle.header:
            continue
        if not isinstance(bundle.header[name], list):
            plan.errors.append(
                ErrorDetail(pointer(name), "expected a list of records ([] for none)")
            )
            continue
        for index, item in enumerate(_items(bundle, name, merge_into)):
            seen += 1
            if max_records is not None and seen > max_records:
                raise TooLarge(f"the bundle has more than {max_records} records per request")
            try:
                record = shape.model_validate(item)
            except ValidationError as exc:
                given = item.get("slug") if isinstance(item, dict) else None
                for error in validation_errors(exc, (name, index)):
                    error.slug = given if isinstance(given, str) else None
                    plan.errors.append(error)
                if isinstance(given, str):
                    plan.checks.invalid.add((name, given))
                plan.checks.refer_raw(name, item, (name, index))
                continue
            plan.checks.add(Change(name, record, (name, index)))

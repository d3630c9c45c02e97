"""Every per-resource table is derived from the descriptors in app/resources: none lacks a type.

A table keyed by resource name that is missing a resource would otherwise surface as a
KeyError at request time (or, for facets, a crash at start-up).
"""

from collections.abc import Mapping
from typing import Any

import pytest

from app.resources import RESOURCE_NAMES, RESOURCES, WRITE_ORDER, referrers
from app.services.documents import _READERS
from app.services.explore import FACETS
from app.services.queries import SORT_FIELDS

DERIVED_TABLES: dict[str, Mapping[Any, Any]] = {
    "RESOURCES": RESOURCES,
    "SORT_FIELDS": SORT_FIELDS,
    "FACETS": FACETS,
    "document readers": _READERS,
}


@pytest.mark.parametrize("table", DERIVED_TABLES)
def test_a_derived_table_covers_every_resource(table: str) -> None:
    assert set(DERIVED_TABLES[table]) == set(RESOURCE_NAMES)


def test_write_order_puts_referenced_types_first() -> None:
    assert sorted(WRITE_ORDER) == sorted(RESOURCE_NAMES)
    for position, name in enumerate(WRITE_ORDER):
        resource = RESOURCES[name]
        targets = {r.target for r in resource.references} | {k.target for k in resource.links}
        if resource.cited_as is not None:
            targets.add("sources")
        assert all(WRITE_ORDER.index(t) <= position for t in targets), name


def test_every_reference_names_a_known_resource_and_lists_its_referrers() -> None:
    for resource in RESOURCES.values():
        for ref in resource.references:
            assert (ref.referrers, ref.column) in referrers(ref.target)
        for links in resource.links:
            assert (links.referrers, links.target_column) in referrers(links.target)


def test_descriptor_fields_exist_in_the_record_shapes() -> None:
    """A descriptor names fields of its record shape (a typo would break writes silently)."""
    for resource in RESOURCES.values():
        fields = resource.record.model_fields
        for ref in resource.references:
            assert ref.field in fields, (resource.name, ref.field)
        for links in resource.links:
            assert links.field in fields, (resource.name, links.field)
        for key in resource.sortable:
            assert key in {*fields, *resource.document.model_fields}, (resource.name, key)

"""Records become rows through one mapping derived from the descriptors and the models."""

import pytest

from app.resources import RESOURCE_NAMES, RESOURCES, ResourceName
from app.services.rows import row_columns

# Columns a write sets itself, not from a record's fields.
BOOKKEEPING = {"id", "created_at", "updated_at", "version"}


@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_every_column_of_a_record_comes_from_its_fields(name: ResourceName) -> None:
    """A new column is written without a hand-kept table, or this test names it."""
    spec = RESOURCES[name]
    written = set(row_columns(spec, {})) | {ref.column.key for ref in spec.references}
    assert {c.name for c in spec.model.__table__.columns} - BOOKKEEPING == written


def test_partial_dates_decimals_and_nested_objects_get_their_columns() -> None:
    columns = row_columns(
        RESOURCES["policies"],
        {"announced": "2019-07", "money": {"amount": "0.5", "currency": "CNY"}},
    )
    assert str(columns["announced_earliest"]) == "2019-07-01"
    assert str(columns["announced_latest"]) == "2019-07-31"
    assert (str(columns["money_amount"]), columns["money_currency"]) == ("0.5", "CNY")
    assert columns["money_approximate"] is False  # the nested shape's default when not given
    assert row_columns(RESOURCES["policies"], {})["money_approximate"] is False

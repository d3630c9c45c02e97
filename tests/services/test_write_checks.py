"""The batch checks of the write path (app/services/writes.py), called directly."""

from sqlalchemy.orm import Session

from app.schemas.region import RegionRecord
from app.services.writes import Change, check_changes


def test_an_iso_code_clash_names_the_code_that_clashes(session: Session) -> None:
    """Regression: with several regions in one batch, the message named the batch's last
    code (None here) instead of the one that clashes."""
    taker = RegionRecord.model_validate(
        {"slug": "not-china", "name": "Not China", "kind": "country", "iso_code": "CN"}
    )
    uncoded = RegionRecord.model_validate({"slug": "no-code", "name": "No Code", "kind": "other"})
    changes = [
        Change("regions", taker, ("regions", 0)),
        Change("regions", uncoded, ("regions", 1)),
    ]
    _targets, errors = check_changes(session, changes)
    assert [(e.pointer, e.detail) for e in errors] == [
        ("/regions/0/iso_code", "ISO code CN already belongs to region 'cn'")
    ]

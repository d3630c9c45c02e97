"""CSV bundles: citation rows land where their columns say (or are refused), and the files
survive a round trip through pandas read as the README says (dtype=str, keep_default_na=False)."""

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.services.bundle import import_bundle
from app.services.bundle_files import read_csv_folder, write_csv_folder
from app.services.tabular import CITATION_COLUMNS, FILES
from tests.api.test_records import ARTICLE
from tests.services.test_import_manners import iso_regions

POLICY = "fifth-plenum-st-self-reliance"
ACTOR, ROLE = "ccp-19th-central-committee", "issuer"


def add_citation(folder: Path, **cells: str) -> None:
    with (folder / "citations.csv").open("a", newline="", encoding="utf-8") as f:
        row = {"source": ARTICLE, "excerpt": "self-reliance", **cells}
        csv.writer(f).writerow([row.get(column, "") for column in CITATION_COLUMNS])


def link_citations(bundle: dict[str, Any], field: str, target: str) -> list[dict[str, Any]]:
    policy = next(p for p in bundle["policies"] if p["slug"] == POLICY)
    link = next(x for x in policy[field] if target in x.values())
    return list(link.get("citations", []))


@pytest.fixture
def exported(session: Session, tmp_path: Path) -> Path:
    write_csv_folder(session, tmp_path)
    return tmp_path


@pytest.mark.parametrize("resource", ["policies", "policy", "policy_actors"])
def test_a_citation_row_for_a_link_lands_on_the_link(exported: Path, resource: str) -> None:
    before, _ = read_csv_folder(exported)
    add_citation(
        exported, resource=resource, record=POLICY, link_target=ACTOR, link_role=ROLE, note="n"
    )
    after, _ = read_csv_folder(exported)
    added = link_citations(after, "actors", ACTOR)[-1]
    assert added == {"source": ARTICLE, "excerpt": "self-reliance", "note": "n"}
    policy_citations = next(p for p in after["policies"] if p["slug"] == POLICY)["citations"]
    assert len(policy_citations) == len(
        next(p for p in before["policies"] if p["slug"] == POLICY)["citations"]
    )


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"link_target": "nobody", "link_role": ROLE}, "no link of"),
        ({"link_target": ACTOR}, "needs both link_target and link_role"),
        ({"resource": "policy_actors"}, "a citation of a link needs link_target and link_role"),
        ({"resource": "treaties"}, "unknown resource 'treaties'"),
        ({"record": "no-such-policy"}, "citation of unknown policy 'no-such-policy'"),
    ],
)
def test_a_citation_row_that_fits_nothing_is_refused(
    exported: Path, cells: dict[str, str], problem: str
) -> None:
    lines = len((exported / "citations.csv").read_text(encoding="utf-8").splitlines())
    add_citation(exported, **{"resource": "policies", "record": POLICY, **cells})
    with pytest.raises(InvalidInput) as raised:
        read_csv_folder(exported)
    (error,) = raised.value.errors
    assert (error.file, error.line) == ("citations.csv", lines + 1)
    assert problem in error.detail


def pandas_round_trip(folder: Path, **read_options: Any) -> None:
    """Read every CSV file with pandas and write it back, as a spreadsheet user would."""
    for name in FILES:
        path = folder / f"{name}.csv"
        if path.exists():
            pd.read_csv(path, **read_options).to_csv(path, index=False)


def test_csv_files_survive_pandas_read_as_documented(session: Session, tmp_path: Path) -> None:
    import_bundle(session=session, data={"regions": iso_regions()})
    write_csv_folder(session, tmp_path)
    pandas_round_trip(tmp_path, dtype=str, keep_default_na=False)
    data, source_map = read_csv_folder(tmp_path)
    report = import_bundle(session=session, data=data, source_map=source_map, dry_run=True)
    assert report.changes_total == 0, report.changes[:3]


def test_pandas_defaults_lose_values_and_the_report_names_them(
    session: Session, tmp_path: Path
) -> None:
    """With pandas' defaults Namibia's code NA becomes an empty cell (and numbers floats):
    the dry run names each record and field that would change."""
    import_bundle(session=session, data={"regions": iso_regions()})
    write_csv_folder(session, tmp_path)
    pandas_round_trip(tmp_path)
    data, source_map = read_csv_folder(tmp_path)
    with pytest.raises(InvalidInput):  # paragraph numbers read as floats (1.0) are refused
        import_bundle(session=session, data=data, source_map=source_map, dry_run=True)
    regions = {r["slug"]: r for r in data["regions"]}
    assert "iso_code" not in regions["iso-na"]
    report = import_bundle(session=session, data={"regions": [regions["iso-na"]]}, dry_run=True)
    (change,) = report.changes
    assert change.fields["iso_code"].model_dump() == {"old": "NA", "new": None}

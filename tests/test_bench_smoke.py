"""The benchmark's data generator, at a tiny scale (the benchmark itself is `make bench`)."""

import json
from pathlib import Path

from sqlalchemy.orm import Session

from app.services.bundle import import_bundle
from bench.generate import record_count, write_bundle


def test_bench_generator_makes_importable_bundles(session: Session, tmp_path: Path) -> None:
    """The generator is deterministic and its bundles import whole."""
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    counts = write_bundle(first, policies=20, seed=7)
    write_bundle(second, policies=20, seed=7)
    assert first.read_bytes() == second.read_bytes()  # same seed, same bytes
    assert sum(counts.values()) == record_count(20)
    assert (counts["policies"], counts["goals"]) == (20, 40)

    report = import_bundle(session=session, data=json.loads(first.read_text(encoding="utf-8")))
    assert report.counts["policies"].created == 20
    assert report.counts["goals"].created == 40
    assert report.counts["actors"].created == counts["actors"]

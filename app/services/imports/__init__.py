"""Imports of any size in flat memory: reading (reading.py), the validating pass
(validation.py), the ledger (ledger.py), the bulk writer (writer.py) and the run (run.py).
The checks are the API's (app/services/write_checks.py)."""

from app.services.imports.reading import (
    MAX_DEPTH,
    BundleInput,
    dict_bundle,
    json_bundle,
)
from app.services.imports.run import CHUNK, LISTED, ImportMode, Progress, run_import

__all__ = [
    "CHUNK",
    "LISTED",
    "MAX_DEPTH",
    "BundleInput",
    "ImportMode",
    "Progress",
    "dict_bundle",
    "json_bundle",
    "run_import",
]

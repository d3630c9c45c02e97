"""Reconciliation (W3C Reconciliation Service API 0.2, as OpenRefine speaks it).

Names typed in a spreadsheet are matched to records (``matching``, ``scoring``); input is
checked and bounded first (``parsing``); ``suggest`` and ``extend`` serve OpenRefine's
suggestions, previews and data extension; ``entities`` says which types and properties exist.

Entity ids are ``<type>:<slug>`` (``actor:ministry-of-education``), as in ``GET /graph``.
"""

from app.services.reconcile.entities import PROPERTIES, TYPES, describe, record_path
from app.services.reconcile.extend import extend
from app.services.reconcile.matching import Result, reconcile
from app.services.reconcile.parsing import (
    MAX_QUERY_CHARS,
    ExtendQuery,
    Query,
    decode,
    parse_batch,
    parse_entity_id,
    parse_extend,
    parse_types,
)
from app.services.reconcile.scoring import normalise
from app.services.reconcile.suggest import (
    MAX_SUGGEST_CURSOR,
    entity,
    preview_html,
    propose_properties,
    suggest_entities,
    suggest_properties,
    suggest_types,
)

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_SUGGEST_CURSOR",
    "PROPERTIES",
    "TYPES",
    "ExtendQuery",
    "Query",
    "Result",
    "decode",
    "describe",
    "entity",
    "extend",
    "normalise",
    "parse_batch",
    "parse_entity_id",
    "parse_extend",
    "parse_types",
    "preview_html",
    "propose_properties",
    "reconcile",
    "record_path",
    "suggest_entities",
    "suggest_properties",
    "suggest_types",
]

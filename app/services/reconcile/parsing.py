"""Reconciliation input: query batches, extend queries and entity ids, decoded, checked and
bounded before anything is looked up; every fault is a 400 naming where it is."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.errors import BadQuery, ErrorDetail
from app.services.reconcile.entities import CONSTRAINTS, PROPERTY_BY_ID, TYPES

# Bounds on every input.
MAX_PARAMETER_CHARS = 1_000_000
MAX_QUERIES = 100
MAX_QUERY_CHARS = 500
MAX_LIMIT = 50
DEFAULT_LIMIT = 10
MAX_PROPERTIES = 10
MAX_VALUES = 10
MAX_EXTEND_IDS = 500
MAX_EXTEND_PROPERTIES = 20


def bad_input(where: str, detail: str) -> BadQuery:
    return BadQuery(f"invalid reconciliation input: {detail}", [ErrorDetail(where, detail)])


@dataclass
class Query:
    key: str
    text: str
    types: list[str]
    limit: int
    properties: list[tuple[str, list[Any]]] = field(default_factory=list)


@dataclass
class ExtendQuery:
    ids: list[str]
    properties: list[str]


def decode(text: str, where: str) -> Any:
    """A JSON parameter (``queries``, ``extend``), bounded in size; a 400 if malformed."""
    if len(text) > MAX_PARAMETER_CHARS:
        raise bad_input(where, f"at most {MAX_PARAMETER_CHARS} characters")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_input(where, f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise bad_input(where, "nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise bad_input(where, f"not valid JSON: {exc}") from None
    _check_strings(value, where)
    return value


_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")


def _check_strings(value: Any, where: str) -> None:
    """Every key and string in a decoded parameter is text a database and a JSON answer can
    carry: no NUL, no lone UTF-16 surrogate (JSON's \ud800 escapes decode to those)."""
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, at = pending.pop()
        if isinstance(item, str):
            if _UNENCODABLE.search(item):
                raise bad_input(at, "NUL characters and lone surrogates are not allowed")
        elif isinstance(item, dict):
            # Each key is checked before anything below it (pointers name the keys).
            for key, inner in item.items():
                pending += [(inner, f"{at}/{key!s}"), (key, at)]
        elif isinstance(item, list):
            pending += [(inner, f"{at}/{i}") for i, inner in enumerate(item)]


def check_text(text: str, where: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise bad_input(where, f"at most {MAX_QUERY_CHARS} characters")
    if "\x00" in text:
        raise bad_input(where, "NUL characters are not allowed")


def parse_batch(batch: Any, where: str) -> list[Query]:
    """A reconciliation query batch (already JSON-decoded), checked and bounded."""
    if not isinstance(batch, dict):
        raise bad_input(where, "a query batch is a JSON object of queries")
    if len(batch) > MAX_QUERIES:
        raise bad_input(where, f"at most {MAX_QUERIES} queries per batch")
    return [_parse_query(str(key), value, f"{where}/{key}") for key, value in batch.items()]


def _parse_query(key: str, raw: Any, where: str) -> Query:
    if not isinstance(raw, dict):
        raise bad_input(where, "a query is a JSON object")
    unknown = set(raw) - {"query", "type", "limit", "properties", "type_strict"}
    if unknown:
        raise bad_input(where, f"unknown field(s): {', '.join(sorted(unknown))}")
    text = raw.get("query", "")
    if not isinstance(text, str):
        raise bad_input(f"{where}/query", "query must be a string")
    check_text(text, f"{where}/query")
    types = parse_types(raw.get("type"), f"{where}/type")
    limit = raw.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise bad_input(f"{where}/limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    strict = raw.get("type_strict")
    if strict is not None and strict not in ("any", "should", "all"):
        raise bad_input(f"{where}/type_strict", "type_strict must be any, should or all")
    properties = _properties(raw.get("properties", []), f"{where}/properties")
    if not text.strip() and not properties:
        raise bad_input(where, "a query needs a non-empty query string or properties")
    return Query(key, text.strip(), types, limit, properties)


def parse_types(raw: Any, where: str) -> list[str]:
    if raw is None:
        return list(TYPES)
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise bad_input(where, "type is a type id or a list of them")
    unknown = [v for v in values if v not in TYPES]
    if unknown:
        raise bad_input(where, f"unknown type(s) {', '.join(unknown)}; known: {', '.join(TYPES)}")
    return list(dict.fromkeys(values)) or list(TYPES)


def _properties(raw: Any, where: str) -> list[tuple[str, list[Any]]]:
    if not isinstance(raw, list):
        raise bad_input(where, "properties is a list of {pid, v}")
    if len(raw) > MAX_PROPERTIES:
        raise bad_input(where, f"at most {MAX_PROPERTIES} properties")
    parsed = []
    for i, item in enumerate(raw):
        here = f"{where}/{i}"
        if not isinstance(item, dict) or set(item) != {"pid", "v"}:
            raise bad_input(here, "a property is an object with pid and v")
        pid, value = item["pid"], item["v"]
        if pid not in CONSTRAINTS:
            raise bad_input(
                f"{here}/pid", f"unknown property {pid!r}; known: {', '.join(CONSTRAINTS)}"
            )
        values = value if isinstance(value, list) else [value]
        if len(values) > MAX_VALUES:
            raise bad_input(f"{here}/v", f"at most {MAX_VALUES} values")
        parsed.append((pid, [_property_value(v, f"{here}/v") for v in values]))
    return parsed


def _property_value(value: Any, where: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        value = value["id"].partition(":")[2] or value["id"]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_input(where, "a value is a string, a number or {id, name}")
    check_text(str(value), where)
    return str(value)


def parse_entity_id(value: str, where: str = "/query/id") -> tuple[str, str]:
    """``actor:ministry-of-education`` -> ("actor", "ministry-of-education")."""
    check_text(value, where)
    record_type, _, slug = value.partition(":")
    if record_type not in TYPES or not slug:
        raise bad_input(where, f"{value[:80]!r} is not an entity id (<type>:<slug>)")
    return record_type, slug


def parse_extend(raw: Any, where: str) -> ExtendQuery:
    if not isinstance(raw, dict) or not isinstance(raw.get("ids"), list):
        raise bad_input(where, "an extend query is an object with ids and properties")
    if not isinstance(raw.get("properties"), list):
        raise bad_input(f"{where}/properties", "properties is a list of {id}")
    ids, props = raw["ids"], raw["properties"]
    if len(ids) > MAX_EXTEND_IDS:
        raise bad_input(f"{where}/ids", f"at most {MAX_EXTEND_IDS} ids")
    if len(props) > MAX_EXTEND_PROPERTIES:
        raise bad_input(f"{where}/properties", f"at most {MAX_EXTEND_PROPERTIES} properties")
    for i, value in enumerate(ids):
        if not isinstance(value, str):
            raise bad_input(f"{where}/ids/{i}", "an id is a string")
        parse_entity_id(value, f"{where}/ids/{i}")
    names = []
    for i, prop in enumerate(props):
        if not isinstance(prop, dict) or not isinstance(prop.get("id"), str):
            raise bad_input(f"{where}/properties/{i}", "a property is an object with an id")
        if prop["id"] not in PROPERTY_BY_ID:
            raise bad_input(f"{where}/properties/{i}/id", f"unknown property {prop['id'][:80]!r}")
        names.append(prop["id"])
    return ExtendQuery(ids=list(dict.fromkeys(ids)), properties=list(dict.fromkeys(names)))

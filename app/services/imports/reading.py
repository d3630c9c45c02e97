"""Reading a bundle: one in memory, or a JSON file or body streamed with ijson (one pass for
its top-level keys, bounds and duplicate keys, then one per section).

Numbers with a fraction or exponent are read as decimals, never through float: an amount
sent as the JSON number 12345678901234567.89 keeps every digit (or is refused by the field's
bounds), as it would written as a string."""

import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import ijson  # type: ignore[import-untyped]  # no stubs published

from app.errors import ErrorDetail, InvalidInput, TooLarge, pointer
from app.resources import WRITE_ORDER


@dataclass
class BundleInput:
    """A bundle to import: its top-level keys and its sections, which can be walked repeatedly.

    ``header`` maps each top-level key to its value, except that a section only needs to be
    a list there (possibly an empty stand-in); ``items(name)`` yields the section's records.
    """

    header: Mapping[str, Any]
    items: Callable[[str], Iterable[Any]]
    counts: Mapping[str, int]


def dict_bundle(data: Any) -> BundleInput:
    """A bundle already in memory (YAML, a CSV folder, the seed, a test)."""
    if not isinstance(data, dict):
        raise InvalidInput(
            "a bundle is a JSON/YAML object", [ErrorDetail("", "expected an object")]
        )
    counts: dict[str, int] = {n: len(data[n]) for n in WRITE_ORDER if isinstance(data.get(n), list)}
    return BundleInput(header=data, items=lambda name: data[name], counts=counts)


_SCALAR_EVENTS = {"null", "boolean", "integer", "double", "number", "string"}
_OPEN = {"start_map", "start_array"}
_CLOSE = {"end_map", "end_array"}
# How deep a bundle may nest (a record is at level 3: bundle, section, record), and how many
# values (scalars, lists, maps) one record may hold. Both are checked on the first pass over
# the stream, event by event, before any record is built: a 20k-level body once took 1 GB
# (ijson's prefixed events cost O(depth) each), one record of 4M values 520 MB.
MAX_DEPTH = 64
MAX_RECORD_VALUES = 100_000


def json_bundle(
    open_stream: Callable[[], IO[bytes]],
    max_depth: int = MAX_DEPTH,
    max_records: int | None = None,
) -> BundleInput:
    """A JSON bundle read as a stream: one pass for the top-level keys and the bounds, then
    one per section (ijson builds the records; the first pass made sure it safely can).

    With ``max_records``, the first pass stops (TooLarge) as soon as the bundle holds more.
    """
    header: dict[str, Any] = {}
    counts: dict[str, int] = {}
    with open_stream() as stream:
        try:
            _first_pass(
                ijson.basic_parse(stream, use_float=False), header, counts, max_depth, max_records
            )
        except ijson.JSONError as exc:
            raise _syntax_error(open_stream, exc) from None

    def items(name: str) -> Iterator[Any]:
        with open_stream() as stream:
            try:
                yield from ijson.items(stream, f"{name}.item", use_float=False)
            except ijson.JSONError as exc:
                raise _syntax_error(open_stream, exc) from None

    return BundleInput(header=header, items=items, counts=counts)


def _first_pass(
    events: Iterator[tuple[str, Any]],
    header: dict[str, Any],
    counts: dict[str, int],
    max_depth: int,
    max_records: int | None,
) -> None:
    """Fill in the top-level keys and section counts; refuse what is too deep or too big."""
    _expect_object(events)
    depth, key, pending, in_section = 1, "", False, False
    seen = values = 0
    keys = KeyTracker()
    for event, value in events:
        keys.see(event, value)
        if event in _CLOSE:
            depth -= 1
            continue
        if pending:  # the first event of a top-level value
            pending = False
            if event == "start_array":
                header[key], counts[key], in_section = [], 0, True
            else:
                header[key], in_section = ({} if event == "start_map" else value), False
        elif depth == 1 and event == "map_key":
            key, pending = value, True
        elif depth == 2 and in_section and event != "map_key":  # a record begins
            counts[key] += 1
            seen += 1
            values = 0
            if max_records is not None and seen > max_records:
                raise TooLarge(f"the bundle has more than {max_records} records per request")
        elif depth > 2 and in_section and event != "map_key":
            values += 1
            if values > MAX_RECORD_VALUES:
                where = pointer(key, counts[key] - 1)
                detail = f"a record of more than {MAX_RECORD_VALUES} values"
                raise InvalidInput("a record is too large", [ErrorDetail(where, detail)])
        if event in _OPEN:
            depth += 1
            if depth > max_depth:
                detail = f"nested deeper than {max_depth} levels"
                raise InvalidInput("the bundle nests too deeply", [ErrorDetail("", detail)])


class KeyTracker:
    """Where a stream of parser events is (a JSON Pointer), refusing a key repeated in one
    object: the standard parser keeps the last, ijson would yield both, and either way a
    section or a field given twice would change data silently."""

    def __init__(self) -> None:
        # One frame per open container: an object's keys so far and its current key, or
        # an array's current index.
        self.frames: list[list[Any]] = [[set(), None]]

    def path(self) -> list[str | int]:
        return [frame[1] if len(frame) == 2 else frame[0] for frame in self.frames]

    def see(self, event: str, value: Any) -> None:
        frames = self.frames
        if event in _CLOSE:
            frames.pop()
            return
        top = frames[-1] if frames else None
        if event == "map_key":
            assert top is not None
            if value in top[0]:
                raise duplicate_key(self.path()[:-1], value)
            top[0].add(value)
            top[1] = value
            return
        if top is not None and len(top) == 1:  # a value in an array
            top[0] += 1
        if event == "start_map":
            frames.append([set(), None])
        elif event == "start_array":
            frames.append([-1])


def duplicate_key(path: list[str | int], key: str) -> InvalidInput:
    """A key given twice in one object, at ``path``."""
    where = pointer(*path, key)
    return InvalidInput(
        "the bundle repeats a key", [ErrorDetail(where, f"key {key!r} is given twice")]
    )


def check_json_keys(text: str | bytes) -> None:
    """Refuse a JSON document that repeats a key in an object (with its pointer)."""
    events = ijson.basic_parse(io.BytesIO(text.encode() if isinstance(text, str) else text))
    tracker = KeyTracker()
    tracker.frames = []
    for event, value in events:
        tracker.see(event, value)


def _expect_object(events: Iterator[tuple[str, Any]]) -> None:
    """Refuse a bundle that is not an object (a syntax error anywhere is reported as such)."""
    first = next(events, None)
    if first is None or first[0] != "start_map":
        for _ in events:
            pass
        raise InvalidInput(
            "a bundle is a JSON/YAML object", [ErrorDetail("", "expected an object")]
        )


def _syntax_error(open_stream: Callable[[], IO[bytes]], exc: Exception) -> InvalidInput:
    """The position of a syntax error, from the standard parser (only on this error path)."""
    detail = str(exc)
    try:
        with open_stream() as stream:
            json.loads(stream.read())
    except json.JSONDecodeError as decoded:
        detail = f"line {decoded.lineno}, column {decoded.colno}: {decoded.msg}"
    except ValueError:
        pass
    return InvalidInput("the bundle is not valid JSON", [ErrorDetail("", detail)])

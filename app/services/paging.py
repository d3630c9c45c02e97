"""Keyset paging over any multi-field sort, with opaque signed cursors.

A page is "the rows after the last row of the previous page" in the sort order, never an
OFFSET: pages stay correct while rows are inserted and cost the same at any depth.
NULLs sort last in both directions, and the row id breaks ties.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from app.errors import BadQuery, ErrorDetail


@dataclass(frozen=True)
class SortField:
    """A column a list may be sorted by, under its public name."""

    column: Any
    nullable: bool = False


@dataclass(frozen=True)
class SortKey:
    name: str
    column: Any
    descending: bool
    nullable: bool


@dataclass
class PageResult:
    ids: list[int]
    total: int | None
    next_cursor: str | None
    total_capped: bool = False


def parse_sort(
    spec: str | None, fields: dict[str, SortField], default: str, id_column: Any
) -> list[SortKey]:
    """Turn ``-announced,title`` into sort keys; the id is always the last key."""
    keys: list[SortKey] = []
    for part in (spec or default).split(","):
        part = part.strip()
        name = part.lstrip("-")
        if name not in fields:
            raise BadQuery(
                f"cannot sort by {name!r}",
                [
                    ErrorDetail(
                        pointer="/query/sort",
                        detail=f"unknown sort field {name!r}; one of: {', '.join(sorted(fields))}",
                    )
                ],
            )
        field = fields[name]
        keys.append(SortKey(name, field.column, part.startswith("-"), field.nullable))
    if not any(k.name == "id" for k in keys):
        keys.append(SortKey("id", id_column, False, False))
    return keys


def _order_by(keys: Sequence[SortKey]) -> list[Any]:
    return [
        (k.column.desc() if k.descending else k.column.asc()).nulls_last()
        if k.nullable
        else (k.column.desc() if k.descending else k.column.asc())
        for k in keys
    ]


def after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    key, value = keys[0], values[0]
    rest = after_condition(keys[1:], values[1:]) if len(keys) > 1 else None
    if value is None:  # NULLs sort last: after a NULL come only NULLs further on
        assert rest is not None, "the last sort key is the id, never NULL"
        return and_(key.column.is_(None), rest)
    beyond: ColumnElement[bool] = key.column < value if key.descending else key.column > value
    if rest is None:
        return beyond
    tie = and_(key.column == value, rest)
    return or_(key.column.is_(None), beyond, tie) if key.nullable else or_(beyond, tie)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


# Bounds on what a cursor may carry, checked before anything is converted: a forged cursor
# must cost no more than a genuine one (``int(Decimal("1e1000000"))`` would hold the GIL for
# minutes) and must never reach the database as a value its column cannot take.
MAX_CURSOR_CHARS = 2048
MAX_CURSOR_TEXT = 1000
_DECIMAL_TEXT = re.compile(r"^-?[0-9]{1,40}(?:\.[0-9]{1,20})?$")
# Every integer column is 32-bit (PostgreSQL ``integer``), which is how values are bound.
_INT_RANGE = (-(2**31), 2**31 - 1)


class _Invalid(Exception):
    """A cursor value that is not what its sort key holds."""


def _decode_value(value: Any, expected: type, nullable: bool) -> Any:
    if value is None:
        if not nullable:
            raise _Invalid
        return None
    if isinstance(value, dict):
        return _decode_tagged(value, expected)
    return _decode_json_scalar(value, expected)


def _decode_tagged(value: dict[Any, Any], expected: type) -> Any:
    """A value JSON has no type for: {"t": datetime}, {"d": date} or {"n": decimal}."""
    if len(value) != 1:
        raise _Invalid
    ((tag, text),) = value.items()
    if not isinstance(text, str) or len(text) > 64:
        raise _Invalid
    if tag == "t" and expected in (datetime, object):
        return datetime.fromisoformat(text)  # ValueError: caught by decode()
    if tag == "d" and expected in (date, object):
        return date.fromisoformat(text)
    if tag == "n" and expected in (Decimal, float, object) and _DECIMAL_TEXT.match(text):
        return Decimal(text)
    raise _Invalid


def _decode_json_scalar(value: Any, expected: type) -> Any:
    """A bool, int, float or str, if the sort key holds that and it is within bounds."""
    if isinstance(value, bool):
        if expected not in (bool, object):
            raise _Invalid
        return value
    if isinstance(value, int):
        if expected not in (int, float, Decimal, object):
            raise _Invalid
        if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            raise _Invalid
        return value
    if isinstance(value, float):
        if expected not in (float, Decimal, object) or value != value or abs(value) == float("inf"):
            raise _Invalid
        return value
    if isinstance(value, str):
        if expected not in (str, object) or len(value) > MAX_CURSOR_TEXT:
            raise _Invalid
        return value
    raise _Invalid


def expected_type(column: Any) -> type:
    """The Python type of a sort column's values (``object`` when SQLAlchemy cannot say)."""
    sql_type = getattr(column, "type", None)
    # A TypeDecorator says ``object``; the type it decorates knows better.
    for candidate in (sql_type, getattr(sql_type, "impl_instance", None)):
        try:
            python_type: Any = getattr(candidate, "python_type", object)
        except NotImplementedError:
            continue
        if python_type is not object:
            return python_type if isinstance(python_type, type) else object
    return object


class CursorCodec:
    """Signs cursors so that a tampered or foreign cursor is a clear 400, never a wrong page.

    Decoding is total: whatever the string, the answer is the values or a BadQuery, in time
    proportional to the (bounded) length of the cursor.
    """

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:32]

    def encode(self, sort: str, values: Sequence[Any]) -> str:
        payload = json.dumps({"s": sort, "v": [_encode_value(v) for v in values]}).encode()
        token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{token}.{self._sign(payload)}"

    def decode(
        self,
        cursor: str,
        sort: str,
        types: Sequence[type],
        param: str = "cursor",
        nullable: Sequence[bool] | None = None,
    ) -> list[Any]:
        """The values of a cursor made for ``sort``, one of each of ``types`` (a 400 if not)."""
        problem = BadQuery(
            "invalid cursor",
            [
                ErrorDetail(
                    pointer=f"/query/{param}",
                    detail="the cursor is malformed or was altered; "
                    "use the `next` link of a previous page",
                )
            ],
        )
        if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
            raise problem
        try:
            token, signature = cursor.rsplit(".", 1)
            payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, binascii.Error):
            raise problem from None
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise problem
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            raise problem from None
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            raise problem
        values = data.get("v")
        if data["s"] != sort:
            raise BadQuery(
                "cursor does not match the sort",
                [
                    ErrorDetail(
                        pointer=f"/query/{param}",
                        detail="this cursor was made for sort "
                        f"{data['s'][:200]!r}; keep the same sort while paging",
                    )
                ],
            )
        if not isinstance(values, list) or len(values) != len(types):
            raise problem
        flags = nullable or [False] * len(types)
        try:
            return [_decode_value(v, t, n) for v, t, n in zip(values, types, flags, strict=True)]
        except (_Invalid, ValueError, ArithmeticError):
            raise problem from None


def keyset_page(
    session: Session,
    stmt: Select[Any],
    *,
    keys: Sequence[SortKey],
    sort_spec: str,
    cursor: str | None,
    limit: int,
    count: bool,
    codec: CursorCodec,
    count_cap: int = 100_000,
) -> PageResult:
    """One page of ``stmt`` (a select of one entity) after ``cursor`` in the order of ``keys``.

    The page's rows carry only the id and the sort values (what the cursor needs): callers
    render them with ``app.services.documents``.
    """
    total, capped = None, False
    if count:
        # Counting stops at count_cap rows, so a count never scans a huge table in full.
        counted = stmt.order_by(None).with_only_columns(literal(1), maintain_column_froms=True)
        counted = counted.limit(count_cap + 1)
        total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
        if total > count_cap:
            total, capped = count_cap, True
    if limit == 0:
        return PageResult(ids=[], total=total, next_cursor=None, total_capped=capped)
    paged = stmt
    if cursor:
        types = [expected_type(k.column) for k in keys]
        nullable = [k.nullable for k in keys]
        values = codec.decode(cursor, sort_spec, types, nullable=nullable)
        paged = paged.where(after_condition(keys, values))
    columns = [k.column for k in keys]
    paged = paged.with_only_columns(*columns, maintain_column_froms=True)
    rows = list(session.execute(paged.order_by(*_order_by(keys)).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = codec.encode(sort_spec, [_row_value(last, k) for k in keys])
    id_column = next(k.column for k in keys if k.name == "id")
    ids = [row._mapping[id_column] for row in rows]
    return PageResult(ids=ids, total=total, next_cursor=next_cursor, total_capped=capped)


def _row_value(row: Any, key: SortKey) -> Any:
    return row._mapping[key.column]

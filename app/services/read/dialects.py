"""How SQLite and PostgreSQL write each kind of JSON value (sql_builder.py assembles them).

Each method takes SQL expressions and returns one. On SQLite a value is an SQL value that
``json_object`` quotes, or a JSON value from a JSON function (wrapped in ``json()`` where it
crosses a subquery, which drops the JSON subtype). On PostgreSQL a value is the JSON text of
the value, never NULL, so that the pieces can be concatenated.
"""

import json
import re
from collections.abc import Sequence
from typing import ClassVar

_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")


def _key(key: str) -> str:
    if not _KEY.match(key):  # keys are written into SQL literals as they are
        raise ValueError(f"document key {key!r} is not a plain lower-case name")
    return key


class SqlJson:
    """The JSON-writing vocabulary both dialects provide."""

    @staticmethod
    def ids(ids: Sequence[int]) -> str:
        """The one parameter of ``documents``: the ids, in order, as a JSON array."""
        return json.dumps([int(i) for i in ids])

    # Amounts SQLite cannot write exactly are left to Python (see SqliteJson.amount).
    amounts_need_check: ClassVar[bool] = False
    # Lists are aggregated from a subquery that orders (and limits) its rows.
    orders_rows_in_subquery: ClassVar[bool] = False

    def object(self, pairs: Sequence[tuple[str, str]]) -> str:
        raise NotImplementedError

    def array(self, item: str, source: str, order: str) -> str:
        """A JSON array of ``item`` over the rows of ``source`` (FROM ...) in ``order``."""
        raise NotImplementedError

    def text(self, column: str) -> str:
        raise NotImplementedError

    def integer(self, column: str) -> str:
        raise NotImplementedError

    def boolean(self, column: str) -> str:
        raise NotImplementedError

    def amount(self, column: str) -> str:
        raise NotImplementedError

    def timestamp(self, column: str) -> str:
        raise NotImplementedError

    def partial_date(self, earliest: str, latest: str) -> str:
        raise NotImplementedError

    def json_object_column(self, column: str) -> str:
        raise NotImplementedError

    def json_list_column(self, column: str, keys: tuple[str, ...]) -> str:
        raise NotImplementedError

    def unless_null(self, condition: str, value: str) -> str:
        raise NotImplementedError

    def count(self, source: str) -> str:
        raise NotImplementedError

    def inexact(self, amounts: Sequence[str]) -> str:
        raise NotImplementedError

    def documents(self, *, table: str, alias: str, joins: str, document: str, inexact: str) -> str:
        raise NotImplementedError


# A REAL amount this large needs more correct digits at 6 decimals than SQLite's printf
# guarantees (its long-double arithmetic is exact to ~19 digits; Python's '%.6f' writes the
# double's exact expansion): such a document is left to the Python builder.
_EXACT_REAL_BELOW = 1e9


class SqliteJson(SqlJson):
    amounts_need_check = True
    # SQLite aggregates rows in the order they arrive, and does not flatten a subquery with
    # ORDER BY into an aggregate: each list reads its rows in order in a subquery.
    orders_rows_in_subquery = True

    def object(self, pairs: Sequence[tuple[str, str]]) -> str:
        return "json_object(" + ", ".join(f"'{_key(k)}', {v}" for k, v in pairs) + ")"

    def array(self, item: str, source: str, order: str) -> str:
        return f"json((SELECT json_group_array({item}) {source}))"

    def text(self, column: str) -> str:
        return column

    def integer(self, column: str) -> str:
        return column

    def boolean(self, column: str) -> str:
        return (
            f"json(CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN 'true' ELSE 'false' END)"
        )

    def amount(self, column: str) -> str:
        # An integer is stored as one and written exactly; a fraction is a REAL, read by
        # SQLAlchemy at 6 decimals ('%.6f') and normalised (trailing zeros dropped).
        return (
            f"CASE typeof({column}) WHEN 'null' THEN NULL"
            f" WHEN 'integer' THEN CAST({column} AS TEXT)"
            f" ELSE rtrim(rtrim(printf('%!.6f', {column}), '0'), '.') END"
        )

    def timestamp(self, column: str) -> str:
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); pydantic drops a zero fraction.
        return (
            f"replace(substr({column}, 1, 19), ' ', 'T')"
            f" || CASE WHEN substr({column}, 21) IN ('', '000000') THEN ''"
            f" ELSE '.' || substr({column}, 21) END || 'Z'"
        )

    def partial_date(self, earliest: str, latest: str) -> str:
        return (
            f"CASE WHEN {earliest} IS NULL OR {latest} IS NULL THEN NULL"
            f" WHEN {earliest} = {latest} THEN {earliest}"
            f" WHEN substr({earliest}, 1, 7) = substr({latest}, 1, 7)"
            f" THEN substr({earliest}, 1, 7)"
            f" ELSE substr({earliest}, 1, 4) END"
        )

    def json_object_column(self, column: str) -> str:
        # Re-quoted from the decoded values: the stored text may escape what pydantic won't.
        return f"json((SELECT json_group_object(key, value) FROM json_each({column})))"

    def json_list_column(self, column: str, keys: tuple[str, ...]) -> str:
        if not keys:
            return f"json((SELECT json_group_array(value) FROM json_each({column})))"
        fields = [(k, f"json_extract(e.value, '$.{_key(k)}')") for k in keys]
        return f"json((SELECT json_group_array({self.object(fields)}) FROM json_each({column}) e))"

    def unless_null(self, condition: str, value: str) -> str:
        return f"json(CASE WHEN {condition} THEN {value} END)"

    def count(self, source: str) -> str:
        return f"(SELECT count(*) {source})"

    def inexact(self, amounts: Sequence[str]) -> str:
        checks = [f"(typeof({a}) = 'real' AND abs({a}) >= {_EXACT_REAL_BELOW})" for a in amounts]
        return " OR ".join(checks) or "0"

    def documents(self, *, table: str, alias: str, joins: str, document: str, inexact: str) -> str:
        return (
            f"SELECT {alias}.id, {document}, {inexact}"
            f" FROM json_each(?) wanted JOIN {table} {alias} ON {alias}.id = wanted.value{joins}"
            " ORDER BY wanted.key"
        )


class PostgresJson(SqlJson):
    def object(self, pairs: Sequence[tuple[str, str]]) -> str:
        pieces = [
            f"'{'{' if n == 0 else ','}\"{_key(k)}\":' || {v}" for n, (k, v) in enumerate(pairs)
        ]
        return "(" + " || ".join(pieces) + " || '}')" if pieces else "'{}'"

    def array(self, item: str, source: str, order: str) -> str:
        aggregate = f"string_agg({item}, ',' ORDER BY {order})"
        return f"COALESCE((SELECT '[' || {aggregate} || ']' {source}), '[]')"

    def text(self, column: str) -> str:
        # to_json escapes as pydantic does: \" \\ \b \f \n \r \t, \u00XX (lowercase), else raw.
        return f"COALESCE(to_json({column})::text, 'null')"

    def integer(self, column: str) -> str:
        return f"COALESCE({column}::text, 'null')"

    def boolean(self, column: str) -> str:
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' ELSE 'null' END"

    def amount(self, column: str) -> str:
        return f"COALESCE('\"' || trim_scale({column})::text || '\"', 'null')"

    def timestamp(self, column: str) -> str:
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"COALESCE('\"' || to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            f" || CASE WHEN {utc} = date_trunc('second', {utc}) THEN ''"
            f" ELSE to_char({utc}, '.US') END || 'Z\"', 'null')"
        )

    def partial_date(self, earliest: str, latest: str) -> str:
        return (
            f"CASE WHEN {earliest} IS NULL OR {latest} IS NULL THEN 'null'"
            f" WHEN {earliest} = {latest} THEN '\"' || to_char({earliest}, 'YYYY-MM-DD') || '\"'"
            f" WHEN to_char({earliest}, 'YYYY-MM') = to_char({latest}, 'YYYY-MM')"
            f" THEN '\"' || to_char({earliest}, 'YYYY-MM') || '\"'"
            f" ELSE '\"' || to_char({earliest}, 'YYYY') || '\"' END"
        )

    def json_object_column(self, column: str) -> str:
        # In JSONB's own key order, as the driver hands the Python builder its dict.
        pair = "to_json(e.key)::text || ':' || to_json(e.value)::text"
        return (
            f"COALESCE((SELECT '{{' || string_agg({pair}, ',' ORDER BY e.n) || '}}'"
            f" FROM jsonb_each_text({column}) WITH ORDINALITY e(key, value, n)), '{{}}')"
        )

    def json_list_column(self, column: str, keys: tuple[str, ...]) -> str:
        if not keys:
            return self.array(
                "to_json(e.value)::text",
                f"FROM jsonb_array_elements_text({column}) WITH ORDINALITY e(value, n)",
                "e.n",
            )
        item = self.object([(k, self.text(f"(e.value ->> '{_key(k)}')")) for k in keys])
        return self.array(
            item, f"FROM jsonb_array_elements({column}) WITH ORDINALITY e(value, n)", "e.n"
        )

    def unless_null(self, condition: str, value: str) -> str:
        return f"CASE WHEN {condition} THEN {value} ELSE 'null' END"

    def count(self, source: str) -> str:
        return f"(SELECT count(*) {source})::text"

    def inexact(self, amounts: Sequence[str]) -> str:
        return "false"  # numeric's text is exact

    def documents(self, *, table: str, alias: str, joins: str, document: str, inexact: str) -> str:
        # The ids come as JSON text, as on SQLite: the planner cannot count the elements of
        # a JSON parameter, so every page gets the same estimate and, after a few runs, one
        # cached generic plan. From an array it would count them and re-plan this long
        # statement (~1.2 ms) on every call, which is most of a GET.
        return (
            f"SELECT {alias}.id, {document}, {inexact}"
            " FROM jsonb_array_elements_text(CAST(%s AS jsonb)) WITH ORDINALITY AS wanted(id, n)"
            f" JOIN {table} {alias} ON {alias}.id = CAST(wanted.id AS bigint){joins}"
            " ORDER BY wanted.n"
        )

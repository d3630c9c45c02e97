"""Streamed CSV and NDJSON renderings of list endpoints."""

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def stream_rows(
    pages: Iterator[Sequence[Any]],
    out: type[BaseModel],
    present: Callable[[Session, Sequence[Any]], list[Any]],
    fmt: str,
    name: str,
) -> StreamingResponse:
    """Render pages of ORM rows as CSV (nested values as JSON cells) or one JSON per line."""
    columns = list(out.model_fields)

    def body() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if fmt == "csv":
            writer.writerow(columns)
        for rows in pages:
            session = Session.object_session(rows[0]) if rows else None
            items = present(session, rows) if session is not None else []
            for item in items:
                data = item.model_dump(mode="json")
                if fmt == "csv":
                    writer.writerow([_cell(data.get(c)) for c in columns])
                else:
                    buffer.write(json.dumps(data, ensure_ascii=False) + "\n")
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if fmt == "csv" and buffer.getvalue():
            yield buffer.getvalue()

    headers = {"Content-Disposition": f'inline; filename="{name}.{fmt}"'}
    return StreamingResponse(body(), media_type=MEDIA_TYPES[fmt], headers=headers)

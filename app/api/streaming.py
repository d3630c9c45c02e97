"""Streamed CSV and NDJSON renderings of list endpoints."""

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.safe_text import csv_cell

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return csv_cell(str(value))


def stream_rows(
    pages: Iterator[list[dict[str, Any]]], out: type[BaseModel], fmt: str, name: str
) -> StreamingResponse:
    """Render pages of documents as CSV (nested values as JSON cells) or one JSON per line."""
    columns = list(out.model_fields)

    def body() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if fmt == "csv":
            writer.writerow(columns)
        for items in pages:
            for data in items:
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

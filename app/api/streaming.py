"""Streamed CSV and NDJSON renderings of list endpoints."""

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from pydantic_core import to_json

from app.safe_text import csv_cell

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return to_json(value).decode()  # nested values as compact JSON, as the API sends them
    return csv_cell(str(value))  # never a formula to a spreadsheet


def _headers(name: str, fmt: str) -> dict[str, str]:
    return {"Content-Disposition": f'inline; filename="{name}.{fmt}"'}


def stream_csv(
    pages: Iterator[list[dict[str, Any]]], out: type[BaseModel], name: str
) -> StreamingResponse:
    """Pages of documents as CSV: one row per record, nested values as JSON cells."""
    columns = list(out.model_fields)

    def body() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for items in pages:
            writer.writerows([_cell(data.get(c)) for c in columns] for data in items)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return StreamingResponse(body(), media_type=MEDIA_TYPES["csv"], headers=_headers(name, "csv"))


def stream_ndjson(pages: Iterator[Sequence[bytes]], name: str) -> StreamingResponse:
    """Pages of documents, already JSON, one per line."""

    def body() -> Iterator[bytes]:
        for items in pages:
            if items:
                yield b"\n".join(items) + b"\n"

    return StreamingResponse(
        body(), media_type=MEDIA_TYPES["ndjson"], headers=_headers(name, "ndjson")
    )

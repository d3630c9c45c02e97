"""What the MCP tools answer: structured content, each with an output schema."""

from typing import Any

from pydantic import BaseModel, Field

from app.schemas.explore import GraphEdge, GraphNode


class SearchItem(BaseModel):
    type: str
    slug: str
    title: str
    score: float
    snippet: str = Field(description="Matched words in <mark>...</mark>.")
    url: str


class SearchResult(BaseModel):
    items: list[SearchItem]
    total: int = Field(description="Hits in all.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class RecordResult(BaseModel):
    type: str
    slug: str
    url: str
    record: dict[str, Any] = Field(
        description="The record as GET /api/v1/{type}/{slug} answers it, citations inline."
    )
    truncated: dict[str, int] = Field(
        description="Lists cut to `max_items`: their full length. Ask with a larger "
        "`max_items` (or full=true) for more."
    )


class ListResult(BaseModel):
    items: list[RecordResult]
    total: int | None
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class TimelineItem(BaseModel):
    date: str
    precision: str
    event: str
    stage: int | None
    type: str
    slug: str
    title: str
    url: str


class TimelineResult(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class GraphResult(BaseModel):
    root: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = Field(description="The node limit was reached; more nodes exist.")


class Citation(BaseModel):
    source: str
    source_title: str | None = None
    section: str | None = None
    paragraph: int | None = None
    excerpt: str | None = None
    note: str | None = None


class Fact(BaseModel):
    fact: str = Field(description="What is stated: the record itself, or one of its links.")
    link: dict[str, Any] | None = Field(description="The link (role and other end), if any.")
    citations: list[Citation]


class SupportResult(BaseModel):
    type: str
    slug: str
    url: str
    facts: list[Fact]
    truncated: dict[str, int]

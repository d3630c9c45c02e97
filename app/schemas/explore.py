"""Shapes of search hits, facets, statistics, timeline events and graphs."""

from pydantic import BaseModel, Field


class SearchHit(BaseModel):
    type: str = Field(examples=["policy"])
    slug: str
    title: str
    score: float = Field(description="Relevance; higher is better. Comparable within one query.")
    snippet: str = Field(description="Matched text, with matches wrapped in <mark>...</mark>.")
    url: str


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int
    next: str | None


class FacetValueOut(BaseModel):
    value: str
    label: str
    count: int


class FacetOut(BaseModel):
    values: list[FacetValueOut]
    truncated: bool = Field(description="More values exist than are listed.")
    timed_out: bool = Field(description="Counting ran out of its time budget; no values.")


class StatsOut(BaseModel):
    counts: dict[str, int] = Field(description="Records per type.")
    by: dict[str, dict[str, FacetOut]] = Field(
        description="Per type, counts by kind, topic, region, year ... over all records."
    )


class RecordRef(BaseModel):
    type: str
    slug: str
    title: str
    url: str


class TimelineEvent(BaseModel):
    date: str = Field(examples=["2019-07"], description="Reduced-precision ISO 8601 date.")
    precision: str = Field(examples=["month"])
    event: str = Field(
        examples=["policy_announced"],
        description="policy_announced, policy_in_force_from, policy_in_force_to or goal_deadline.",
    )
    stage: int | None = Field(description="For goal deadlines of staged plans: the stage.")
    record: RecordRef


class TimelinePageOut(BaseModel):
    items: list[TimelineEvent]
    next: str | None


class GraphNode(BaseModel):
    id: str = Field(examples=["policy:new-generation-ai-development-plan"])
    type: str
    slug: str
    label: str
    kind: str | None


class GraphEdge(BaseModel):
    source: str
    target: str
    type: str = Field(
        description="actor_role, region_role, policy_relation, goal_owner, parent or home_region."
    )
    role: str | None = Field(description="The role or relation the edge carries.")


class GraphOut(BaseModel):
    root: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = Field(description="The node limit was reached; more nodes exist.")


class ChainLink(BaseModel):
    policy: str
    title: str
    relation: str
    via: str = Field(description="The policy whose relation leads here.")
    depth: int

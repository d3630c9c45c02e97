"""Exploring the data: facet counts, statistics, a timeline of dated events, the graph of
links around a record and relation chains. Every query here is bounded: facets by a value
limit and a time budget (``app.db.time_budget``), the timeline by keyset pages, the graph by
depth and node count."""

from app.services.explore.chains import CHAIN_RELATIONS, relation_chain
from app.services.explore.facets import (
    FACETS,
    FacetResult,
    FacetValue,
    check_facets,
    facet_counts,
)
from app.services.explore.graph import GRAPH_TYPES, Edge, Graph, graph, parse_root
from app.services.explore.stats import stats
from app.services.explore.timeline import (
    TIMELINE_SORT,
    TimelineFilters,
    TimelinePage,
    timeline,
)

__all__ = [
    "CHAIN_RELATIONS",
    "FACETS",
    "GRAPH_TYPES",
    "TIMELINE_SORT",
    "Edge",
    "FacetResult",
    "FacetValue",
    "Graph",
    "TimelineFilters",
    "TimelinePage",
    "check_facets",
    "facet_counts",
    "graph",
    "parse_root",
    "relation_chain",
    "stats",
    "timeline",
]

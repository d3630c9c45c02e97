"""Overall statistics: record counts by type, and each type's facets over everything."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.explore.facets import FACETS, facet_counts
from app.services.resources import RESOURCES


def stats(*, session: Session, max_values: int, budget_ms: int) -> dict[str, Any]:
    """Record counts by type, and the facets of each type over everything."""
    counts = {
        name: session.scalar(select(func.count()).select_from(spec.model)) or 0
        for name, spec in RESOURCES.items()
    }
    breakdown = {
        name: facet_counts(
            session=session,
            resource=name,
            filtered=select(RESOURCES[name].model),
            names=list(FACETS[name]),
            max_values=max_values,
            budget_ms=budget_ms,
        )
        for name in ("policies", "actors", "regions", "goals")
    }
    return {"counts": counts, "by": breakdown}

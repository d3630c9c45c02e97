"""What the record endpoints read: a page of a list (documents, total, next cursor, facets)
and one record's document with its expansions, already rendered as JSON bytes."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.errors import BadQuery, ErrorDetail
from app.resources import Resource
from app.schemas.explore import ChainLink, FacetOut
from app.services import explore
from app.services.documents import document, document_json, documents_json, render, render_page
from app.services.paging import CursorCodec
from app.services.queries import Filters, ListParams, filtered_query, list_records


@dataclass(frozen=True)
class FacetLimits:
    """How far facet counting may go: values listed per facet, milliseconds per facet."""

    max_values: int
    budget_ms: int


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its documents as JSON, the total (None: not counted), the cursor
    of the following page (None: the last) and the facet counts asked for."""

    items: list[bytes]
    total: int | None
    next_cursor: str | None
    total_capped: bool = False
    facets: dict[str, FacetOut] | None = None

    def body(self, next_url: str | None) -> bytes:
        """The page as sent: the shape of ``Page[...]`` (app/schemas/common.py)."""
        rest: dict[str, Any] = {"total": self.total, "next": next_url, "cursor": self.next_cursor}
        if self.total_capped:
            rest["total_capped"] = True
        if self.facets is not None:
            rest["facets"] = {k: v.model_dump(mode="json") for k, v in self.facets.items()}
        return render_page(self.items, rest)


def list_page(
    *,
    session: Session,
    resource: Resource,
    filters: Filters,
    params: ListParams,
    codec: CursorCodec,
    facets: Sequence[str] = (),
    facet_limits: FacetLimits,
) -> ListPage:
    """A page of ``resource``'s records matching ``filters``, with the ``facets`` asked for."""
    if facets:
        explore.check_facets(resource.name, facets)
    page = list_records(
        session=session, resource=resource.name, filters=filters, params=params, codec=codec
    )
    counted = None
    if facets:
        counts = explore.facet_counts(
            session=session,
            resource=resource.name,
            filtered=filtered_query(session, resource.name, filters),
            names=facets,
            max_values=facet_limits.max_values,
            budget_ms=facet_limits.budget_ms,
        )
        counted = {
            name: FacetOut.model_validate(result, from_attributes=True)
            for name, result in counts.items()
        }
    return ListPage(
        items=documents_json(session, resource.name, page.ids),
        total=page.total,
        next_cursor=page.next_cursor,
        total_capped=page.total_capped,
        facets=counted,
    )


def check_expansions(resource: Resource, expand: Sequence[str]) -> None:
    """Refuse an expansion the resource does not offer (its descriptor's ``expansions``)."""
    allowed = resource.expansions
    unknown = [e for e in expand if e not in allowed]
    if unknown:
        raise BadQuery(
            f"cannot expand {', '.join(unknown)} on {resource.name}",
            [ErrorDetail("/query/expand", f"allowed: {', '.join(sorted(allowed)) or 'none'}")],
        )


def record_document(
    *,
    session: Session,
    resource: Resource,
    key: str,
    expand: Sequence[str] = (),
    max_depth: int,
    max_links: int,
) -> bytes:
    """A record's document by id or slug, with the expansions asked for, as JSON."""
    check_expansions(resource, expand)
    if "relations" not in expand:
        return document_json(session, resource.name, key)
    doc = document(session, resource.name, key)
    chain, truncated = explore.relation_chain(
        session=session,
        policy_id=doc["id"],
        policy_slug=doc["slug"],
        max_depth=max_depth,
        max_links=max_links,
    )
    doc["relation_chain"] = [ChainLink(**link).model_dump(mode="json") for link in chain]
    if truncated:
        doc["relation_chain_truncated"] = True
    return render(doc)

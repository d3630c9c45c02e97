"""Regions: the ISO 3166 tree (countries, their subdivisions, cities, zones)."""

from sqlalchemy.orm import selectinload

from app.models import Citation, Region
from app.resources.descriptor import (
    Codes,
    Facet,
    Filter,
    Is,
    IsoCode,
    Reference,
    Resource,
    SearchText,
    SlugOf,
    Sortable,
    cited,
    text_search,
    timestamps,
)
from app.schemas.region import RegionOut, RegionRecord
from app.vocabularies import RegionKind

REGIONS = Resource(
    name="regions",
    singular="region",
    model=Region,
    record=RegionRecord,
    document=RegionOut,
    cited_as=Citation.region_id,
    label=Region.name,
    search=SearchText(
        Region.name, (Region.names, Region.aliases, Region.iso_code, Region.description)
    ),
    facets={"kind": Facet("region kind", Region.kind)},
    sortable={
        **timestamps(Region),
        "name": Sortable(Region.name),
        "kind": Sortable(Region.kind),
        "iso_code": Sortable(Region.iso_code, nullable=True),
    },
    filters={
        "q": text_search(Region),
        "kind": Filter(
            Codes(RegionKind),
            Is(Region.kind),
            "Region kind (repeatable).",
            ("municipality",),
        ),
        "parent": Filter(
            SlugOf("regions"), Is(Region.parent_id), "Slug of the parent region.", ("cn",)
        ),
        "iso": Filter(IsoCode(), Is(Region.iso_code), "Exact ISO 3166 code.", ("CN-TJ",)),
    },
    references=(Reference("parent", "regions", Region.parent_id, referrers="child regions"),),
    load_for_write=(selectinload(Region.parent), cited(Region.citations)),
)

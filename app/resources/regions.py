"""Regions: the ISO 3166 tree (countries, their subdivisions, cities, zones)."""

from sqlalchemy.orm import selectinload

from app.models import Citation, Region
from app.resources.descriptor import (
    Facet,
    Reference,
    Resource,
    SearchText,
    Sortable,
    cited,
    timestamps,
)
from app.schemas.region import RegionOut, RegionRecord

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
    references=(Reference("parent", "regions", Region.parent_id, referrers="child regions"),),
    load_for_write=(selectinload(Region.parent), cited(Region.citations)),
)

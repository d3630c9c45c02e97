"""Regions: the ISO 3166 tree (countries, their subdivisions, cities, zones)."""

from pydantic import BaseModel, Field
from sqlalchemy.orm import selectinload

import app.resources.document as doc
from app.models import Citation, PolicyRegion, Region
from app.resources.descriptor import (
    Codes,
    Facet,
    Filter,
    Is,
    IsoCode,
    Reference,
    RegionId,
    Resource,
    SearchText,
    Sortable,
    cited,
    text_search,
    timestamps,
)
from app.schemas.common import (
    RECORD_READ_ONLY,
    Citations,
    IsoRegionCode,
    LocalNames,
    LongText,
    RecordOut,
    ShortTexts,
    Slug,
    Text,
    WriteModel,
)
from app.schemas.links import EMBEDDED_LINKS, PolicyRef
from app.vocabularies import RegionKind

# The record's shapes: as written (POST/PUT bodies, bundles) and as read (GET).


class RegionRecord(WriteModel):
    """A region as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"ancestors", "children", "policies", "policies_total"}

    slug: Slug = Field(examples=["example-new-district", "shanghai"])
    name: Text = Field(max_length=300, examples=["Example New District"])
    names: LocalNames = Field(
        default_factory=dict,
        description="Names in other languages, keyed by BCP 47 tag.",
        examples=[{"zh": "上海", "zh-Latn-pinyin": "Shànghǎi"}],
    )
    aliases: ShortTexts = Field(default_factory=list)
    kind: RegionKind
    iso_code: IsoRegionCode | None = Field(default=None, description="ISO 3166-1 or 3166-2 code.")
    parent: Slug | None = Field(
        default=None, description="Slug of the enclosing region.", examples=["cn"]
    )
    description: LongText | None = None
    citations: Citations


class RegionRef(BaseModel):
    slug: str
    name: str
    kind: str
    iso_code: str | None


class RegionOut(RecordOut, RegionRecord):
    READ_ONLY = frozenset()

    ancestors: list[RegionRef] = Field(description="Enclosing regions, outermost first.")
    children: list[RegionRef]
    policies: list[PolicyRef] = Field(
        description=f"The first {EMBEDDED_LINKS} policies linked to this region, with roles; "
        "all of them are paged from `GET /api/v1/regions/{key}/policies`."
    )
    policies_total: int = Field(description="How many policy links this region has.")


# The read document (GET), declared once: app/services/read builds it in Python and SQL.

REGION_DOCUMENT = doc.DocumentSpec(
    Region,
    (
        doc.Text("slug"),
        doc.Text("name"),
        doc.JsonObject("names"),
        doc.JsonList("aliases"),
        doc.Text("kind"),
        doc.Text("iso_code"),
        doc.Reference("parent", "parent_id", Region),
        doc.Text("description"),
        doc.Citations("region_id"),
        *doc.RECORD_TAIL,
        doc.Ancestors("ancestors", "parent_id", doc.REGION_REF),
        doc.Embedded("children", Region, "parent_id", ("name", "id"), doc.REGION_REF),
        doc.Embedded(
            "policies", PolicyRegion, "region_id", ("id",), doc.LINKED_POLICY, limit=EMBEDDED_LINKS
        ),
        doc.Count("policies_total", PolicyRegion, "region_id"),
    ),
)


# The descriptor.

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
    document_spec=REGION_DOCUMENT,
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
            RegionId(),
            Is(Region.parent_id),
            "The parent region, by slug or ISO 3166 code.",
            ("cn", "CN"),
        ),
        "iso": Filter(IsoCode(), Is(Region.iso_code), "Exact ISO 3166 code.", ("CN-TJ",)),
    },
    references=(Reference("parent", "regions", Region.parent_id, referrers="child regions"),),
    load_for_write=(selectinload(Region.parent), cited(Region.citations)),
)

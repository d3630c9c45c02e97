from pydantic import BaseModel, Field

from app.schemas.common import (
    RECORD_READ_ONLY,
    Citation,
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


class RegionRecord(WriteModel):
    """A region as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"ancestors", "children", "policies", "policies_total"}

    slug: Slug = Field(examples=["shanghai"])
    name: Text = Field(max_length=300, examples=["Shanghai"])
    names: LocalNames = Field(
        default_factory=dict,
        description="Names in other languages, keyed by BCP 47 tag.",
        examples=[{"zh": "上海", "zh-Latn-pinyin": "Shànghǎi"}],
    )
    aliases: ShortTexts = Field(default_factory=list)
    kind: RegionKind
    iso_code: IsoRegionCode | None = Field(default=None, description="ISO 3166-1 or 3166-2 code.")
    parent: Slug | None = Field(default=None, description="Slug of the enclosing region.")
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


__all__ = ["Citation", "RegionOut", "RegionRecord", "RegionRef"]

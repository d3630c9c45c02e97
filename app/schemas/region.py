from pydantic import BaseModel, Field

from app.models import Region
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
from app.schemas.links import EMBEDDED_LINKS, PolicyRef, citations_out
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

    @classmethod
    def from_model(
        cls, region: Region, ancestors: list[Region], *, read_only: bool = True
    ) -> "RegionOut":
        out = cls(
            id=region.id,
            created_at=region.created_at,
            updated_at=region.updated_at,
            slug=region.slug,
            name=region.name,
            names=region.names,
            aliases=region.aliases,
            kind=RegionKind(region.kind),
            iso_code=region.iso_code,
            parent=region.parent.slug if region.parent else None,
            description=region.description,
            citations=citations_out(region.citations, read_only=read_only),
            ancestors=[region_ref(a) for a in ancestors],
            children=[],
            policies=[],
            policies_total=0,
        )
        if read_only:
            out.children = [region_ref(c) for c in region.children]
            out.policies = [
                PolicyRef(policy=link.policy.slug, title=link.policy.title, role=link.role)
                for link in region.policy_links[:EMBEDDED_LINKS]
            ]
            out.policies_total = len(region.policy_links)
        return out


def region_ref(region: Region) -> RegionRef:
    return RegionRef(slug=region.slug, name=region.name, kind=region.kind, iso_code=region.iso_code)


__all__ = ["Citation", "RegionOut", "RegionRecord", "RegionRef"]

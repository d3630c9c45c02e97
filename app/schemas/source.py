from pydantic import BaseModel, Field

from app.models import Citation as CitationModel
from app.models import Source
from app.schemas.common import (
    RECORD_READ_ONLY,
    LanguageTag,
    PartialDateValue,
    RecordOut,
    SafeText,
    ShortTexts,
    Slug,
    Text,
    WriteModel,
)


class SourceRecord(WriteModel):
    """A source as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"supports", "supports_total"}

    slug: Slug = Field(examples=["digichina-2020-12-21-ai-self-reliance"])
    title: Text = Field(max_length=500)
    publisher: SafeText | None = Field(default=None, max_length=300)
    series: SafeText | None = Field(default=None, max_length=300)
    authors: ShortTexts = Field(default_factory=list)
    url: SafeText | None = Field(default=None, max_length=2000)
    published: PartialDateValue | None = None
    language: LanguageTag | None = Field(default=None, examples=["en"])
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class SupportedFact(BaseModel):
    """One record or link that cites this source, with the citation's locator and excerpt."""

    type: str = Field(examples=["policy", "policy_actor"])
    record: str = Field(description="Slug of the record (for links: the owning policy).")
    link: str | None = Field(default=None, description="For links: the linked record and role.")
    section: str | None
    paragraph: int | None
    excerpt: str | None
    note: str | None


# A source may back millions of facts (every citation of it): a GET embeds the first ones
# and the rest are paged from GET /api/v1/sources/{key}/supports.
EMBEDDED_SUPPORTS = 500


class SourceOut(RecordOut, SourceRecord):
    READ_ONLY = frozenset()

    supports: list[SupportedFact] = Field(
        description=f"What the source supports, oldest citation first: at most the first "
        f"{EMBEDDED_SUPPORTS}; all of them are paged from `GET /api/v1/sources/{{key}}/supports`."
    )
    supports_total: int = Field(description="How many citations of this source there are.")

    @classmethod
    def from_model(cls, source: Source, *, read_only: bool = True) -> "SourceOut":
        return cls(
            id=source.id,
            created_at=source.created_at,
            updated_at=source.updated_at,
            slug=source.slug,
            title=source.title,
            publisher=source.publisher,
            series=source.series,
            authors=source.authors,
            url=source.url,
            published=source.published,
            language=source.language,
            sha256=source.sha256,
            supports=[supported_fact(c) for c in source.citations[:EMBEDDED_SUPPORTS]]
            if read_only
            else [],
            supports_total=len(source.citations) if read_only else 0,
        )


def supported_fact(c: CitationModel) -> SupportedFact:
    common = {
        "section": c.section,
        "paragraph": c.paragraph,
        "excerpt": c.excerpt,
        "note": c.note,
    }
    if c.policy_actor is not None:
        link = c.policy_actor
        return SupportedFact(
            type="policy_actor",
            record=link.policy.slug,
            link=f"{link.role}: {link.actor.slug}",
            **common,
        )
    if c.policy_region is not None:
        region_link = c.policy_region
        return SupportedFact(
            type="policy_region",
            record=region_link.policy.slug,
            link=f"{region_link.role}: {region_link.region.slug}",
            **common,
        )
    if c.policy_relation is not None:
        rel = c.policy_relation
        return SupportedFact(
            type="policy_relation",
            record=rel.policy.slug,
            link=f"{rel.relation}: {rel.related_policy.slug}",
            **common,
        )
    for kind in ("policy", "actor", "region", "goal"):
        owner = getattr(c, kind)
        if owner is not None:
            return SupportedFact(type=kind, record=owner.slug, **common)
    raise AssertionError(f"citation {c.id} cites nothing")  # the CHECK constraint forbids it


class SupportsPage(BaseModel):
    """A page of what a source supports; ``next`` fetches the following page."""

    items: list[SupportedFact]
    total: int
    next: str | None = Field(description="URL of the next page, null on the last page.")

"""Sources: the documents that state facts; every citation names one."""

from pydantic import BaseModel, Field

from app.models import Source
from app.resources.descriptor import Facet, Resource, SearchText, Sortable, text_search, timestamps
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

# The record's shapes: as written (POST/PUT bodies, bundles) and as read (GET).


class SourceRecord(WriteModel):
    """A source as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {"supports", "supports_total"}

    slug: Slug = Field(examples=["example-report-2026", "digichina-2020-12-21-ai-self-reliance"])
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


class SupportsPage(BaseModel):
    """A page of what a source supports; ``next`` fetches the following page."""

    items: list[SupportedFact]
    total: int
    next: str | None = Field(description="URL of the next page, null on the last page.")


# The descriptor.

SOURCES = Resource(
    name="sources",
    singular="source",
    model=Source,
    record=SourceRecord,
    document=SourceOut,
    cited_as=None,
    label=Source.title,
    search=SearchText(Source.title, (Source.publisher, Source.series, Source.authors)),
    facets={
        "publisher": Facet("publisher", Source.publisher),
        "language": Facet("language", Source.language),
    },
    sortable={
        **timestamps(Source),
        "title": Sortable(Source.title),
        "published": Sortable(Source.published_earliest, nullable=True),
    },
    filters={"q": text_search(Source)},
)

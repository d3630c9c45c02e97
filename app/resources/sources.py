"""Sources: the documents that state facts; every citation names one."""

from pydantic import BaseModel, Field
from sqlalchemy import Subquery, case, select
from sqlalchemy.orm import aliased

import app.resources.document as doc
from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    Region,
    Source,
)
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


def _supports() -> Subquery:
    """Every citation with what it cites: ``type`` (policy, actor, region, goal, or a link:
    policy_actor, policy_region, policy_relation), ``record`` (the slug of the record, or of
    the link's policy) and ``link`` ("role: slug" of the link's other end)."""
    ends = {name: aliased(Policy) for name in ("actor_link", "region_link", "relation", "target")}
    linked_actor, linked_region = aliased(Actor), aliased(Region)
    cited = (
        (Citation.policy_actor_id, "policy_actor", ends["actor_link"].slug),
        (Citation.policy_region_id, "policy_region", ends["region_link"].slug),
        (Citation.policy_relation_id, "policy_relation", ends["relation"].slug),
        (Citation.policy_id, "policy", Policy.slug),
        (Citation.actor_id, "actor", Actor.slug),
        (Citation.region_id, "region", Region.slug),
    )
    links = (
        (Citation.policy_actor_id, PolicyActor.role, linked_actor.slug),
        (Citation.policy_region_id, PolicyRegion.role, linked_region.slug),
        (Citation.policy_relation_id, PolicyRelation.relation, ends["target"].slug),
    )
    return (
        select(
            Citation.id,
            Citation.source_id,
            case(*((owner.is_not(None), kind) for owner, kind, _ in cited), else_="goal").label(
                "type"
            ),
            case(*((owner.is_not(None), slug) for owner, _, slug in cited), else_=Goal.slug).label(
                "record"
            ),
            case(*((owner.is_not(None), kind + ": " + slug) for owner, kind, slug in links)).label(
                "link"
            ),
            Citation.section,
            Citation.paragraph,
            Citation.excerpt,
            Citation.note,
        )
        .outerjoin(PolicyActor, PolicyActor.id == Citation.policy_actor_id)
        .outerjoin(ends["actor_link"], ends["actor_link"].id == PolicyActor.policy_id)
        .outerjoin(linked_actor, linked_actor.id == PolicyActor.actor_id)
        .outerjoin(PolicyRegion, PolicyRegion.id == Citation.policy_region_id)
        .outerjoin(ends["region_link"], ends["region_link"].id == PolicyRegion.policy_id)
        .outerjoin(linked_region, linked_region.id == PolicyRegion.region_id)
        .outerjoin(PolicyRelation, PolicyRelation.id == Citation.policy_relation_id)
        .outerjoin(ends["relation"], ends["relation"].id == PolicyRelation.policy_id)
        .outerjoin(ends["target"], ends["target"].id == PolicyRelation.related_policy_id)
        .outerjoin(Policy, Policy.id == Citation.policy_id)
        .outerjoin(Actor, Actor.id == Citation.actor_id)
        .outerjoin(Region, Region.id == Citation.region_id)
        .outerjoin(Goal, Goal.id == Citation.goal_id)
        .subquery("supports")
    )


# What a source supports, as its document embeds it (below) and as the
# supports pages list it: the columns after id and source_id are a SupportedFact's fields.
SUPPORTS = _supports()


# The read document (GET), declared once: app/services/read builds it in Python and SQL.

SOURCE_DOCUMENT = doc.DocumentSpec(
    Source,
    (
        doc.Text("slug"),
        doc.Text("title"),
        doc.Text("publisher"),
        doc.Text("series"),
        doc.JsonList("authors"),
        doc.Text("url"),
        doc.PartialDate("published"),
        doc.Text("language"),
        doc.Text("sha256"),
        *doc.RECORD_TAIL,
        # What the source supports: the first citations of it, each with what it cites.
        doc.Embedded(
            "supports",
            SUPPORTS,
            "source_id",
            ("id",),
            (
                doc.Text("type"),
                doc.Text("record"),
                doc.Text("link"),
                doc.Text("section"),
                doc.Integer("paragraph"),
                doc.Text("excerpt"),
                doc.Text("note"),
            ),
            limit=EMBEDDED_SUPPORTS,
        ),
        doc.Count("supports_total", Citation, "source_id"),
    ),
)


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
    document_spec=SOURCE_DOCUMENT,
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

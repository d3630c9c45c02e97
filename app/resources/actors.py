"""Actors: governments, ministries, companies, universities and people behind policies."""

from pydantic import BaseModel, Field
from sqlalchemy.orm import selectinload

import app.resources.document as doc
from app.models import Actor, Citation, Goal, PolicyActor, Region
from app.resources.descriptor import (
    Codes,
    Facet,
    Filter,
    Is,
    Reference,
    Resource,
    SearchText,
    SlugOf,
    Sortable,
    cited,
    text_search,
    timestamps,
    within_region,
)
from app.schemas.common import (
    RECORD_READ_ONLY,
    Citations,
    Identifiers,
    LocalNames,
    LongText,
    RecordOut,
    ShortTexts,
    Slug,
    Text,
    WriteModel,
)
from app.schemas.links import EMBEDDED_LINKS, GoalRef, PolicyRef
from app.vocabularies import ActorKind

# The record's shapes: as written (POST/PUT bodies, bundles) and as read (GET).


class ActorRecord(WriteModel):
    """An actor as written: in a POST/PUT body or an import bundle."""

    READ_ONLY = RECORD_READ_ONLY | {
        "children",
        "policies",
        "policies_total",
        "goals",
        "goals_total",
    }

    slug: Slug = Field(examples=["example-ai-office", "ministry-of-education"])
    name: Text = Field(max_length=300, examples=["Ministry of Education"])
    names: LocalNames = Field(
        default_factory=dict, examples=[{"zh": "教育部", "zh-Latn-pinyin": "Jiàoyùbù"}]
    )
    aliases: ShortTexts = Field(default_factory=list, examples=[["MoE"]])
    kind: ActorKind
    region: Slug | None = Field(
        default=None, description="Slug of the actor's home region.", examples=["cn"]
    )
    parent: Slug | None = Field(
        default=None,
        description="Slug of the actor this one is part of.",
        examples=["state-council"],
    )
    description: LongText | None = None
    identifiers: Identifiers
    citations: Citations


class ActorRef(BaseModel):
    slug: str
    name: str
    kind: str


class ActorOut(RecordOut, ActorRecord):
    READ_ONLY = frozenset()

    children: list[ActorRef]
    policies: list[PolicyRef] = Field(
        description=f"The first {EMBEDDED_LINKS} policies this actor is linked to, by role; "
        "all of them are paged from `GET /api/v1/actors/{key}/policies`."
    )
    policies_total: int = Field(description="How many policy links this actor has.")
    goals: list[GoalRef] = Field(
        description=f"The first {EMBEDDED_LINKS} goals this actor set; all of them are "
        "listed by `GET /api/v1/goals?actor={key}`."
    )
    goals_total: int = Field(description="How many goals this actor set.")


# The read document (GET), declared once: app/services/read builds it in Python and SQL.

ACTOR_DOCUMENT = doc.DocumentSpec(
    Actor,
    (
        doc.Text("slug"),
        doc.Text("name"),
        doc.JsonObject("names"),
        doc.JsonList("aliases"),
        doc.Text("kind"),
        doc.Reference("region", "region_id", Region),
        doc.Reference("parent", "parent_id", Actor),
        doc.Text("description"),
        doc.IDENTIFIERS,
        doc.Citations("actor_id"),
        *doc.RECORD_TAIL,
        doc.Embedded(
            "children",
            Actor,
            "parent_id",
            ("name", "id"),
            (doc.Text("slug"), doc.Text("name"), doc.Text("kind")),
        ),
        doc.Embedded(
            "policies", PolicyActor, "actor_id", ("id",), doc.LINKED_POLICY, limit=EMBEDDED_LINKS
        ),
        doc.Count("policies_total", PolicyActor, "actor_id"),
        doc.Embedded("goals", Goal, "actor_id", ("id",), doc.GOAL_REF, limit=EMBEDDED_LINKS),
        doc.Count("goals_total", Goal, "actor_id"),
    ),
)


# The descriptor.

ACTORS = Resource(
    name="actors",
    singular="actor",
    model=Actor,
    record=ActorRecord,
    document=ActorOut,
    cited_as=Citation.actor_id,
    label=Actor.name,
    search=SearchText(
        Actor.name, (Actor.names, Actor.aliases, Actor.description, Actor.identifiers)
    ),
    document_spec=ACTOR_DOCUMENT,
    facets={
        "kind": Facet("actor kind", Actor.kind),
        "region": Facet("home region", Actor.region_id, target="regions"),
    },
    sortable={
        **timestamps(Actor),
        "name": Sortable(Actor.name),
        "kind": Sortable(Actor.kind),
    },
    filters={
        "q": text_search(Actor),
        "kind": Filter(Codes(ActorKind), Is(Actor.kind), "Actor kind (repeatable).", ("ministry",)),
        "region": within_region(Is(Actor.region_id)),
        "parent": Filter(
            SlugOf("actors"),
            Is(Actor.parent_id),
            "Slug of the parent actor.",
            ("tsinghua-university",),
        ),
    },
    references=(
        Reference("region", "regions", Actor.region_id, referrers="actors (home region)"),
        Reference("parent", "actors", Actor.parent_id, referrers="child actors"),
    ),
    load_for_write=(
        selectinload(Actor.parent),
        selectinload(Actor.region),
        cited(Actor.citations),
    ),
)

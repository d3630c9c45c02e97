"""Actors: governments, ministries, companies, universities and people behind policies."""

from sqlalchemy.orm import selectinload

from app.models import Actor, Citation
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
from app.schemas.actor import ActorOut, ActorRecord
from app.vocabularies import ActorKind

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

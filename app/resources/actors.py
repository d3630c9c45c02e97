"""Actors: governments, ministries, companies, universities and people behind policies."""

from sqlalchemy.orm import selectinload

from app.models import Actor, Citation
from app.resources.descriptor import (
    Facet,
    Reference,
    Resource,
    SearchText,
    Sortable,
    cited,
    timestamps,
)
from app.schemas.actor import ActorOut, ActorRecord

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

"""The query parameters of each list endpoint, turned into service Filters."""

from typing import Annotated

from fastapi import Query

from app.errors import BadQuery, ErrorDetail
from app.partial_dates import PartialDate
from app.services.queries import Filters
from app.vocabularies import ActorKind, ActorRole, PolicyKind, PolicyStatus, RegionKind, Topic

Q = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="Case-insensitive text match across names, titles and descriptions.",
        examples=["talent"],
    ),
]
RegionParam = Annotated[
    str | None,
    Query(
        description="Region slug or ISO 3166 code; sub-regions are included.",
        examples=["tianjin", "CN-SH"],
    ),
]

DateParam = str | None  # parsed by parse_date() so a bad date names its parameter


def parse_date(name: str, value: str | None) -> PartialDate | None:
    if value is None:
        return None
    try:
        return PartialDate.parse(value)
    except ValueError as exc:
        raise BadQuery(
            f"invalid date in {name}", [ErrorDetail(pointer=f"/query/{name}", detail=str(exc))]
        ) from None


async def policy_filters(
    q: Q = None,
    kind: Annotated[
        list[PolicyKind],
        Query(description="Policy kind (repeat for any of several).", examples=["fund"]),
    ] = [],  # noqa: B006 - FastAPI copies list defaults
    status: Annotated[
        list[PolicyStatus], Query(description="Status (repeatable).", examples=["in_force"])
    ] = [],  # noqa: B006
    topic: Annotated[
        list[Topic], Query(description="Topic (repeatable; all must match).", examples=["talent"])
    ] = [],  # noqa: B006
    region: RegionParam = None,
    actor: Annotated[
        str | None, Query(description="Actor slug.", examples=["ministry-of-education"])
    ] = None,
    actor_role: Annotated[
        list[ActorRole],
        Query(
            description="With `actor`: only links with this role (repeatable).", examples=["issuer"]
        ),
    ] = [],  # noqa: B006
    announced_from: Annotated[
        DateParam,
        Query(
            description="Announced on or after (overlap: 2019 matches 2019-07).", examples=["2019"]
        ),
    ] = None,
    announced_to: Annotated[
        DateParam,
        Query(description="Announced on or before (overlap).", examples=["2020-06"]),
    ] = None,
    in_force_on: Annotated[
        DateParam,
        Query(description="In force at some time within this date.", examples=["2022"]),
    ] = None,
) -> Filters:
    return Filters(
        q=q,
        kind=[k.value for k in kind],
        status=[s.value for s in status],
        topic=[t.value for t in topic],
        region=region,
        actor=actor,
        actor_role=[r.value for r in actor_role],
        announced_from=parse_date("announced_from", announced_from),
        announced_to=parse_date("announced_to", announced_to),
        in_force_on=parse_date("in_force_on", in_force_on),
    )


async def actor_filters(
    q: Q = None,
    kind: Annotated[
        list[ActorKind], Query(description="Actor kind (repeatable).", examples=["ministry"])
    ] = [],  # noqa: B006
    region: RegionParam = None,
    parent: Annotated[
        str | None, Query(description="Slug of the parent actor.", examples=["tsinghua-university"])
    ] = None,
) -> Filters:
    return Filters(q=q, kind=[k.value for k in kind], region=region, parent=parent)


async def region_filters(
    q: Q = None,
    kind: Annotated[
        list[RegionKind], Query(description="Region kind (repeatable).", examples=["municipality"])
    ] = [],  # noqa: B006
    parent: Annotated[
        str | None, Query(description="Slug of the parent region.", examples=["cn"])
    ] = None,
    iso: Annotated[
        str | None, Query(description="Exact ISO 3166 code.", examples=["CN-TJ"], max_length=10)
    ] = None,
) -> Filters:
    return Filters(q=q, kind=[k.value for k in kind], parent=parent, iso=iso)


async def goal_filters(
    q: Q = None,
    policy: Annotated[
        str | None,
        Query(description="Slug of the owning policy.", examples=["tianjin-100bn-rmb-ai-fund"]),
    ] = None,
    actor: Annotated[
        str | None, Query(description="Slug of the owning actor.", examples=["steve-chen"])
    ] = None,
    deadline_from: Annotated[
        DateParam, Query(description="Deadline on or after (overlap).", examples=["2025"])
    ] = None,
    deadline_to: Annotated[
        DateParam, Query(description="Deadline on or before (overlap).", examples=["2030"])
    ] = None,
) -> Filters:
    return Filters(
        q=q,
        policy=policy,
        actor=actor,
        deadline_from=parse_date("deadline_from", deadline_from),
        deadline_to=parse_date("deadline_to", deadline_to),
    )


async def source_filters(q: Q = None) -> Filters:
    return Filters(q=q)

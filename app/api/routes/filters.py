"""The query parameters of each list, made from its resource's filters (app/resources).

Each filter of a descriptor becomes one documented parameter (type, enum, description,
examples), read into the service's ``Filters``: codes as their plain values, dates parsed.
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Query

from app.errors import BadQuery, ErrorDetail
from app.partial_dates import PartialDate
from app.resources import Resource
from app.resources.descriptor import Codes, DateBound, Filter, IsoCode, TextQuery
from app.services.queries import FilterInput, Filters

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


def filter_parameters(resource: Resource) -> Callable[..., Awaitable[Filters]]:
    """A dependency taking ``resource``'s filters as query parameters, in descriptor order."""
    signature = inspect.Signature(
        [_parameter(name, filter_) for name, filter_ in resource.filters.items()],
        return_annotation=Filters,
    )

    async def read_filters(**given: Any) -> Filters:
        return {name: _value(name, resource.filters[name], v) for name, v in given.items()}

    # FastAPI reads a dependency's parameters from its signature.
    read_filters.__signature__ = signature  # type: ignore[attr-defined]
    return read_filters


def _parameter(name: str, filter_: Filter) -> inspect.Parameter:
    docs: dict[str, Any] = {"description": filter_.description, "examples": list(filter_.examples)}
    annotation: Any
    default: Any = None
    match filter_.value:
        case Codes(vocabulary):
            annotation = Annotated[list[vocabulary], Query(**docs)]  # type: ignore[valid-type]
            default = []  # FastAPI copies list defaults
        case TextQuery(max_length):
            annotation = Annotated[str | None, Query(min_length=1, max_length=max_length, **docs)]
        case IsoCode(max_length):
            annotation = Annotated[str | None, Query(max_length=max_length, **docs)]
        case _:  # slugs, regions and dates are read as text and looked up or parsed
            annotation = Annotated[str | None, Query(**docs)]
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _value(name: str, filter_: Filter, given: Any) -> FilterInput:
    match filter_.value:
        case Codes():
            return [code.value for code in given]
        case DateBound():
            return parse_date(name, given)
    value: str | None = given
    return value

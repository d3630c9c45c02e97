"""Shared field types and small models used by every record schema."""

import copy
import functools
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Optional

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    create_model,
    model_validator,
)

from app.partial_dates import PartialDate
from app.safe_text import SAFE_TEXT_PATTERN

# Lower-case words joined by hyphens; never digits alone, which would read as a numeric id.
SLUG_PATTERN = r"^(?:[a-z0-9]+(?:-[a-z0-9]+)+|[a-z0-9]*[a-z][a-z0-9]*)$"
Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=120),
]
LanguageTag = Annotated[
    str, StringConstraints(pattern=r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*$", max_length=35)
]
# Written text may hold any character but C0 controls other than tab and newline, U+FFFE
# and U+FFFF: every output format (JSON, CSV, YAML, GraphML's XML) can then carry it as it is.
# Lone surrogates are refused by Pydantic itself (they are not text).
# Bounds on every string and list a record may hold (they appear in the OpenAPI document
# and the bundle schema), so a request's size is bounded by its content, not just its bytes.
MAX_LONG_TEXT = 20_000  # summaries, descriptions, goal statements
MAX_SHORT_TEXT = 300  # names, aliases, authors
MAX_NAMES = 50  # entries of names/titles/aliases/authors/identifiers/topics
MAX_LINKS = 500  # actors, regions or related policies of one policy
MAX_CITATIONS = 100  # citations of one record or link
MAX_INT = 2**31 - 1  # integer columns are 32-bit (PostgreSQL integer)

SafeText = Annotated[str, StringConstraints(pattern=SAFE_TEXT_PATTERN)]
Text = Annotated[
    str, StringConstraints(min_length=1, strip_whitespace=True, pattern=SAFE_TEXT_PATTERN)
]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_SHORT_TEXT, pattern=SAFE_TEXT_PATTERN)
]
LongText = Annotated[str, StringConstraints(max_length=MAX_LONG_TEXT, pattern=SAFE_TEXT_PATTERN)]
# Other-language names or titles, keyed by BCP 47 tag.
LocalName = Annotated[
    str, StringConstraints(min_length=1, max_length=500, pattern=SAFE_TEXT_PATTERN)
]
LocalNames = Annotated[dict[LanguageTag, LocalName], Field(max_length=MAX_NAMES)]
ShortTexts = Annotated[list[ShortText], Field(max_length=MAX_NAMES)]


def _parse_partial_date(value: Any) -> Any:
    if isinstance(value, PartialDate) or value is None:
        return value
    if isinstance(value, int):  # YAML reads an unquoted 2019 as a number
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("a date must be a string: YYYY, YYYY-MM or YYYY-MM-DD")
    return PartialDate.parse(value)


PartialDateValue = Annotated[
    PartialDate,
    BeforeValidator(_parse_partial_date),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            # Years 1000-9999 (year 0000 is refused; earlier ones would not be written back
            # with four digits), months 01-12, days 01-31.
            "pattern": r"^[1-9]\d{3}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$",
            "description": "A date known to the year, month or day (reduced-precision ISO 8601).",
            "examples": ["2019", "2019-07", "2019-07-15"],
        }
    ),
]


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


DecimalValue = Annotated[
    Decimal,
    BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v),
    Field(allow_inf_nan=False, max_digits=30, decimal_places=6),
    PlainSerializer(_decimal_text, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?\d+(\.\d+)?$",
            "description": "A decimal number written as a string so no precision is lost.",
            "examples": ["100000000000", "0.5"],
        }
    ),
]


def _iso_3166(code: str) -> str:
    code = code.upper()
    if "-" in code:
        found = pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
    else:
        found = pycountry.countries.get(alpha_2=code)
    if found is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 or ISO 3166-2 code")
    return code


def _iso_4217(code: str) -> str:
    code = code.upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


IsoRegionCode = Annotated[
    str,
    AfterValidator(_iso_3166),
    Field(examples=["CN", "CN-SH", "US"], min_length=2, max_length=10),
]
CurrencyCode = Annotated[
    str, AfterValidator(_iso_4217), Field(examples=["CNY", "USD"], min_length=3, max_length=3)
]


class WriteModel(BaseModel):
    """Base of every writable shape: unknown fields are refused, read-only ones ignored.

    READ_ONLY names the fields a GET adds (ids, timestamps, embedded reverse relations), so the
    body of a GET can be edited and PUT back as it is. Output objects that carry those fields
    are built with ``model_construct``, which skips this input-only step.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    READ_ONLY: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and cls.READ_ONLY:
            return {k: v for k, v in data.items() if k not in cls.READ_ONLY}
        return data


@functools.cache
def merge_patch_shape(record: type[WriteModel]) -> type[WriteModel]:
    """The body of a PATCH of ``record`` (RFC 7396): any of its fields, each also ``null``
    (clears it). Constraints and documentation are the record's; the record's own checks
    across fields run once the patch is merged (app/services/records.py)."""
    fields: dict[str, Any] = {}
    for name, info in record.model_fields.items():
        optional = copy.copy(info)
        optional.default, optional.default_factory = None, None
        fields[name] = (Optional[info.annotation], optional)  # noqa: UP045 - built at run time
    shape: type[WriteModel] = create_model(
        record.__name__.removesuffix("Record") + "Patch",
        __base__=WriteModel,
        __doc__=f"A JSON merge patch of a {record.__name__.removesuffix('Record').lower()}.",
        **fields,
    )
    shape.READ_ONLY = record.READ_ONLY  # a GET's body, edited, is a valid patch too
    return shape


RECORD_READ_ONLY = frozenset({"id", "created_at", "updated_at"})


class Identifier(WriteModel):
    scheme: Annotated[
        str, StringConstraints(min_length=1, max_length=60, pattern=SAFE_TEXT_PATTERN)
    ] = Field(examples=["wikidata"])
    value: Annotated[
        str, StringConstraints(min_length=1, max_length=200, pattern=SAFE_TEXT_PATTERN)
    ] = Field(examples=["Q8733"])


class Citation(WriteModel):
    """Where a source states the fact: section, paragraph and a short verbatim excerpt."""

    READ_ONLY = frozenset({"source_title"})

    source: Slug = Field(
        description="Slug of the cited source.", examples=["digichina-2020-12-21-ai-self-reliance"]
    )
    section: SafeText | None = Field(default=None, max_length=300, examples=["Introduction"])
    paragraph: int | None = Field(default=None, ge=1, le=MAX_INT, examples=[2])
    excerpt: SafeText | None = Field(
        default=None,
        max_length=400,
        description="The evidence, verbatim from the source (a phrase, not a paragraph).",
    )
    note: SafeText | None = Field(
        default=None, max_length=2000, examples=["derived: 5,000,000 / 100"]
    )
    source_title: str | None = Field(
        default=None,
        description="Read-only: the cited source's title.",
        json_schema_extra={"readOnly": True},
    )


Citations = Annotated[list[Citation], Field(default_factory=list, max_length=MAX_CITATIONS)]
Identifiers = Annotated[list[Identifier], Field(default_factory=list, max_length=MAX_NAMES)]


class RecordOut(BaseModel):
    """Fields every stored record adds to its writable shape."""

    id: int
    created_at: datetime
    updated_at: datetime


def unique_items(items: Iterable[tuple[Any, ...]], what: str) -> None:
    seen: set[tuple[Any, ...]] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"duplicate {what}: {item}")
        seen.add(item)


class Page[T](BaseModel):
    """One page of a list. ``next`` is the URL of the next page (also in the Link header),
    ``cursor`` the token in it, for clients that build their own URLs."""

    items: list[T]
    total: int | None = Field(description="Rows matching the filters; null with count=false.")
    next: str | None = Field(description="URL of the next page, null on the last page.")
    cursor: str | None = Field(
        description="The `cursor` parameter of the next page (what `next` carries), null on "
        "the last page."
    )
    total_capped: bool = Field(
        default=False,
        description="True when counting stopped at the server's cap: `total` is a lower bound.",
        exclude_if=lambda value: not value,
    )
    facets: "dict[str, FacetOut] | None" = Field(
        default=None,
        description="With `facet=...`: counts per value over all matching rows.",
        exclude_if=lambda value: value is None,
    )


from app.schemas.explore import FacetOut  # noqa: E402  (Page refers to it; explore imports nothing here)

Page.model_rebuild()

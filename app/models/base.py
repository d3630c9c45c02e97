"""Declarative base, constraint naming convention and the column types every table shares."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, overload

from sqlalchemy import JSON, DateTime, Dialect, MetaData, Numeric, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app.partial_dates import PartialDate

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC when read, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


JSONType = JSON().with_variant(JSONB(), "postgresql")
Amount = Numeric(30, 6)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        Decimal: Amount,
    }


class RecordMixin:
    """The columns every top-level record has: id, a stable slug (the import key), timestamps,
    and a version that every UPDATE checks and bumps, so concurrent writers cannot silently
    overwrite each other (the loser's flush fails with StaleDataError)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Record(RecordMixin, Base):
    """A top-level record (source, region, actor, policy, goal): what a resource descriptor's
    model is."""

    __abstract__ = True


class PartialDateField:
    """Exposes the columns ``<name>_earliest`` and ``<name>_latest`` as one PartialDate."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.earliest = f"{name}_earliest"
        self.latest = f"{name}_latest"

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> "PartialDateField": ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> PartialDate | None: ...
    def __get__(
        self, obj: object | None, objtype: type | None = None
    ) -> "PartialDate | PartialDateField | None":
        if obj is None:
            return self
        earliest: date | None = getattr(obj, self.earliest)
        latest: date | None = getattr(obj, self.latest)
        return PartialDate.from_columns(earliest, latest)

    def __set__(self, obj: object, value: PartialDate | None) -> None:
        setattr(obj, self.earliest, value.earliest if value else None)
        setattr(obj, self.latest, value.latest if value else None)


def partial_date_columns() -> tuple[Mapped[date | None], Mapped[date | None]]:
    return mapped_column(nullable=True), mapped_column(nullable=True)


def code(length: int = 40) -> Mapped[str]:
    """A controlled-vocabulary value (lower snake_case), validated by the schemas."""
    return mapped_column(String(length))

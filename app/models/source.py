from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import PartialDateField, Record

if TYPE_CHECKING:
    from app.models.citation import Citation


class Source(Record):
    """A document that states facts: every citation points at one."""

    __tablename__ = "sources"

    title: Mapped[str] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(300))
    series: Mapped[str | None] = mapped_column(String(300))
    authors: Mapped[list[Any]] = mapped_column(default=list)
    url: Mapped[str | None] = mapped_column(Text)
    published_earliest: Mapped[date | None]
    published_latest: Mapped[date | None]
    language: Mapped[str | None] = mapped_column(String(35))
    sha256: Mapped[str | None] = mapped_column(String(64))

    published = PartialDateField()

    citations: Mapped[list["Citation"]] = relationship(
        back_populates="source", viewonly=True, order_by="Citation.id"
    )

from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Record, code

if TYPE_CHECKING:
    from app.models.citation import Citation
    from app.models.policy import PolicyRegion


class Region(Record):
    """A place a policy applies to; regions form a tree (zone in city in country)."""

    __tablename__ = "regions"

    name: Mapped[str] = mapped_column(String(300))
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str] = code()
    iso_code: Mapped[str | None] = mapped_column(String(10), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)

    parent: Mapped["Region | None"] = relationship(
        remote_side="Region.id", back_populates="children"
    )
    children: Mapped[list["Region"]] = relationship(
        back_populates="parent", order_by="[Region.name, Region.id]", viewonly=True
    )
    policy_links: Mapped[list["PolicyRegion"]] = relationship(
        back_populates="region", viewonly=True, order_by="PolicyRegion.id"
    )
    citations: Mapped[list["Citation"]] = relationship(
        cascade="all, delete-orphan", order_by="Citation.position"
    )

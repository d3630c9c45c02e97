from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Record, code

if TYPE_CHECKING:
    from app.models.citation import Citation
    from app.models.goal import Goal
    from app.models.policy import PolicyActor
    from app.models.region import Region


class Actor(Record):
    """Anyone behind or around a policy: party organs, ministries, people, firms, governments."""

    __tablename__ = "actors"

    name: Mapped[str] = mapped_column(String(300))
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str] = code()
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    identifiers: Mapped[list[Any]] = mapped_column(default=list)

    region: Mapped["Region | None"] = relationship()
    parent: Mapped["Actor | None"] = relationship(remote_side="Actor.id", back_populates="children")
    children: Mapped[list["Actor"]] = relationship(
        back_populates="parent", order_by="[Actor.name, Actor.id]", viewonly=True
    )
    policy_links: Mapped[list["PolicyActor"]] = relationship(
        back_populates="actor", viewonly=True, order_by="PolicyActor.id"
    )
    goals: Mapped[list["Goal"]] = relationship(
        back_populates="actor", viewonly=True, order_by="Goal.id"
    )
    citations: Mapped[list["Citation"]] = relationship(
        cascade="all, delete-orphan", order_by="Citation.position"
    )

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.actor import Actor
    from app.models.goal import Goal
    from app.models.policy import Policy, PolicyActor, PolicyRegion, PolicyRelation
    from app.models.region import Region
    from app.models.source import Source

# One nullable foreign key per kind of thing a citation can support: unlike a polymorphic
# (type, id) pair, the database itself keeps these consistent and cascades deletes.
CITED_COLUMNS = (
    "policy_id",
    "actor_id",
    "region_id",
    "goal_id",
    "policy_actor_id",
    "policy_region_id",
    "policy_relation_id",
)
_exactly_one = " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)" for c in CITED_COLUMNS)


class Citation(Base):
    """Evidence for one record or link: a place in a source and a short verbatim excerpt."""

    __tablename__ = "citations"
    __table_args__ = (CheckConstraint(f"{_exactly_one} = 1", name="cites_one_thing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    section: Mapped[str | None] = mapped_column(String(300))
    paragraph: Mapped[int | None]
    excerpt: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)

    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("regions.id", ondelete="CASCADE"), index=True
    )
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), index=True
    )
    policy_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_actors.id", ondelete="CASCADE"), index=True
    )
    policy_region_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_regions.id", ondelete="CASCADE"), index=True
    )
    policy_relation_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_relations.id", ondelete="CASCADE"), index=True
    )

    source: Mapped["Source"] = relationship(back_populates="citations")
    policy: Mapped["Policy | None"] = relationship(viewonly=True)
    actor: Mapped["Actor | None"] = relationship(viewonly=True)
    region: Mapped["Region | None"] = relationship(viewonly=True)
    goal: Mapped["Goal | None"] = relationship(viewonly=True)
    policy_actor: Mapped["PolicyActor | None"] = relationship(viewonly=True)
    policy_region: Mapped["PolicyRegion | None"] = relationship(viewonly=True)
    policy_relation: Mapped["PolicyRelation | None"] = relationship(viewonly=True)

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, PartialDateField, Record, code

if TYPE_CHECKING:
    from app.models.actor import Actor
    from app.models.citation import Citation
    from app.models.goal import Goal
    from app.models.region import Region


class Policy(Record):
    """A plan, law, measure, fund, zone, sanction or initiative."""

    __tablename__ = "policies"
    __table_args__ = (
        Index("ix_policies_announced", "announced_earliest", "id"),
        Index("ix_policies_title", "title", "id"),
        # Facet counts by status read this index instead of the (wide) table.
        Index("ix_policies_status", "status"),
        # The timeline pages each kind of dated event by (date, id).
        Index("ix_policies_in_force_from", "in_force_from_earliest", "id"),
        Index("ix_policies_in_force_to", "in_force_to_earliest", "id"),
        # ix_policies_kind_announced (kind, announced DESC NULLS LAST, title, id) serves the
        # kind filter sorted by -announced; it is made by hand in its migration because
        # SQLite cannot write NULLS LAST in an index (its DESC order already puts NULLs last).
    )

    title: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str | None] = mapped_column(String(100))
    titles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    kind: Mapped[str] = code()
    status: Mapped[str] = code()
    summary: Mapped[str | None] = mapped_column(Text)
    identifiers: Mapped[list[Any]] = mapped_column(default=list)
    announced_earliest: Mapped[date | None]
    announced_latest: Mapped[date | None]
    in_force_from_earliest: Mapped[date | None]
    in_force_from_latest: Mapped[date | None]
    in_force_to_earliest: Mapped[date | None]
    in_force_to_latest: Mapped[date | None]
    money_amount: Mapped[Decimal | None]
    money_currency: Mapped[str | None] = mapped_column(String(3))
    money_approximate: Mapped[bool] = mapped_column(default=False)

    announced = PartialDateField()
    in_force_from = PartialDateField()
    in_force_to = PartialDateField()

    topic_links: Mapped[list["PolicyTopic"]] = relationship(
        cascade="all, delete-orphan", order_by="PolicyTopic.topic"
    )
    actor_links: Mapped[list["PolicyActor"]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="PolicyActor.position"
    )
    region_links: Mapped[list["PolicyRegion"]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="PolicyRegion.position"
    )
    relations: Mapped[list["PolicyRelation"]] = relationship(
        foreign_keys="PolicyRelation.policy_id",
        back_populates="policy",
        cascade="all, delete-orphan",
        order_by="PolicyRelation.position",
    )
    incoming_relations: Mapped[list["PolicyRelation"]] = relationship(
        foreign_keys="PolicyRelation.related_policy_id",
        back_populates="related_policy",
        viewonly=True,
        order_by="PolicyRelation.id",
    )
    goals: Mapped[list["Goal"]] = relationship(
        back_populates="policy",
        viewonly=True,
        # Unstaged goals last on every engine (SQLite sorts NULL first, PostgreSQL last).
        order_by="(Goal.stage.is_(None), Goal.stage, Goal.id)",
    )
    citations: Mapped[list["Citation"]] = relationship(
        cascade="all, delete-orphan", order_by="Citation.position"
    )

    @property
    def topics(self) -> list[str]:
        return [link.topic for link in self.topic_links]


class PolicyTopic(Base):
    __tablename__ = "policy_topics"

    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class PolicyActor(Base):
    """An actor's role in a policy (issuer, implementer, target ...)."""

    __tablename__ = "policy_actors"
    __table_args__ = (UniqueConstraint("policy_id", "actor_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), index=True)
    role: Mapped[str] = code()
    position: Mapped[int] = mapped_column(default=0)

    policy: Mapped[Policy] = relationship(back_populates="actor_links")
    actor: Mapped["Actor"] = relationship(back_populates="policy_links")
    citations: Mapped[list["Citation"]] = relationship(
        cascade="all, delete-orphan", order_by="Citation.position"
    )


class PolicyRegion(Base):
    """Where a policy applies (jurisdiction, target, location)."""

    __tablename__ = "policy_regions"
    __table_args__ = (UniqueConstraint("policy_id", "region_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    role: Mapped[str] = code()
    position: Mapped[int] = mapped_column(default=0)

    policy: Mapped[Policy] = relationship(back_populates="region_links")
    region: Mapped["Region"] = relationship(back_populates="policy_links")
    citations: Mapped[list["Citation"]] = relationship(
        cascade="all, delete-orphan", order_by="Citation.position"
    )


class PolicyRelation(Base):
    """A typed link from one policy to another: ``policy`` implements ``related_policy``."""

    __tablename__ = "policy_relations"
    __table_args__ = (UniqueConstraint("policy_id", "related_policy_id", "relation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    related_policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    relation: Mapped[str] = code()
    position: Mapped[int] = mapped_column(default=0)

    policy: Mapped[Policy] = relationship(foreign_keys=[policy_id], back_populates="relations")
    related_policy: Mapped[Policy] = relationship(
        foreign_keys=[related_policy_id], back_populates="incoming_relations"
    )
    citations: Mapped[list["Citation"]] = relationship(
        cascade="all, delete-orphan", order_by="Citation.position"
    )

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import PartialDateField, Record, code

if TYPE_CHECKING:
    from app.models.actor import Actor
    from app.models.citation import Citation
    from app.models.policy import Policy


class Goal(Record):
    """A quantified target with a deadline, owned by a policy and/or an actor."""

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint("policy_id IS NOT NULL OR actor_id IS NOT NULL", name="has_owner"),
        # Deadline filters, and the timeline's paging of deadlines by (date, id).
        Index("ix_goals_deadline", "deadline_earliest", "id"),
    )

    statement: Mapped[str] = mapped_column(Text)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), index=True)
    metric: Mapped[str | None] = mapped_column(String(300))
    target_value: Mapped[Decimal | None]
    unit: Mapped[str | None] = mapped_column(String(100))
    baseline_value: Mapped[Decimal | None]
    baseline_date_earliest: Mapped[date | None]
    baseline_date_latest: Mapped[date | None]
    deadline_earliest: Mapped[date | None]
    deadline_latest: Mapped[date | None]
    stage: Mapped[int | None]
    status: Mapped[str] = code()

    deadline = PartialDateField()
    baseline_date = PartialDateField()

    policy: Mapped["Policy | None"] = relationship(back_populates="goals")
    actor: Mapped["Actor | None"] = relationship(back_populates="goals")
    citations: Mapped[list["Citation"]] = relationship(
        cascade="all, delete-orphan", order_by="Citation.position"
    )

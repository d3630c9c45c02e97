from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class HistoryEntry(Base):
    """One create, update or delete of a record, written in the same transaction as the change.

    ``fields`` holds each changed field's old and new value (links included); ``snapshot`` is
    the whole record after the change (before it, for a delete), so any past state can be read
    back. The id orders the global changes feed.
    """

    __tablename__ = "history"
    __table_args__ = (
        Index("ix_history_record", "record_type", "record_id", "id"),
        Index("ix_history_slug", "record_type", "slug", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int]
    slug: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(10))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)

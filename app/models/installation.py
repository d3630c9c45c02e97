from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class InstallationSecret(Base):
    """A secret this installation generated for itself on first use (e.g. the key that
    signs paging cursors), so that no deployment runs on a default everyone knows."""

    __tablename__ = "installation_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

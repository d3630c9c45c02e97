from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class SearchDocument(Base):
    """The searchable text of one record, kept in step with it on every write.

    The full-text index over it is engine-specific and lives in the migrations only: an FTS5
    table (``search_fts``) on SQLite, a generated ``tsvector`` column with a GIN index on
    PostgreSQL.
    """

    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)

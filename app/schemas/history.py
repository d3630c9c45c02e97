from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class FieldChange(BaseModel):
    old: Any = Field(description="The value before (null when the record was created).")
    new: Any = Field(description="The value after (null when the record was deleted).")


class HistoryEntryOut(BaseModel):
    id: int = Field(description="Position in the global changes feed.")
    type: str = Field(examples=["policy"])
    record_id: int
    slug: str
    action: str = Field(examples=["update"], description="create, update or delete.")
    changed_by: str = Field(
        examples=["key:alice"],
        description="Who made it: `key:<API key name>`, `cli`, `seed` or `import`.",
    )
    changed_at: datetime
    fields: dict[str, FieldChange] = Field(description="Every changed field, links included.")


class HistoryPage(BaseModel):
    items: list[HistoryEntryOut]
    next: str | None


class ChangesPage(BaseModel):
    items: list[HistoryEntryOut]
    next: str | None = Field(
        description="URL of the changes waiting after these; null when you have caught up."
    )
    cursor: str = Field(
        description="Where this answer ends: pass it as `since` to poll for later changes."
    )


class RecordAsOf(BaseModel):
    """A record as it was at a past moment, from its history."""

    as_of: datetime
    changed_at: datetime = Field(description="When that state was written.")
    changed_by: str
    history_id: int
    record: dict[str, Any] = Field(description="The record's writable fields at that moment.")

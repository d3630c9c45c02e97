"""Search documents end with their words without diacritics (pinyin without tone marks)

Revision ID: 5e1d0c7a9b21
Revises: 4ab630f8d83b
Create Date: 2026-12-02 13:30:00

A data migration: app/services/search.document_text now appends them; documents written
before are brought in line here. SQLite's FTS5 folds diacritics itself, PostgreSQL's
``simple`` text search configuration does not.
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1d0c7a9b21"
down_revision: str | None = "4ab630f8d83b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WORD = re.compile(r"\w+")
_documents = sa.table("search_documents", sa.column("id"), sa.column("title"), sa.column("body"))


def _folded(text: str) -> str:
    """As app.services.search.folded_words at this revision."""
    words = []
    for word in _WORD.findall(text):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
        )
        if plain != word and plain.isascii():
            words.append(plain)
    return " ".join(words)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_documents.c.id, _documents.c.title, _documents.c.body))
    updates = []
    for doc_id, title, body in rows:
        if folded := _folded(f"{title} {body}"):
            updates.append({"doc_id": doc_id, "new_body": f"{body} {folded}" if body else folded})
    if updates:
        connection.execute(
            _documents.update()
            .where(_documents.c.id == sa.bindparam("doc_id"))
            .values(body=sa.bindparam("new_body")),
            updates,
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_documents.c.id, _documents.c.title, _documents.c.body))
    updates = []
    for doc_id, title, body in rows:
        # The appended words have no diacritics, so folding the whole text again finds
        # exactly them.
        folded = _folded(f"{title} {body}")
        if folded and body == folded:
            updates.append({"doc_id": doc_id, "new_body": ""})
        elif folded and body.endswith(" " + folded):
            updates.append({"doc_id": doc_id, "new_body": body[: -len(folded) - 1]})
    if updates:
        connection.execute(
            _documents.update()
            .where(_documents.c.id == sa.bindparam("doc_id"))
            .values(body=sa.bindparam("new_body")),
            updates,
        )

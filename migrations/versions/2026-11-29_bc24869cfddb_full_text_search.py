"""full-text search

Revision ID: bc24869cfddb
Revises: a986541022bc
Create Date: 2026-11-29 03:23:41.461656
"""

import contextlib
import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "bc24869cfddb"
down_revision: str | None = "a986541022bc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
POSTGRES_TSVECTOR = [
    "ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('simple', title), 'A') || "
    "setweight(to_tsvector('simple', body), 'B')) STORED",
    "CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)",
]

# A frozen copy of how documents were built when this revision was written, so that rows
# already in the database become searchable; later writes rebuild documents with app code.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
_SOURCES = {
    "policy": ("policies", "title", ["short_name", "titles", "summary", "identifiers"]),
    "actor": ("actors", "name", ["names", "aliases", "description", "identifiers"]),
    "region": ("regions", "name", ["names", "aliases", "iso_code", "description"]),
    "goal": ("goals", "statement", ["metric", "unit"]),
    "source": ("sources", "title", ["publisher", "series", "authors"]),
}


def _text(*values: Any) -> str:
    words: list[str] = []
    for value in values:
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if isinstance(value, dict):
            words.extend(str(v) for v in value.values())
        elif isinstance(value, list):
            words.extend(str(v.get("value", "")) if isinstance(v, dict) else str(v) for v in value)
        elif value is not None:
            words.append(str(value))

    def pairs(match: re.Match[str]) -> str:
        run = match.group(0)
        return " " + " ".join(run[i : i + 2] for i in range(max(len(run) - 1, 1))) + " "

    return _CJK.sub(pairs, " ".join(w for w in words if w))


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint(
            "record_type", "record_id", name=op.f("uq_search_documents_record_type_record_id")
        ),
    )
    bind = op.get_bind()
    for statement in SQLITE_FTS if bind.dialect.name == "sqlite" else POSTGRES_TSVECTOR:
        op.execute(statement)
    documents = sa.table(
        "search_documents",
        sa.column("record_type"),
        sa.column("record_id"),
        sa.column("title"),
        sa.column("body"),
    )
    for record_type, (table, title, body) in _SOURCES.items():
        columns = ", ".join(["id", title, *body])
        rows = [
            {
                "record_type": record_type,
                "record_id": row[0],
                "title": _text(row[1]),
                "body": _text(*row[2:]),
            }
            for row in bind.execute(sa.text(f"SELECT {columns} FROM {table}"))
        ]
        if rows:
            bind.execute(sa.insert(documents), rows)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_documents")

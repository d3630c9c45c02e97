"""Alembic, driven from code: the CLI, `serve`, /readyz and the tests use these."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

PROJECT_ROOT = Path(__file__).resolve().parents[2]


# Objects the migrations create by hand, outside the models: the engine-specific full-text
# index (FTS5 tables on SQLite; a generated tsvector column and its GIN index on PostgreSQL)
# and a sort index whose NULLS ordering only PostgreSQL can spell.
HAND_MADE_TABLES = ("search_fts",)
HAND_MADE_COLUMNS = {("search_documents", "document")}
HAND_MADE_INDEXES = {"ix_search_documents_document", "ix_policies_kind_announced"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Tell autogenerate to leave the hand-made full-text objects alone."""
    if type_ == "table" and name and name.startswith(HAND_MADE_TABLES):
        return False
    table = getattr(obj, "table", None)
    if type_ == "column" and table is not None and (table.name, name) in HAND_MADE_COLUMNS:
        return False
    return not (type_ == "index" and name in HAND_MADE_INDEXES)


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine.url.render_as_string(False))

"""Migrations are the schema: upgrade gives exactly the models, downgrade undoes it all."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.models import Base
from app.services import migrations
from app.services.migrations import include_object
from tests.conftest import Database


def test_single_head_with_dated_file_names() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert revision.path is not None
        name = revision.path.rsplit("/", 1)[-1]
        assert name[:10].count("-") == 2 and name[:4].isdigit(), name


def test_upgrade_matches_models_and_downgrade_empties(empty_database: Database) -> None:
    migrations.upgrade(empty_database.url)
    engine = empty_database.engine()
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            assert compare_metadata(context, Base.metadata) == []
        assert migrations.is_at_head(engine)
        migrations.downgrade(empty_database.url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(empty_database.url)
        assert migrations.is_at_head(engine)
    finally:
        engine.dispose()

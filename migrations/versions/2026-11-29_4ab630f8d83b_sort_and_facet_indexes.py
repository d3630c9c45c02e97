"""Sort, facet and timeline indexes

Revision ID: 4ab630f8d83b
Revises: 3673a65e0835
Create Date: 2026-11-29 05:36:58.944528
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4ab630f8d83b"
down_revision: str | None = "3673a65e0835"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Lists sort NULLs last in both directions. SQLite's DESC order already puts them last but
# it cannot spell NULLS LAST in an index; PostgreSQL must be told. Hence a hand-made index
# (listed in app/services/migrations.HAND_MADE_INDEXES so autogenerate leaves it alone).
KIND_ANNOUNCED = {
    "sqlite": "CREATE INDEX ix_policies_kind_announced "
    "ON policies (kind, announced_earliest DESC, title, id)",
    "postgresql": "CREATE INDEX ix_policies_kind_announced "
    "ON policies (kind, announced_earliest DESC NULLS LAST, title, id)",
}


def upgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.create_index("ix_policies_status", ["status"], unique=False)
        batch_op.create_index(
            "ix_policies_in_force_from", ["in_force_from_earliest", "id"], unique=False
        )
        batch_op.create_index(
            "ix_policies_in_force_to", ["in_force_to_earliest", "id"], unique=False
        )
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_deadline_earliest")
        batch_op.create_index("ix_goals_deadline", ["deadline_earliest", "id"], unique=False)
    op.execute(KIND_ANNOUNCED[op.get_bind().dialect.name])


def downgrade() -> None:
    op.execute("DROP INDEX ix_policies_kind_announced")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_deadline")
        batch_op.create_index("ix_goals_deadline_earliest", ["deadline_earliest"], unique=False)
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_index("ix_policies_in_force_to")
        batch_op.drop_index("ix_policies_in_force_from")
        batch_op.drop_index("ix_policies_status")

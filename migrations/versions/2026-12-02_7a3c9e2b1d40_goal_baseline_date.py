"""Goals say when their baseline was measured: baseline_date (a partial date)

Revision ID: 7a3c9e2b1d40
Revises: 5c1d2e3f4a6b
Create Date: 2026-12-02 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a3c9e2b1d40"
down_revision: str | None = "5c1d2e3f4a6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("goals", sa.Column("baseline_date_earliest", sa.Date(), nullable=True))
    op.add_column("goals", sa.Column("baseline_date_latest", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("goals") as batch:
        batch.drop_column("baseline_date_latest")
        batch.drop_column("baseline_date_earliest")

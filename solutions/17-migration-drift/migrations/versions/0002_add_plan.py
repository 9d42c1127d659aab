"""Every subscriber is on a plan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-04-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The table has rows in production: they get the default, like every new row.
    op.add_column("subscribers",
                  sa.Column("plan", sa.Text, nullable=False, server_default="free"))


def downgrade() -> None:
    op.drop_column("subscribers", "plan")

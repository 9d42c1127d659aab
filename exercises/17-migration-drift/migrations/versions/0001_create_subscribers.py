"""Create the subscribers table.

Revision ID: 0001
Revises:
Create Date: 2026-01-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.UniqueConstraint("email", name="subscribers_email_key"),
    )


def downgrade() -> None:
    op.drop_table("subscribers")

"""An address is unique whatever its case (the index models.py has had all along).

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-18
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("subscribers_email_key", "subscribers", type_="unique")
    op.create_index("subscribers_email_lower_key", "subscribers", [sa.text("lower(email)")],
                    unique=True)


def downgrade() -> None:
    op.drop_index("subscribers_email_lower_key", table_name="subscribers")
    op.create_unique_constraint("subscribers_email_key", "subscribers", ["email"])

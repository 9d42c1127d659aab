"""The `charges` table: one row per card charge the billing service made."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

charges = sa.Table(
    "charges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("payment_id", sa.Text, nullable=False, unique=True),  # one charge per payment
    sa.Column("order_id", sa.Integer, nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
)

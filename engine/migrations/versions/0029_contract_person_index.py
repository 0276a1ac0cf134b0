"""Contracts of the same person are found by their birth date first: an index on it

Revision ID: 0029_contract_person_index
Revises: 0028_state_change_rows

One Service Civique per person, ever: checking a volunteer's file and drawing
up a contract look for every contract of the same name and birth date. The
names are compared lower-cased, which no plain index serves, so the search read
the whole register, which grows by every contract of every campaign. The birth
date narrows it to a handful of rows.
"""
from alembic import op

revision = "0029_contract_person_index"
down_revision = "0028_state_change_rows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_volunteer_contract_birth_date", "volunteer_contract", ["birth_date"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_volunteer_contract_birth_date", table_name="volunteer_contract")

"""Logins and email addresses are found through indexes on their lower-cased form

Revision ID: 0030_person_lookup_indexes
Revises: 0029_contract_person_index

Signing in matches the login whatever its case, and each notification finds
its recipient's account by the lower-cased address, in its own INSERT: both
read the whole person table, a national directory's tens of thousands of
people, at every sign-in and every message. An index on each expression, as
it is compared, serves them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0030_person_lookup_indexes"
down_revision = "0029_contract_person_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_person_login_lower", "person", [sa.text("lower(login)")])
    op.create_index("ix_person_email_lower", "person", [sa.text("lower(email)")])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_person_email_lower", table_name="person")
    op.drop_index("ix_person_login_lower", table_name="person")

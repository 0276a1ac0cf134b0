"""Contract rules: the campaign's agrément number

Revision ID: 0019_contract_rules
Revises: 0018_web_sessions

Every contract states the organisme's Service Civique agrément number; the
process owner sets it on the campaign, and no contract is generated without it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_contract_rules"
down_revision = "0018_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("agreement_number", sa.String(40), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("agreement_number")

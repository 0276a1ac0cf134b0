"""Training sessions: their length in days

Revision ID: 0021_training_days
Revises: 0020_ogec

The civic and citizen training lasts at least two days, half of them in the first three months of the mission:
each session records its length so that the follow-up of trainings can tell. Sessions planned before count one
day each.
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_training_days"
down_revision = "0020_ogec"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("training_session") as batch:
        batch.add_column(sa.Column("duration_days", sa.Float(), nullable=False, server_default="1"))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("training_session") as batch:
        batch.drop_column("duration_days")

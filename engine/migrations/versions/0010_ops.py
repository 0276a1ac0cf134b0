"""Heartbeats of background workers, read by the health check

Revision ID: 0010_ops
Revises: 0003_api
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_ops"
down_revision = "0003_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "worker_heartbeat",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("worker_heartbeat")

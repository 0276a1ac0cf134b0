"""Indexes for the monitoring lists at national scale

Revision ID: 0011_perf
Revises: 0003_api

The instance list is ordered by last update: without an index on it, SQLite
and PostgreSQL read and sort every instance row to show twenty (on SQLite each
row is wide, its engine state sitting before the update date). Trainings are
found by their organising structure. No index on the department alone: with
one, SQLite answers a territory's list by fetching every matching row before
sorting them, slower than walking the update index.
"""
from alembic import op

revision = "0011_perf"
down_revision = "0003_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_instance_updated", "process_instance", ["updated_at", "id"])
    op.create_index("ix_instance_structure", "process_instance", ["structure_code"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_instance_structure", table_name="process_instance")
    op.drop_index("ix_instance_updated", table_name="process_instance")

"""Indexes for the monitoring lists at national scale

Revision ID: 0011_perf
Revises: 0003_api

The instance list is ordered by last update and filtered by territory
(departments, or the structure organising a training); without these indexes
both SQLite and PostgreSQL read and sort every instance row to show twenty.
"""
from alembic import op


revision = "0011_perf"
down_revision = "0003_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_instance_updated", "process_instance", ["updated_at", "id"])
    op.create_index("ix_instance_department", "process_instance", ["department", "updated_at"])
    op.create_index("ix_instance_structure", "process_instance", ["structure_code"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_instance_structure", table_name="process_instance")
    op.drop_index("ix_instance_department", table_name="process_instance")
    op.drop_index("ix_instance_updated", table_name="process_instance")

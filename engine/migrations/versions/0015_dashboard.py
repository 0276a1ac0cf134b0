"""Indexes for the monitoring dashboard at national scale

Revision ID: 0015_dashboard
Revises: 0014_instance_state

The dashboard lists a process's instances most recently changed first: with
the process leading the update index, both databases walk it and stop after a
page, statistics or not (without them they fetched and sorted every instance
of the process). It counts the instances started in the last weeks, as it
already did those ended (`ix_instance_ended`). And it reads the waiting tasks
of the instances of a page: an index on the instance and the task state answers
that in one seek, where SQLite, without statistics, scanned every waiting task
of the country through the state index. It also serves every look-up by
instance alone, so the former index on the instance id goes (one index less to
write at each task).
"""
from alembic import op

revision = "0015_dashboard"
down_revision = "0014_instance_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_instance_process_updated", "process_instance", ["process_id", "updated_at", "id"])
    op.create_index("ix_instance_created", "process_instance", ["process_id", "created_at"])
    op.create_index("ix_task_instance_state", "task", ["instance_id", "state"])
    op.drop_index("ix_task_instance_id", table_name="task")


def downgrade() -> None:
    """Revert this migration."""
    op.create_index("ix_task_instance_id", "task", ["instance_id"])
    op.drop_index("ix_task_instance_state", table_name="task")
    op.drop_index("ix_instance_created", table_name="process_instance")
    op.drop_index("ix_instance_process_updated", table_name="process_instance")

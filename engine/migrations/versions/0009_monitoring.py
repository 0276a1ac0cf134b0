"""Monitoring and steering of instances: end dates, incident nodes, task assignees, aggregate indexes

Revision ID: 0009_monitoring
Revises: 0003_api

The dashboard counts instances by process, version and status, and groups the
waiting tasks by step: these indexes let both databases answer from the index
instead of reading every row. `ended_at` dates the weekly throughput,
`incident_node` places an incident on the diagram, `assignee_id` keeps a task
reassigned to one eligible person.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_monitoring"
down_revision = "0003_api"
branch_labels = None
depends_on = None

FINISHED = "('completed', 'refused', 'terminated')"


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("incident_node", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_instance_monitoring", ["process_id", "deployment_id", "status"], unique=False)
        batch_op.create_index("ix_instance_ended", ["process_id", "ended_at"], unique=False)
    # Instances that ended before this migration: their last update is when they ended.
    op.execute(f"UPDATE process_instance SET ended_at = updated_at WHERE status IN {FINISHED}")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_task_assignee_id_person", "person", ["assignee_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_index("ix_task_assignee_id", ["assignee_id"], unique=False)
        batch_op.create_index("ix_task_waiting_step", ["state", "spec_id", "created_at"], unique=False)
        batch_op.create_index("ix_task_overdue", ["state", "due_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_overdue")
        batch_op.drop_index("ix_task_waiting_step")
        batch_op.drop_index("ix_task_assignee_id")
        batch_op.drop_constraint("fk_task_assignee_id_person", type_="foreignkey")
        batch_op.drop_column("assignee_id")
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_ended")
        batch_op.drop_index("ix_instance_monitoring")
        batch_op.drop_column("incident_node")
        batch_op.drop_column("ended_at")

"""The engine state of each instance in a table of its own

Revision ID: 0014_instance_state
Revises: 0013_merge

An instance's serialised state weighs tens of kilobytes. Kept in the instance
row, it made every scan of instances (inboxes, lists, counts by territory) read
it too: on SQLite, reaching the columns stored after it means walking its
overflow pages. Instance rows are now small; the state is read by primary key
only when an instance is run.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_instance_state"
down_revision = "0013_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Move `process_instance.state` into `instance_state`."""
    op.create_table(
        "instance_state",
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO instance_state (instance_id, state) "
               "SELECT id, state FROM process_instance WHERE state IS NOT NULL")
    # Both SQLite (3.35 and later) and PostgreSQL drop a plain column in place, without copying the table
    # (a copy would also drop and re-create the table that tasks and history rows point to).
    op.execute("ALTER TABLE process_instance DROP COLUMN state")


def downgrade() -> None:
    """Put the state back into the instance rows."""
    op.add_column("process_instance", sa.Column("state", sa.Text))
    op.execute("UPDATE process_instance SET state = (SELECT state FROM instance_state "
               "WHERE instance_state.instance_id = process_instance.id)")
    op.drop_table("instance_state")

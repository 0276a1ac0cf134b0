"""The inbox is read in pages, in the order of its keyset: due date (none last), creation, id

Revision ID: 0023_inbox_keyset
Revises: 0022_latest_pupil_count

The two inbox indexes (ready tasks of a lane by establishment, by structure)
gain the columns of the inbox's order, so that the page after a cursor is read
from the index in order instead of sorting every ready task of the scope. They
replace the shorter ones, whose look-ups they still serve as a prefix.
"""
from alembic import op

revision = "0023_inbox_keyset"
down_revision = "0022_latest_pupil_count"
branch_labels = None
depends_on = None

KEYSET = ["due_at", "created_at", "id"]


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_task_inbox_establishment_keyset", "task", ["state", "lane", "establishment_id", *KEYSET])
    op.create_index("ix_task_inbox_structure_keyset", "task", ["state", "lane", "structure_code", *KEYSET])
    op.drop_index("ix_task_inbox_establishment", table_name="task")
    op.drop_index("ix_task_inbox_structure", table_name="task")


def downgrade() -> None:
    """Revert this migration: the inbox indexes without the order's columns."""
    op.create_index("ix_task_inbox_establishment", "task", ["state", "lane", "establishment_id"])
    op.create_index("ix_task_inbox_structure", "task", ["state", "lane", "structure_code"])
    op.drop_index("ix_task_inbox_establishment_keyset", table_name="task")
    op.drop_index("ix_task_inbox_structure_keyset", table_name="task")

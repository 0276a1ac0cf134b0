"""Drafts of task forms, per task and person

Revision ID: 0017_task_drafts
Revises: 0016_sqlite_widths

A person who leaves a form (« Revenir plus tard », « Enregistrer le brouillon »,
or a refused submission) finds what they typed when they come back. The task
row records when a draft was last saved, so that completing a task that never
had one costs no extra statement.
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_task_drafts"
down_revision = "0016_sqlite_widths"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "task_draft",
        sa.Column("task_id", sa.String(36), sa.ForeignKey("task.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("draft_saved_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("task_draft")
    with op.batch_alter_table("task") as batch:
        batch.drop_column("draft_saved_at")

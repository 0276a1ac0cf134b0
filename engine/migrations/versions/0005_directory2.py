"""Pupil counts by school year, so that a campaign reads the count of its own year

Revision ID: 0005_directory2
Revises: 0003_api
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_directory2"
down_revision = "0003_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "establishment_pupil_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(length=9), nullable=False),
        sa.Column("pupil_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("establishment_id", "school_year"),
    )
    with op.batch_alter_table("establishment_pupil_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_establishment_pupil_count_establishment_id"), ["establishment_id"],
                              unique=False)
    # The counts already known become the first entries of each establishment's history.
    op.execute(
        "INSERT INTO establishment_pupil_count (establishment_id, school_year, pupil_count) "
        "SELECT id, pupil_count_year, pupil_count FROM establishment "
        "WHERE pupil_count IS NOT NULL AND pupil_count_year IS NOT NULL"
    )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("establishment_pupil_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_establishment_pupil_count_establishment_id"))
    op.drop_table("establishment_pupil_count")

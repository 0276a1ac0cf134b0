"""A campaign may leave the pupil count's year open: the latest count known is used

Revision ID: 0022_latest_pupil_count
Revises: 0021_training_days

Projects are submitted in the spring, when the count of the mission's school
year does not exist yet: by default a campaign now retains each school's latest
known count (its year shown), and names a year only when it requires one.
Existing campaigns keep the year they named.
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_latest_pupil_count"
down_revision = "0021_training_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("campaign") as batch:
        batch.alter_column("pupil_count_year", existing_type=sa.String(9), nullable=True)


def downgrade() -> None:
    """Revert this migration: a campaign without a year retains its own school year."""
    op.execute("UPDATE campaign SET pupil_count_year = school_year WHERE pupil_count_year IS NULL")
    with op.batch_alter_table("campaign") as batch:
        batch.alter_column("pupil_count_year", existing_type=sa.String(9), nullable=False)

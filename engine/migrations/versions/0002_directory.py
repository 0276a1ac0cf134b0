"""Directory import, first logins and syncs, campaigns and late reopenings

Revision ID: 0002_directory
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_directory"
down_revision = "0001"
branch_labels = None
depends_on = None

# Identifiers are stored as the directory gives them, even invalid, so they need room.
WIDENED = [
    ("establishment", "postal_code", 5, 10),
    ("establishment", "siret", 14, 40),
    ("establishment", "phone", 20, 40),
    ("person", "phone", 20, 40),
]


def upgrade() -> None:
    """Apply this migration."""
    # SQLite does not enforce VARCHAR lengths; copying its tables to change them is not worth the risk.
    if op.get_bind().dialect.name != "sqlite":
        for table, column, old, new in WIDENED:
            op.alter_column(table, column, type_=sa.String(length=new), existing_type=sa.String(length=old))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_login_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=10), nullable=False, server_default="isidoor"))
        batch_op.add_column(sa.Column("synced_at", sa.DateTime(), nullable=True))
    # People who already logged in count as logged in once; the roles the platform holds count as synced
    # now, after those logins, so that nobody already chosen as tuteur disappears from the choices.
    op.execute("UPDATE person SET first_login_at = last_login_at WHERE last_login_at IS NOT NULL")
    op.execute("UPDATE role_assignment SET synced_at = CURRENT_TIMESTAMP")
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(length=9), nullable=False),
        sa.Column("pupil_count_year", sa.String(length=9), nullable=False),
        sa.Column("submission_deadline", sa.Date(), nullable=False),
        sa.Column("earliest_start", sa.Date(), nullable=False),
        sa.Column("latest_start", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["opened_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_year"),
    )
    op.create_table(
        "campaign_reopening",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "establishment_id"),
    )
    with op.batch_alter_table("campaign_reopening", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_reopening_campaign_id"), ["campaign_id"], unique=False)
    op.create_table(
        "directory_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("file_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("directory_import")
    with op.batch_alter_table("campaign_reopening", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_reopening_campaign_id"))
    op.drop_table("campaign_reopening")
    op.drop_table("campaign")
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.drop_column("synced_at")
        batch_op.drop_column("source")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("first_login_at")
    if op.get_bind().dialect.name != "sqlite":
        for table, column, old, new in WIDENED:
            op.alter_column(table, column, type_=sa.String(length=old), existing_type=sa.String(length=new))

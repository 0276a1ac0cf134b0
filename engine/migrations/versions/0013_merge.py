"""Join the schema branches of the directory, analyst, volunteer, follow-up, monitoring, operations,
performance and single sign-on changes into one head.

Revision ID: 0013_merge
"""
revision = "0013_merge"
down_revision = ("0005_directory2", "0006_analyst", "0007_volunteer", "0008_follow_up", "0009_monitoring",
                 "0010_ops", "0011_perf", "0012_oidc")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to change: the branches touch different tables."""

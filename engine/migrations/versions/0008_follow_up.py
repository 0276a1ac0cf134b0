"""Timers, missions under follow-up, training sessions; notifications read in the app and retried

Revision ID: 0008_follow_up
Revises: 0003_api
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_follow_up"
down_revision = "0003_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("spec_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "task_id"),
    )
    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.create_index("ix_timer_due", ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_timer_instance_id"), ["instance_id"], unique=False)
    op.create_table(
        "volunteer_mission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=False),
        sa.Column("structure_code", sa.String(length=40), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("termination_initiator", sa.String(length=12), nullable=True),
        sa.Column("termination_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "place"),
    )
    with op.batch_alter_table("volunteer_mission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volunteer_mission_establishment_id"), ["establishment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteer_mission_instance_id"), ["instance_id"], unique=False)
    op.create_table(
        "training_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("structure_code", sa.String(length=40), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_session_structure_code"), ["structure_code"], unique=False)
    op.create_table(
        "training_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("mission_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("attendance_recorded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["mission_id"], ["volunteer_mission.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registered_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["session_id"], ["training_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "mission_id"),
        sa.UniqueConstraint("session_id", "person_id"),
    )
    with op.batch_alter_table("training_registration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_registration_mission_id"), ["mission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_registration_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_registration_session_id"), ["session_id"], unique=False)
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notified_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_task_to_notify", ["state", "notified_at"], unique=False)
    # Tasks that existed before are not announced again.
    op.execute("UPDATE task SET notified_at = created_at")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("link", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("read_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key("fk_notification_person_id_person", "person", ["person_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_notification_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_notification_pending", ["sent_at", "next_attempt_at"], unique=False)
    # Messages still queued keep their place in the queue; failed ones are tried again once.
    op.execute("UPDATE notification SET next_attempt_at = created_at WHERE sent_at IS NULL")
    op.execute("UPDATE notification SET person_id = (SELECT person.id FROM person "
               "WHERE lower(person.email) = lower(notification.recipient) ORDER BY person.id LIMIT 1)")


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_pending")
        batch_op.drop_index(batch_op.f("ix_notification_person_id"))
        batch_op.drop_constraint("fk_notification_person_id_person", type_="foreignkey")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("read_at")
        batch_op.drop_column("link")
        batch_op.drop_column("person_id")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_to_notify")
        batch_op.drop_column("notified_at")
    with op.batch_alter_table("training_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_registration_session_id"))
        batch_op.drop_index(batch_op.f("ix_training_registration_person_id"))
        batch_op.drop_index(batch_op.f("ix_training_registration_mission_id"))
    op.drop_table("training_registration")
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_session_structure_code"))
    op.drop_table("training_session")
    with op.batch_alter_table("volunteer_mission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_mission_instance_id"))
        batch_op.drop_index(batch_op.f("ix_volunteer_mission_establishment_id"))
    op.drop_table("volunteer_mission")
    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timer_instance_id"))
        batch_op.drop_index("ix_timer_due")
    op.drop_table("timer")

"""Each save's changes to an engine state are a row of their own, appended, instead of text added to a column

Revision ID: 0028_state_change_rows
Revises: 0027_list_orders

A save by differences appended its line to `instance_state.delta`: the
database then wrote the whole log again at each save (PostgreSQL compresses
and stores it anew; SQLite rewrites the row, the full state with it). A save
now inserts one row in `instance_state_change`, keyed by the instance's
version it gave. Writing the full state again deletes the instance's change
rows in the database itself (trigger `instance_state_folded`), whatever code
writes it, so that a full state is never read with lines older than it.
Existing logs become one row each, at their instance's current version.
"""
import sqlalchemy as sa
from alembic import op

revision = "0028_state_change_rows"
down_revision = "0027_list_orders"
branch_labels = None
depends_on = None

# The trigger, by dialect: SQLite runs a statement list, PostgreSQL a function.
SQLITE_TRIGGER = """
CREATE TRIGGER instance_state_folded AFTER UPDATE OF state ON instance_state FOR EACH ROW
BEGIN
    DELETE FROM instance_state_change WHERE instance_id = NEW.instance_id;
END
"""
POSTGRESQL_FUNCTION = """
CREATE FUNCTION instance_state_folded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM instance_state_change WHERE instance_id = NEW.instance_id;
    RETURN NULL;
END
$$
"""
POSTGRESQL_TRIGGER = """
CREATE TRIGGER instance_state_folded AFTER UPDATE OF state ON instance_state FOR EACH ROW
EXECUTE FUNCTION instance_state_folded()
"""


def upgrade() -> None:
    """Move every delta log into change rows, drop the column, and let full writes fold the log."""
    op.create_table(
        "instance_state_change",
        sa.Column("instance_id", sa.Integer,
                  sa.ForeignKey("instance_state.instance_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("line", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO instance_state_change (instance_id, version, line) "
               "SELECT instance_state.instance_id, process_instance.version, instance_state.delta "
               "FROM instance_state JOIN process_instance ON process_instance.id = instance_state.instance_id "
               "WHERE instance_state.delta <> ''")
    # Both databases drop a plain column in place (SQLite since 3.35): no copy of the table, whose rows the
    # change rows reference.
    op.execute("ALTER TABLE instance_state DROP COLUMN delta")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    """Revert this migration: each instance's change rows, in order, become its delta log again."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER instance_state_folded ON instance_state" if postgresql
               else "DROP TRIGGER instance_state_folded")
    if postgresql:
        op.execute("DROP FUNCTION instance_state_folded()")
    op.execute("ALTER TABLE instance_state ADD COLUMN delta TEXT NOT NULL DEFAULT ''")
    connection = op.get_bind()
    changes = sa.table("instance_state_change", sa.column("instance_id", sa.Integer),
                       sa.column("version", sa.Integer), sa.column("line", sa.Text))
    states = sa.table("instance_state", sa.column("instance_id", sa.Integer), sa.column("delta", sa.Text))
    logs: dict[int, list[str]] = {}
    for instance_id, line in connection.execute(sa.select(changes.c.instance_id, changes.c.line)
                                                .order_by(changes.c.instance_id, changes.c.version)):
        logs.setdefault(instance_id, []).append(line)
    for instance_id, lines in logs.items():
        connection.execute(states.update().where(states.c.instance_id == instance_id).values(delta="".join(lines)))
    op.drop_table("instance_state_change")

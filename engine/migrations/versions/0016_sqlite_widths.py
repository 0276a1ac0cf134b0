"""Identifier and phone columns as wide on SQLite as on PostgreSQL

Revision ID: 0016_sqlite_widths
Revises: 0015_dashboard

0002_directory widened these columns on PostgreSQL only: SQLite does not
enforce VARCHAR lengths, so copying its tables seemed not worth the risk. But a
SQLite database then declared other types than the models, and the check that
models and migrations agree (tests/test_migrations.py) cannot tell a harmless
difference from a forgotten one. The copy is made here, in batch mode, with
foreign key enforcement off: with it on, dropping the original `person` table
would delete, or refuse to delete, every row pointing to it. PostgreSQL has
nothing to do.
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_sqlite_widths"
down_revision = "0015_dashboard"
branch_labels = None
depends_on = None

# The widths 0002_directory gave on PostgreSQL: (table, column, before, after).
WIDENED = [
    ("establishment", "postal_code", 5, 10),
    ("establishment", "siret", 14, 40),
    ("establishment", "phone", 20, 40),
    ("person", "phone", 20, 40),
]


def upgrade() -> None:
    """Widen the columns on SQLite, as 0002_directory did on PostgreSQL."""
    _resize(widen=True)


def downgrade() -> None:
    """Give SQLite its former widths back; PostgreSQL keeps those of 0002_directory."""
    _resize(widen=False)


def _resize(widen: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("Migration 0016_sqlite_widths : la vérification des clés étrangères de SQLite est "
                           "active sur cette connexion ; la copie des tables « person » et « establishment » "
                           "effacerait les lignes qui les désignent. Lancez la migration par "
                           "engine.db.upgrade_database, qui ouvre sa propre connexion.")
    for table in ("establishment", "person"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, before, after in WIDENED:
                if name == table:
                    old, new = (before, after) if widen else (after, before)
                    batch_op.alter_column(column, type_=sa.String(length=new), existing_type=sa.String(length=old))

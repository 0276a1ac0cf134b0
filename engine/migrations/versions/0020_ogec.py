"""The OGEC as its own record; structures dedicated to Service Civique

Revision ID: 0020_ogec
Revises: 0019_contract_rules

An OGEC (exact name, exact address, SIRET, phone) manages one or several
schools: its fields leave the establishment for an `ogec` table the schools
point to. Existing files are moved: one OGEC per distinct SIRET (the first
school carrying it gives the other fields), else one per school; a school
whose OGEC fields were all empty gets none. The school keeps its postal code
and city, copied to its OGEC's address.

`structure.handles_service_civique` says which unions are dedicated to
Service Civique: the Fnogec is, and no Udogec or Urogec until the directory
says so.
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_ogec"
down_revision = "0019_contract_rules"
branch_labels = None
depends_on = None

OGEC_FIELDS = ("ogec_name", "address", "siret", "phone")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "ogec",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("siret", sa.String(40), nullable=True, unique=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("city", sa.String(120), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
    )
    with op.batch_alter_table("establishment") as batch:
        batch.add_column(sa.Column("ogec_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_establishment_ogec_id_ogec"), "ogec", ["ogec_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index(batch.f("ix_establishment_ogec_id"), ["ogec_id"], unique=False)
    _move_files()
    with op.batch_alter_table("establishment") as batch:
        for column in OGEC_FIELDS:
            batch.drop_column(column)
    with op.batch_alter_table("structure") as batch:
        batch.add_column(sa.Column("handles_service_civique", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    structure = sa.table("structure", sa.column("kind", sa.String()),
                         sa.column("handles_service_civique", sa.Boolean()))
    op.execute(structure.update().where(structure.c.kind == "fnogec").values(handles_service_civique=True))


def _move_files() -> None:
    connection = op.get_bind()
    establishment = sa.table("establishment", sa.column("id", sa.Integer()), sa.column("ogec_id", sa.Integer()),
                             sa.column("postal_code", sa.String()), sa.column("city", sa.String()),
                             *(sa.column(name, sa.String()) for name in OGEC_FIELDS))
    ogec = sa.table("ogec", sa.column("id", sa.Integer()), sa.column("siret", sa.String()),
                    sa.column("name", sa.String()), sa.column("address", sa.String()),
                    sa.column("postal_code", sa.String()), sa.column("city", sa.String()),
                    sa.column("phone", sa.String()))
    by_siret: dict[str, int] = {}
    rows = connection.execute(sa.select(establishment).order_by(establishment.c.id)).mappings().all()
    for row in rows:
        if not any((row[name] or "").strip() for name in OGEC_FIELDS):
            continue
        siret = (row["siret"] or "").strip() or None
        ogec_id = by_siret.get(siret) if siret else None
        if ogec_id is None:
            ogec_id = connection.execute(ogec.insert().values(
                siret=siret, name=row["ogec_name"], address=row["address"], postal_code=row["postal_code"],
                city=row["city"], phone=row["phone"]).returning(ogec.c.id)).scalar_one()
            if siret:
                by_siret[siret] = ogec_id
        connection.execute(establishment.update().where(establishment.c.id == row["id"]).values(ogec_id=ogec_id))


def downgrade() -> None:
    """Revert this migration: each school takes back its OGEC's fields."""
    with op.batch_alter_table("structure") as batch:
        batch.drop_column("handles_service_civique")
    with op.batch_alter_table("establishment") as batch:
        batch.add_column(sa.Column("ogec_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("address", sa.String(300), nullable=True))
        batch.add_column(sa.Column("siret", sa.String(40), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(40), nullable=True))
    connection = op.get_bind()
    establishment = sa.table("establishment", sa.column("id", sa.Integer()), sa.column("ogec_id", sa.Integer()),
                             *(sa.column(name, sa.String()) for name in OGEC_FIELDS))
    ogec = sa.table("ogec", sa.column("id", sa.Integer()), sa.column("siret", sa.String()),
                    sa.column("name", sa.String()), sa.column("address", sa.String()),
                    sa.column("phone", sa.String()))
    for row in connection.execute(sa.select(ogec)).mappings().all():
        connection.execute(establishment.update().where(establishment.c.ogec_id == row["id"]).values(
            ogec_name=row["name"], address=row["address"], siret=row["siret"], phone=row["phone"]))
    with op.batch_alter_table("establishment") as batch:
        batch.drop_index(batch.f("ix_establishment_ogec_id"))
        batch.drop_constraint(batch.f("fk_establishment_ogec_id_ogec"), type_="foreignkey")
        batch.drop_column("ogec_id")
    op.drop_table("ogec")

"""The Isidoor directory as the platform keeps it: structures, OGECs, establishments, people, roles."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, false, func, or_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

ROLES = ("referent", "tuteur", "cotuteur", "gestionnaire", "process_owner")
ROLE_LABELS = {
    "referent": "Référent",
    "tuteur": "Tuteur",
    "cotuteur": "Cotuteur",
    "gestionnaire": "Gestionnaire",
    "process_owner": "Responsable de processus",
}
STRUCTURE_KINDS = {"fnogec": "Fnogec", "urogec": "Urogec", "udogec": "Udogec"}


class Structure(Base):
    """A federation body: Fnogec (national), an Urogec (region) or an Udogec (department)."""

    __tablename__ = "structure"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    # Department codes covered; empty for Fnogec, which covers the whole country.
    departments: Mapped[list] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    # Not every Udogec or Urogec is dedicated to Service Civique: projects of a territory without a dedicated one
    # go up to the next level, and to the Fnogec at last.
    handles_service_civique: Mapped[bool] = mapped_column(default=False, server_default=false())

    def covers(self, department: str | None) -> bool:
        """Tell whether this structure's territory includes `department`."""
        return territory_covers(self.kind, self.departments, department)


def territory_covers(kind: str, departments: list[str] | None, department: str | None) -> bool:
    """Whether the territory of a structure of `kind` and `departments` includes `department`: the Fnogec's is the
    whole country."""
    return kind == "fnogec" or (department is not None and department in (departments or ()))


# The structures that manage Service Civique: the unions dedicated to it, and the Fnogec wherever none is,
# whatever its flag says.
DEDICATED_TO_SERVICE_CIVIQUE = or_(Structure.handles_service_civique.is_(True), Structure.kind == "fnogec")


class Ogec(Base):
    """The association managing one or several schools: the legal party of their files and contracts."""

    __tablename__ = "ogec"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Identifiers are kept as the directory gives them, even when invalid, so that the file shows what to fix.
    # An OGEC is known by its SIRET; one imported without it belongs to the school it came with.
    siret: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))


def _ogec_field(name: str, doc: str) -> property:
    """A field of an establishment's OGEC, read and written through the establishment."""

    def read(establishment: Establishment) -> str | None:
        return getattr(establishment.ogec, name) if establishment.ogec is not None else None

    def write(establishment: Establishment, value: str | None) -> None:
        if establishment.ogec is None:
            establishment.ogec = Ogec()
        setattr(establishment.ogec, name, value)

    return property(read, write, doc=doc)


class Establishment(Base):
    """A school (UAI, pupil count), managed by its OGEC."""

    __tablename__ = "establishment"

    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    ogec_id: Mapped[int | None] = mapped_column(ForeignKey("ogec.id", ondelete="SET NULL"), index=True)
    # Where the school is; the OGEC's exact address, the legal one, is on the OGEC.
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(3), index=True)
    network: Mapped[str] = mapped_column(String(10))
    # The latest count the directory gave, and the school year it refers to; earlier years are in PupilCount.
    pupil_count: Mapped[int | None] = mapped_column(Integer)
    pupil_count_year: Mapped[str | None] = mapped_column(String(9))

    ogec: Mapped[Ogec | None] = relationship(lazy="joined")

    # The school's OGEC fields under the names they had when the school carried them (documents, scenario start
    # files): read from its OGEC, written to it, one made for the school if it has none.
    ogec_name = _ogec_field("name", "The exact name of the school's OGEC.")
    address = _ogec_field("address", "The exact address of the school's OGEC (street).")
    siret = _ogec_field("siret", "The SIRET of the school's OGEC.")
    phone = _ogec_field("phone", "The phone number of the school's OGEC.")


class PupilCount(Base):
    """An establishment's pupil count for one school year, kept when the directory moves on to the next."""

    __tablename__ = "establishment_pupil_count"
    __table_args__ = (UniqueConstraint("establishment_id", "school_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id", ondelete="CASCADE"), index=True)
    school_year: Mapped[str] = mapped_column(String(9))
    pupil_count: Mapped[int] = mapped_column(Integer)


class Person(Base):
    """Someone who logs in: school staff, union staff or a process owner."""

    __tablename__ = "person"
    # Logins and addresses are matched whatever their case (sign-in, a notification finding its recipient's
    # account): indexed as they are compared, lower-cased.
    __table_args__ = (Index("ix_person_login_lower", func.lower(text("login"))),
                      Index("ix_person_email_lower", func.lower(text("email"))))

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(200), unique=True)
    isidoor_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    gabriel_id: Mapped[str | None] = mapped_column(String(60))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # New role holders reach the tuteur choices only after a first login and a later directory sync.
    first_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def full_name(self) -> str:
        """First and last name, as shown to other users."""
        return f"{self.first_name} {self.last_name}"


class RoleAssignment(Base):
    """A role held by a person, scoped to an establishment or a structure."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("person_id", "role", "establishment_id", "structure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"), index=True)
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structure.id"), index=True)
    # The head of school is référent by right; others are named by them in Isidoor.
    head_of_school: Mapped[bool] = mapped_column(default=False)
    # "isidoor" for roles the directory import manages; "platform" for référents named on the platform,
    # which an import never withdraws. The server default is the one 0002_directory gave existing rows, which
    # deployed databases keep.
    source: Mapped[str] = mapped_column(String(10), default="isidoor", server_default="isidoor")
    # Last directory sync that carried this role after the person's first login (or created it).
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)

    person: Mapped[Person] = relationship(back_populates="roles")
    establishment: Mapped[Establishment | None] = relationship(lazy="joined")
    structure: Mapped[Structure | None] = relationship(lazy="joined")


class DirectoryImport(Base):
    """One import of an Isidoor directory file: when, by whom, what it changed and what it rejected."""

    __tablename__ = "directory_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime)
    # Counts by kind of record and outcome, e.g. {"establishment": {"created": 3, "rejected": 1}}.
    counts: Mapped[dict] = mapped_column(JSON)
    # Entries of the report other than "unchanged" (capped), each with its kind, key, outcome and reasons.
    entries: Mapped[list] = mapped_column(JSON)
    file_error: Mapped[str | None] = mapped_column(String(500))

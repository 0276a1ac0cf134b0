"""Importing an Isidoor directory file: idempotent, in bulk, one bad record never stops the rest.

Each section (structures, ogecs, establishments, people, roles) is read
record by record (engine.directory.records), compared with the rows already
stored, loaded once into dicts by natural key (structure code, SIRET, UAI,
Isidoor id, role key), and only what changed is written, in batches of `BATCH` rows with one
transaction per batch. Should the database still refuse a batch, its rows are
retried one at a time and only the faulty ones are rejected. Importing the
same file twice changes nothing the second time. Each establishment's pupil
count is also kept under its school year (PupilCount), and a person listed
in a file with a roles section keeps exactly the Isidoor roles it gives them.
An establishment names its OGEC by SIRET; one of a file of the earlier format,
carrying its OGEC's fields itself, creates or updates that OGEC (the one of
its SIRET, else its own).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from engine.directory.import_report import ImportReport
from engine.directory.records import (
    SECTIONS,
    Record,
    read_establishment,
    read_ogec,
    read_person,
    read_role,
    read_structure,
)
from engine.directory.web_sessions import end_inactive_people_sessions
from engine.models import DirectoryImport, Establishment, Ogec, Person, PupilCount, RoleAssignment, Structure
from engine.progress import Progress, ProgressCounter

BATCH = 1000


def _already_read(record: object) -> Record:
    assert isinstance(record, Record)
    return record


class _Importer:
    def __init__(self, session: Session, now: datetime, progress: Progress | None, total: int):
        self.session = session
        self.now = now
        self.report = ImportReport()
        self.counter = ProgressCounter(progress, total)

    def advance(self, count: int = 1) -> None:
        """Count records settled: rejected or unchanged when read, created or updated once committed."""
        self.counter.advance(count)

    def upsert(self, kind: str, table, key_column: str, raws: list, reader: Callable[[object], Record],
               new_row: Callable[[str], dict | str] | None = None, positions: list[int | None] | None = None,
               counted: bool = True) -> dict[str, Record]:
        """Create or update the records of one section; return the records read without rejection, by key.

        `positions` are the records' places in their section when they are not `raws`' order (None: a record
        the file gave in another section); `counted`: the records are those of the section, which the progress
        counts."""
        advance = self.advance if counted else (lambda count=1: None)
        # Keys compared as the readers fold them (codes and UAI in upper case, Isidoor ids in lower case), so
        # that a row stored with another case is updated, not duplicated.
        fold = str.lower if key_column == "isidoor_id" else str.upper
        existing = {fold(row[key_column]): row for row in self.session.execute(select(table)).mappings()
                    if row[key_column] is not None}
        seen: dict = {}
        accepted: dict[str, Record] = {}
        inserts, updates = [], []
        for index, raw in enumerate(raws):
            position = positions[index] if positions is not None else index + 1
            record = reader(raw)
            if record.errors:
                self.report.add(kind, record.key, position, "rejected", record.errors)
                advance()
                continue
            if record.key in seen:
                self.report.add(kind, record.key, position, "rejected",
                                [f"en double dans le fichier (déjà lu en position {seen[record.key]})"])
                advance()
                continue
            seen[record.key] = position
            # Readers reject a record without its key, which is text in every section but roles.
            key = record.key
            assert isinstance(key, str)
            accepted[key] = record
            old = existing.get(key)
            if old is None:
                row = new_row(key) if new_row else {}
                if isinstance(row, str):
                    self.report.add(kind, record.key, position, "rejected", [row])
                    advance()
                    continue
                entry = self.report.add(kind, record.key, position, "created", record.flags + record.notes,
                                        bool(record.flags))
                inserts.append((entry, {key_column: record.key, **record.values, **row}))
                continue
            changed = [column for column, value in record.values.items() if old[column] != value]
            if not changed:
                self.report.add(kind, record.key, position, "unchanged")
                advance()
                continue
            entry = self.report.add(kind, record.key, position, "updated",
                                    [f"modifié : {', '.join(changed)}"] + record.flags + record.notes,
                                    bool(record.flags))
            updates.append((entry, {"row_id": old["id"], **record.values}))
        self.write(table, inserts, updates, counted)
        return accepted

    def write(self, table, inserts: list, updates: list, counted: bool = True) -> None:
        """Insert and update rows in batches, one transaction per batch; `counted`: rows are records of the file."""
        for start in range(0, len(inserts), BATCH):
            self._batch(inserts[start:start + BATCH], lambda rows: self.session.execute(insert(table), rows), counted)
        if updates:
            columns = [c for c in updates[0][1] if c != "row_id"]
            statement = (update(table).where(table.c.id == bindparam("row_id"))
                         .values({column: bindparam(f"new_{column}") for column in columns}))
            prefixed = [(entry, {"row_id": row["row_id"], **{f"new_{c}": row[c] for c in columns}})
                        for entry, row in updates]
            for start in range(0, len(prefixed), BATCH):
                self._batch(prefixed[start:start + BATCH], lambda rows: self.session.execute(statement, rows),
                            counted)

    def _batch(self, batch: list, execute: Callable[[list], object], counted: bool) -> None:
        try:
            execute([row for _entry, row in batch])
            self.session.commit()
        except (IntegrityError, DataError):
            self.session.rollback()
            self._one_by_one(batch, execute)
        if counted:
            self.advance(len(batch))

    def _one_by_one(self, batch: list, execute: Callable[[list], object]) -> None:
        # One row at a time, so that only the rows the database refuses are rejected.
        for entry, row in batch:
            try:
                execute([row])
                self.session.commit()
            except (IntegrityError, DataError) as error:
                self.session.rollback()
                if entry is not None:
                    self.report.reject_after_write(entry, f"refusé par la base de données : {str(error.orig)[:200]}")

    def ogecs(self, raws: list, establishments: list[Record]) -> None:
        """Create or update the OGECs of the `ogecs` section, then those establishments of the earlier format bring
        with their SIRET (the first school of a SIRET gives its OGEC's fields; the section, when it has it, wins)."""
        self.upsert("ogec", Ogec.__table__, "siret", raws, read_ogec)
        listed = {record.key for record in map(read_ogec, raws)}
        records = []
        known = {(siret or "").upper() for siret in self.session.scalars(select(Ogec.siret))}
        # A school whose OGEC had no SIRET until now keeps that OGEC, which takes the SIRET.
        without_siret = dict(self.session.execute(
            select(Establishment.uai, Ogec.id).join(Ogec, Establishment.ogec_id == Ogec.id)
            .where(Ogec.siret.is_(None))).all())
        for establishment in establishments:
            legacy = establishment.legacy_ogec
            if establishment.errors or legacy is None or not legacy["siret"] or legacy["siret"] in listed:
                continue
            listed.add(legacy["siret"])
            if legacy["siret"].upper() not in known and establishment.key in without_siret:
                self.session.execute(update(Ogec.__table__).where(Ogec.__table__.c.id == without_siret[establishment.key])
                                     .values(siret=legacy["siret"]))
                self.session.commit()
            values = {name: value for name, value in legacy.items() if name != "siret"}
            records.append(Record(key=legacy["siret"], values=values,
                                  notes=[f"repris de l'établissement {establishment.key}"]))
        # These OGECs come with the establishments section, whose records the progress counts.
        self.upsert("ogec", Ogec.__table__, "siret", records, _already_read, positions=[None] * len(records),
                    counted=False)

    def attach_ogecs(self, establishments: list[Record]) -> None:
        """Give each establishment record the id of its OGEC, or the one it has when the file does not say."""
        ids = {(siret or "").upper(): ogec_id for siret, ogec_id in self.session.execute(
            select(Ogec.siret, Ogec.id).where(Ogec.siret.is_not(None)))}
        current = dict(self.session.execute(select(Establishment.uai, Establishment.ogec_id)).all())
        for record in establishments:
            siret = record.ogec_siret or (record.legacy_ogec or {}).get("siret")
            if siret and record.ogec_siret and siret.upper() not in ids:
                record.errors.append(f"OGEC de SIRET « {record.ogec_siret} » inconnu de l'annuaire (section ogecs)")
            record.values["ogec_id"] = (ids.get(siret.upper()) if siret
                                        else current.get(record.key) if isinstance(record.key, str) else None)

    def ogecs_without_siret(self, establishments: dict[str, Record]) -> None:
        """OGEC fields without a SIRET, from files of the earlier format: they update the school's own OGEC (one
        without a SIRET), or make it one."""
        table = Ogec.__table__
        pending = {uai: record for uai, record in establishments.items()
                   if record.legacy_ogec is not None and not record.legacy_ogec["siret"]}
        if not pending:
            return
        rows = self.session.execute(select(Establishment.id, Establishment.uai, Establishment.ogec_id)
                                    .where(Establishment.uai.in_(pending))).all()
        owned = {row.id: row for row in self.session.execute(
            select(table).where(table.c.id.in_({row.ogec_id for row in rows if row.ogec_id}),
                                table.c.siret.is_(None)))}
        for row in rows:
            values = {name: value for name, value in (pending[row.uai].legacy_ogec or {}).items() if name != "siret"}
            old = owned.get(row.ogec_id)
            key = f"{values['name'] or 'OGEC sans nom'} (sans SIRET, établissement {row.uai})"
            if old is None:
                ogec_id = self.session.execute(insert(table).values(siret=None, **values)
                                               .returning(table.c.id)).scalar_one()
                self.session.execute(update(Establishment.__table__).where(Establishment.__table__.c.id == row.id)
                                     .values(ogec_id=ogec_id))
                self.report.add("ogec", key, None, "created", ["SIRET à corriger : SIRET absent"], True)
            elif changed := [name for name, value in values.items() if getattr(old, name) != value]:
                self.session.execute(update(table).where(table.c.id == old.id).values(**values))
                self.report.add("ogec", key, None, "updated",
                                [f"modifié : {', '.join(changed)}", "SIRET à corriger : SIRET absent"], True)
            else:
                self.report.add("ogec", key, None, "unchanged")
        self.session.commit()

    def pupil_counts(self, establishments: dict[str, Record]) -> None:
        """Keep each establishment's count under its school year, so that earlier years stay readable."""
        table = PupilCount.__table__
        ids = dict(self.session.execute(select(Establishment.uai, Establishment.id)).all())
        existing = {(row.establishment_id, row.school_year): row for row in self.session.execute(
            select(table.c.id, table.c.establishment_id, table.c.school_year, table.c.pupil_count))}
        inserts, updates = [], []
        for uai, record in establishments.items():
            count, year = record.values["pupil_count"], record.values["pupil_count_year"]
            if count is None or uai not in ids:
                continue
            old = existing.get((ids[uai], year))
            if old is None:
                inserts.append((None, {"establishment_id": ids[uai], "school_year": year, "pupil_count": count}))
            elif old.pupil_count != count:
                updates.append((None, {"row_id": old.id, "pupil_count": count}))
        self.write(table, inserts, updates, counted=False)

    def roles(self, raws: list, listed_people: set[str], complete_for_people: bool) -> None:
        """Create, update, confirm and withdraw role assignments."""
        table = RoleAssignment.__table__
        people = {row.isidoor_id.lower(): row for row in self.session.execute(
            select(Person.id, Person.isidoor_id, Person.first_login_at).where(Person.isidoor_id.is_not(None)))}
        establishments = dict(self.session.execute(select(Establishment.uai, Establishment.id)).all())
        structures = dict(self.session.execute(select(Structure.code, Structure.id)).all())
        existing = {(row["person_id"], row["role"], row["establishment_id"], row["structure_id"]): row
                    for row in self.session.execute(select(table)).mappings()}
        seen: dict = {}
        inserts, updates = [], []
        for position, raw in enumerate(raws, 1):
            record = read_role(raw)
            person_key, role, uai, code = record.key if isinstance(record.key, tuple) else (None, None, None, None)
            person = people.get(person_key)
            if not record.errors:
                if person is None:
                    record.errors.append(f"personne « {person_key} » inconnue de l'annuaire")
                if uai and uai not in establishments:
                    record.errors.append(f"établissement « {uai} » inconnu de l'annuaire")
                if code and code not in structures:
                    record.errors.append(f"structure « {code} » inconnue de l'annuaire")
            # An unknown person was given an error above: the second test only tells the type checker.
            if record.errors or person is None:
                self.report.add("role", record.key, position, "rejected", record.errors)
                self.advance()
                continue
            key = (person.id, role, establishments.get(uai), structures.get(code))
            if key in seen:
                self.report.add("role", record.key, position, "rejected",
                                [f"en double dans le fichier (déjà lu en position {seen[key]})"])
                self.advance()
                continue
            seen[key] = position
            old = existing.get(key)
            if old is None:
                entry = self.report.add("role", record.key, position, "created")
                inserts.append((entry, {"person_id": key[0], "role": role, "establishment_id": key[2],
                                        "structure_id": key[3], "source": "isidoor", "synced_at": self.now,
                                        **record.values}))
                continue
            messages = []
            if old["head_of_school"] != record.values["head_of_school"]:
                messages.append("modifié : head_of_school")
            if old["source"] != "isidoor":
                messages.append("désormais géré par l'annuaire (nommé auparavant sur la plateforme)")
            # The first sync after a person's first login makes their role count (engine.directory.lookups.eligible_tutors).
            confirms = person.first_login_at is not None and (old["synced_at"] is None
                                                               or old["synced_at"] < person.first_login_at)
            if confirms:
                messages.append("synchronisé après la première connexion")
            if not messages:
                self.report.add("role", record.key, position, "unchanged")
                self.advance()
                continue
            entry = self.report.add("role", record.key, position, "updated", messages)
            updates.append((entry, {"row_id": old["id"], "head_of_school": record.values["head_of_school"],
                                    "source": "isidoor", "synced_at": self.now if confirms else old["synced_at"]}))
        self.write(table, inserts, updates)
        if complete_for_people:
            self._withdraw(existing, seen, {people[k].id for k in listed_people if k in people})

    def _withdraw(self, existing: dict, seen: dict, person_ids: set[int]) -> None:
        # A person listed in the file holds exactly the Isidoor roles the file gives them.
        gone = [row for key, row in existing.items()
                if row["person_id"] in person_ids and row["source"] == "isidoor" and key not in seen]
        if not gone:
            return
        names = dict(self.session.execute(select(Person.id, Person.isidoor_id)
                                          .where(Person.id.in_({row["person_id"] for row in gone}))).all())
        uais = dict(self.session.execute(select(Establishment.id, Establishment.uai)).all())
        codes = dict(self.session.execute(select(Structure.id, Structure.code)).all())
        for row in gone:
            key = (names.get(row["person_id"]), row["role"], uais.get(row["establishment_id"], ""),
                   codes.get(row["structure_id"], ""))
            self.report.add("role", key, None, "removed", ["rôle absent du fichier pour cette personne"])
        ids = [row["id"] for row in gone]
        for start in range(0, len(ids), BATCH):
            self.session.execute(delete(RoleAssignment.__table__)
                                 .where(RoleAssignment.__table__.c.id.in_(ids[start:start + BATCH])))
            self.session.commit()


def import_directory(session: Session, document: dict, *, source: str, actor_id: int | None = None,
                     now: datetime | None = None,
                     progress: Progress | None = None) -> tuple[ImportReport, DirectoryImport]:
    """Import a directory document (see `read_document`); record and return the report. Commits.

    `now` is the moment of the synchronisation (role confirmations are dated
    by it); `progress(done, total)` is called about fifty times as records are
    settled: rejected or unchanged as soon as read, created or updated once
    their batch is committed.
    """
    started = now or datetime.now()
    clock = time.perf_counter()
    sections = {name: document.get(name) or [] for name in SECTIONS}
    importer = _Importer(session, started, progress, sum(len(records) for records in sections.values()))
    person_table = Person.__table__
    logins = {login.lower(): (isidoor or "").lower()
              for login, isidoor in session.execute(select(Person.login, Person.isidoor_id))}

    def new_person(key: str) -> dict | str:
        if logins.get(key, key) != key:
            return f"l'identifiant de connexion « {key} » est déjà celui d'une autre personne"
        return {"login": key, "password_hash": None, "last_login_at": None, "first_login_at": None}

    importer.upsert("structure", Structure.__table__, "code", sections["structures"], read_structure)
    school_records = [read_establishment(raw) for raw in sections["establishments"]]
    importer.ogecs(sections["ogecs"], school_records)
    importer.attach_ogecs(school_records)
    establishments = importer.upsert("establishment", Establishment.__table__, "uai", school_records,
                                     _already_read)
    importer.ogecs_without_siret(establishments)
    importer.pupil_counts(establishments)
    listed = importer.upsert("person", person_table, "isidoor_id", sections["people"], read_person, new_person)
    importer.roles(sections["roles"], set(listed), complete_for_people="roles" in document)
    report = importer.report
    record = DirectoryImport(source=source[:200], actor_id=actor_id, started_at=started,
                             finished_at=started + timedelta(seconds=time.perf_counter() - clock),
                             counts={kind: dict(counter) for kind, counter in report.counts.items()},
                             entries=report.stored_entries())
    # Rows were written with Core statements: objects the caller's session loaded before are stale.
    session.expire_all()
    session.add(record)
    session.commit()
    # Whatever launched the import (the command, the administration page), a deactivated account is out at once.
    report.sessions_ended = end_inactive_people_sessions(session, started)
    return report, record


def record_file_error(session: Session, source: str, actor_id: int | None, message: str) -> DirectoryImport:
    """Keep a trace of a file that could not be read at all. Commits."""
    now = datetime.now()
    record = DirectoryImport(source=source[:200], actor_id=actor_id, started_at=now, finished_at=now, counts={},
                             entries=[], file_error=message[:500])
    session.add(record)
    session.commit()
    return record

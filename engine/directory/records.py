"""Reading an Isidoor directory file: the document as a whole, then one record: its key, the values to store, what
rejects or flags it.

A record is *rejected* when the platform cannot place it (no key, unknown
department or network, a role without its establishment): nothing of it is
stored. A value that is present but invalid (SIRET, UAI check letter, phone,
email, postal code) is *flagged*: stored as given, and shown as to be
corrected in the school file or the person's profile. The format is described
in docs/directory-import.md.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from engine.models.directory import ROLES, STRUCTURE_KINDS
from handlers.identifiers import (
    department_problem,
    email_problem,
    normalise_department,
    normalise_email,
    normalise_phone,
    normalise_siret,
    phone_problem,
    postal_code_problem,
    school_year_problem,
    siret_problem,
    uai_department_problem,
    uai_problem,
)

NETWORKS = ("SGEC", "CNEAP")
SCHOOL_ROLES = ("referent", "tuteur", "cotuteur")
_GABRIEL = re.compile(r"^[a-z][a-z0-9._-]*$")


@dataclass
class Record:
    """One record read from the file: its natural key, values by column, and problems found."""

    key: str | tuple | None
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    # Remarks that call for no correction (a field the platform does not know, ignored).
    notes: list[str] = field(default_factory=list)
    # An establishment's OGEC: the SIRET it names (`ogec`), or the OGEC fields of a file of the earlier format.
    ogec_siret: str | None = None
    legacy_ogec: dict | None = None


class _Reader:
    """Reads the fields of one raw record, collecting errors (record rejected) and flags (value kept)."""

    def __init__(self, raw, known: tuple[str, ...]):
        self.raw = raw if isinstance(raw, dict) else {}
        self.record = Record(key=None)
        if not isinstance(raw, dict):
            self.record.errors.append("l'enregistrement doit être un objet JSON")
        for name in sorted(set(self.raw) - set(known)):
            self.record.notes.append(f"champ inconnu ignoré : « {str(name)[:40]} »")

    def text(self, name: str, label: str, max_length: int, required: bool = False) -> str | None:
        """A text field, trimmed; None when absent or empty."""
        value = self.raw.get(name)
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            self.record.errors.append(f"{label} : texte attendu")
            return None
        text = str(value).strip() if value is not None else ""
        if not text:
            if required:
                self.record.errors.append(f"{label} : obligatoire")
            return None
        if len(text) > max_length:
            self.record.errors.append(f"{label} : {max_length} caractères au plus")
            return None
        return text

    def flag(self, label: str, problem: str | None) -> None:
        """Note that a value is kept but must be corrected."""
        if problem is not None:
            self.record.flags.append(f"{label} à corriger : {problem}")

    def boolean(self, name: str, label: str, default: bool) -> bool:
        """A true/false field."""
        value = self.raw.get(name, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.record.errors.append(f"{label} : true ou false attendu")
            return default
        return value


def read_structure(raw) -> Record:
    """A Fnogec, Urogec or Udogec with its territory (department codes)."""
    reader = _Reader(raw, ("code", "kind", "name", "departments", "email", "phone", "handles_service_civique"))
    record = reader.record
    code = reader.text("code", "code", 40, required=True)
    record.key = code.upper() if code else None
    kind = (reader.text("kind", "type de structure", 40, required=True) or "").lower()
    if kind and kind not in STRUCTURE_KINDS:
        record.errors.append(f"type de structure « {kind} » inconnu (fnogec, urogec ou udogec)")
    departments = reader.raw.get("departments") or []
    if not isinstance(departments, list) or not all(isinstance(d, str) for d in departments):
        record.errors.append("territoire : liste de codes de département attendue")
        departments = []
    departments = [normalise_department(d) for d in departments]
    for problem in filter(None, map(department_problem, departments)):
        record.errors.append(f"territoire : {problem}")
    if kind in ("urogec", "udogec") and not departments:
        record.errors.append("territoire : au moins un département attendu")
    email = reader.text("email", "adresse électronique", 200)
    phone = reader.text("phone", "téléphone", 40)
    if email:
        reader.flag("adresse électronique", email_problem(email))
    if phone:
        reader.flag("téléphone", phone_problem(phone))
    record.values = {"kind": kind, "name": reader.text("name", "nom", 200, required=True),
                     "departments": sorted(set(departments)),
                     "email": normalise_email(email) if email else None,
                     "phone": (normalise_phone(phone) or phone) if phone else None,
                     # Fnogec manages Service Civique unless told otherwise; a union only when the file says so.
                     "handles_service_civique": reader.boolean("handles_service_civique", "dédiée au Service Civique",
                                                               kind == "fnogec")}
    return record


def _stored_siret(siret: str) -> str:
    # A valid SIRET without its spaces; an invalid one as given, so that the file shows what to fix.
    return normalise_siret(siret) if siret_problem(siret) is None else siret


def _ogec_values(reader: _Reader, name_field: str, department: str | None = None) -> dict:
    """The OGEC fields of a record (an OGEC, or an establishment of the earlier format), flagging invalid ones."""
    postal_code = reader.text("postal_code", "code postal", 10)
    if postal_code:
        reader.flag("code postal", postal_code_problem(postal_code, department))
    phone = reader.text("phone", "téléphone", 40)
    if phone:
        reader.flag("téléphone", phone_problem(phone))
    return {
        "name": reader.text(name_field, "nom de l'OGEC", 200),
        "address": reader.text("address", "adresse", 300),
        "postal_code": postal_code,
        "city": reader.text("city", "commune", 120),
        "phone": (normalise_phone(phone) or phone) if phone else None,
    }


def read_ogec(raw) -> Record:
    """An OGEC, the association managing one or several schools, known by its SIRET."""
    reader = _Reader(raw, ("siret", "name", "address", "postal_code", "city", "phone"))
    record = reader.record
    siret = reader.text("siret", "SIRET", 40, required=True)
    if siret:
        reader.flag("SIRET", siret_problem(siret))
        record.key = _stored_siret(siret)
    record.values = _ogec_values(reader, "name")
    return record


def read_establishment(raw) -> Record:
    """A school, naming its OGEC by SIRET (`ogec`), or carrying its OGEC's fields as files of the earlier format
    did (`ogec_name`, `address`, `siret`, `phone` beside the school's postal code and city)."""
    reader = _Reader(raw, ("uai", "name", "ogec", "ogec_name", "address", "postal_code", "city", "department",
                           "siret", "phone", "network", "pupil_count", "pupil_count_year"))
    record = reader.record
    uai = reader.text("uai", "code RNE/UAI", 8, required=True)
    record.key = uai.upper().replace(" ", "") if uai else None
    department = normalise_department(reader.text("department", "département", 3, required=True))
    if department and (problem := department_problem(department)) is not None:
        record.errors.append(f"département : {problem}")
    if record.key:
        problem = uai_problem(record.key)
        reader.flag("code RNE/UAI", problem or (uai_department_problem(record.key, department)
                                                if department and not record.errors else None))
    network = (reader.text("network", "réseau", 40, required=True) or "").upper()
    if network and network not in NETWORKS:
        record.errors.append(f"réseau « {network} » inconnu (SGEC ou CNEAP)")
    ogec = reader.text("ogec", "OGEC (SIRET)", 40)
    legacy = {name: reader.raw.get(name) for name in ("ogec_name", "address", "siret", "phone")}
    if ogec and any(legacy.values()):
        record.errors.append("OGEC : le nommer par son SIRET (ogec) ou donner ses champs (ogec_name, address, siret, "
                             "phone), pas les deux")
    postal_code = reader.text("postal_code", "code postal", 10)
    if any(legacy.values()):
        # The earlier format: the postal code and city are both the school's and its OGEC's address.
        siret = reader.text("siret", "SIRET", 40)
        if siret:
            reader.flag("SIRET", siret_problem(siret))
        record.legacy_ogec = {**_ogec_values(reader, "ogec_name", department),
                              "siret": _stored_siret(siret) if siret else None}
    elif postal_code:
        reader.flag("code postal", postal_code_problem(postal_code, department))
    record.ogec_siret = _stored_siret(ogec) if ogec else None
    pupils = reader.raw.get("pupil_count")
    if isinstance(pupils, str) and pupils.strip().isdigit():
        pupils = int(pupils.strip())
    if pupils is not None and (isinstance(pupils, bool) or not isinstance(pupils, int) or pupils < 0):
        record.errors.append("effectif d'élèves : nombre entier positif attendu")
        pupils = None
    year = reader.text("pupil_count_year", "année de l'effectif", 9)
    if year and (problem := school_year_problem(year)) is not None:
        record.errors.append(f"année de l'effectif : {problem}")
    if pupils is not None and not year:
        record.errors.append("année de l'effectif : obligatoire avec l'effectif (par exemple 2027-2028)")
    record.values = {
        "name": reader.text("name", "nom", 200, required=True),
        "postal_code": postal_code,
        "city": reader.text("city", "commune", 120),
        "department": department,
        "network": network,
        "pupil_count": pupils,
        "pupil_count_year": year,
    }
    return record


def read_person(raw) -> Record:
    """Someone of the directory, identified by their Isidoor id."""
    reader = _Reader(raw, ("isidoor_id", "gabriel_id", "first_name", "last_name", "email", "phone", "active"))
    record = reader.record
    isidoor_id = reader.text("isidoor_id", "identifiant Isidoor", 200, required=True)
    record.key = isidoor_id.lower() if isidoor_id else None
    gabriel = reader.text("gabriel_id", "code Gabriel", 60)
    if gabriel and not _GABRIEL.match(gabriel.lower()):
        reader.flag("code Gabriel", "lettres minuscules et chiffres attendus (par exemple edupont)")
    email = reader.text("email", "adresse électronique", 200)
    phone = reader.text("phone", "téléphone", 40)
    reader.flag("adresse électronique", email_problem(email))
    reader.flag("téléphone", phone_problem(phone))
    record.values = {
        "gabriel_id": gabriel.lower() if gabriel else None,
        "first_name": reader.text("first_name", "prénom", 100, required=True),
        "last_name": reader.text("last_name", "nom", 100, required=True),
        "email": normalise_email(email) if email else None,
        "phone": (normalise_phone(phone) or phone) if phone else None,
        "active": reader.boolean("active", "actif", True),
    }
    return record


def read_role(raw) -> Record:
    """A role of a person: in an establishment (by UAI), in a structure (by code), or platform-wide."""
    reader = _Reader(raw, ("person", "role", "establishment", "structure", "head_of_school"))
    record = reader.record
    person = (reader.text("person", "personne (identifiant Isidoor)", 200, required=True) or "").lower()
    role = (reader.text("role", "rôle", 20, required=True) or "").lower()
    establishment = (reader.text("establishment", "établissement (UAI)", 8) or "").upper().replace(" ", "")
    structure = (reader.text("structure", "structure", 40) or "").upper()
    head = reader.boolean("head_of_school", "chef d'établissement", False)
    if role and role not in ROLES:
        record.errors.append(f"rôle « {role} » inconnu ({', '.join(ROLES)})")
    if role in SCHOOL_ROLES and (not establishment or structure):
        record.errors.append(f"le rôle {role} s'exerce dans un établissement : indiquer son UAI, sans structure")
    if role == "gestionnaire" and (not structure or establishment):
        record.errors.append("le rôle gestionnaire s'exerce dans une structure : indiquer son code, sans UAI")
    if role == "process_owner" and (structure or establishment):
        record.errors.append("le rôle process_owner ne se rattache à aucun établissement ni structure")
    if head and role != "referent":
        record.errors.append("seul un référent peut être chef d'établissement (head_of_school)")
    record.key = (person, role, establishment, structure) if person and role else None
    record.values = {"head_of_school": head}
    return record


def describe_key(kind: str, key) -> str:
    """A record's key as the report shows it."""
    if key is None:
        return "(sans identifiant)"
    if kind == "role" and isinstance(key, tuple):
        person, role, establishment, structure = key
        scope = establishment or structure
        return f"{person} — {role}" + (f" — {scope}" if scope else "")
    return str(key)


# The sections of a directory file, in the order they are imported.
SECTIONS = ("structures", "ogecs", "establishments", "people", "roles")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is French.

    Not a `Refusal`: reading the file is parsing user input, and an unreadable file is not turned away with an
    error page but recorded as a failed import, whose report says why.
    """


def read_document(content: bytes) -> dict:
    """The directory document in a file's bytes; raise `ImportFileError` (French) when unreadable."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("Le fichier n'est pas encodé en UTF-8.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"Le fichier n'est pas un JSON valide (ligne {error.lineno}, colonne {error.colno}) : "
                              f"{error.msg}.") from None
    if not isinstance(document, dict):
        raise ImportFileError("Le fichier doit contenir un objet JSON avec les listes structures, ogecs, "
                              "establishments, people et roles.")
    if document.get("version", 1) != 1:
        raise ImportFileError(f"Version de format {document.get('version')!r} inconnue : seule la version 1 est lue.")
    for section in SECTIONS:
        if not isinstance(document.get(section, []), list):
            raise ImportFileError(f"La section « {section} » doit être une liste.")
    if not any(document.get(section) for section in SECTIONS):
        raise ImportFileError("Le fichier ne contient aucun enregistrement (structures, ogecs, establishments, "
                              "people, roles).")
    return document

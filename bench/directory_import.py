"""Benchmark: import a national-scale Isidoor directory (7,500 establishments, 40,000 people) twice.

    .venv/bin/python -m bench.directory_import [--establishments N] [--people N] [--database-url URL]

Generates a deterministic directory file (every French department, an Udogec
for some of them, the Urogec of their regions, Fnogec; schools with valid
UAI, SIRET and phones; heads of school, tuteurs, cotuteurs, gestionnaires),
migrates a fresh database (SQLite in a temporary folder unless
--database-url names another one), imports the file, imports it again
(which must change nothing), then imports it with 1 % of the records
changed. Prints the file size and the three durations; `measure()` returns
them for `make bench` (bench/run.py, figure 7).
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from engine.db import make_engine, make_session_factory, upgrade_database
from engine.directory.import_report import ImportReport
from engine.directory.importing import import_directory
from engine.directory.records import read_document
from handlers.identifiers import UAI_LETTERS, with_luhn_key

DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]
# Regions as groups of departments, enough to give each Urogec a territory.
REGIONS = {
    "BRETAGNE": ["22", "29", "35", "56"], "PAYS-DE-LA-LOIRE": ["44", "49", "53", "72", "85"],
    "NORMANDIE": ["14", "27", "50", "61", "76"], "HAUTS-DE-FRANCE": ["02", "59", "60", "62", "80"],
    "ILE-DE-FRANCE": ["75", "77", "78", "91", "92", "93", "94", "95"],
    "AUVERGNE-RHONE-ALPES": ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"],
    "OCCITANIE": ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"],
    "NOUVELLE-AQUITAINE": ["16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"],
    "GRAND-EST": ["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"],
    "PACA-CORSE": ["04", "05", "06", "13", "83", "84", "2A", "2B"],
}
FIRST_NAMES = ["Anne", "Marie", "Jean", "Pierre", "Claire", "Thomas", "Sophie", "Nicolas", "Julie", "Yann", "Hélène",
               "Louis", "Camille", "Paul", "Léa", "Hugo", "Chloé", "Lucas", "Emma", "Gabriel", "Inès", "Jules"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Le Goff", "Morvan"]
KINDS = ["École", "Collège", "Lycée", "Lycée professionnel", "Lycée agricole"]
SAINTS = ["Saint-Joseph", "Sainte-Anne", "Notre-Dame", "Saint-Michel", "Sainte-Marie", "Saint-Louis", "Jeanne-d'Arc",
          "Saint-Vincent", "Sainte-Thérèse", "Saint-François"]


def uai_for(department: str, number: int) -> str:
    """A valid UAI in a department (Corsica is 620/720, overseas 97x)."""
    prefix = {"2A": "620", "2B": "720"}.get(department, department.zfill(3))
    first_seven = f"{prefix}{number % 10000:04d}"
    return first_seven + UAI_LETTERS[int(first_seven) % 23]


def siret_for(number: int) -> str:
    """A valid SIRET (Luhn key) built from a number."""
    return with_luhn_key(f"{700000000 + number:09d}0001")


def postal_code_for(department: str, rng: random.Random) -> str:
    """A postal code of the department's shape."""
    if department in ("2A", "2B"):
        return f"20{rng.randint(0, 2) if department == '2A' else rng.randint(2, 6)}{rng.randint(0, 99):02d}"
    if len(department) == 3:
        return f"{department}{rng.randint(0, 99):02d}"
    return f"{department}{rng.randint(0, 999):03d}"


def generate_directory(establishments: int = 7500, people: int = 40000, seed: int = 2027) -> dict:
    """A national directory document: structures, `establishments` schools and about `people` persons."""
    rng = random.Random(seed)
    structures = [{"code": "FNOGEC", "kind": "fnogec", "name": "Fnogec", "departments": [],
                   "email": "service-civique@fnogec.example.org", "phone": "01 53 73 00 00"}]
    for region, departments in REGIONS.items():
        structures.append({"code": f"UROGEC-{region}", "kind": "urogec", "name": f"Urogec {region.title()}",
                           "departments": departments, "email": f"sc@urogec-{region.lower()}.example.org",
                           "phone": f"02{rng.randint(10000000, 99999999)}"})
        for department in departments[::2]:
            structures.append({"code": f"UDOGEC-{department}", "kind": "udogec", "name": f"Udogec {department}",
                               "departments": [department], "email": f"sc@udogec{department.lower()}.example.org",
                               "phone": f"02{rng.randint(10000000, 99999999)}"})
    schools, persons, roles = [], [], []

    def person(kind: str) -> str:
        number = len(persons)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        isidoor_id = f"{kind}.{number}@isidoor.example.org"
        persons.append({"isidoor_id": isidoor_id, "first_name": first, "last_name": last,
                        "email": f"{first[0].lower()}.{number}@ecole.example.org",
                        "phone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                                 f"{rng.randint(10, 99)}"})
        return isidoor_id

    for number in range(establishments):
        department = DEPARTMENTS[number % len(DEPARTMENTS)]
        uai = uai_for(department, number)
        saint = rng.choice(SAINTS)
        schools.append({
            "uai": uai, "name": f"{rng.choice(KINDS)} {saint} n° {number}", "ogec_name": f"OGEC {saint} {number}",
            "address": f"{rng.randint(1, 120)} rue {saint}", "postal_code": postal_code_for(department, rng),
            "city": f"Commune {number}", "department": department, "siret": siret_for(number),
            "phone": f"0{rng.randint(1, 5)}{rng.randint(10000000, 99999999)}",
            "network": "CNEAP" if number % 9 == 0 else "SGEC", "pupil_count": rng.randint(60, 2400),
            "pupil_count_year": "2027-2028",
        })
        head = person("chef")
        persons[-1]["gabriel_id"] = f"chef{number}"
        roles.append({"person": head, "role": "referent", "establishment": uai, "head_of_school": True})
        roles.append({"person": person("tuteur"), "role": "tuteur", "establishment": uai})
        roles.append({"person": person("cotuteur"), "role": "cotuteur", "establishment": uai})
    for structure in structures:
        roles.append({"person": person("gestion"), "role": "gestionnaire", "structure": structure["code"]})
    # The rest of the staff: more tuteurs and cotuteurs spread over the schools, up to `people`.
    while len(persons) < people:
        school = schools[rng.randrange(len(schools))]
        role = rng.choice(("tuteur", "cotuteur", "referent"))
        roles.append({"person": person(role), "role": role, "establishment": school["uai"]})
    return {"format": "isidoor-annuaire", "version": 1, "structures": structures, "establishments": schools,
            "people": persons, "roles": roles}


def with_changes(document: dict, share: float = 0.01) -> dict:
    """A copy of a directory where `share` of the establishments and people changed their phone number."""
    changed = {**document, "establishments": [dict(e) for e in document["establishments"]],
               "people": [dict(p) for p in document["people"]]}
    step = max(1, round(1 / share))
    for records in (changed["establishments"], changed["people"]):
        for record in records[::step]:
            record["phone"] = "09 99 99 99 99"
    return changed


def _timed_import(sessions, content: bytes, source: str) -> tuple[float, float, dict, ImportReport]:
    # Wall time is what the person waits; this process's CPU time shows what a busy machine adds to it.
    started, cpu = time.perf_counter(), time.process_time()
    document = read_document(content)
    with sessions() as session:
        report, _record = import_directory(session, document, source=source)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return elapsed, cpu, {kind: dict(counter) for kind, counter in report.counts.items()}, report


def measure(establishments: int = 7500, people: int = 40000, database_url: str | None = None) -> dict:
    """Import a generated national directory three times; return the figures.

    On a fresh database (`database_url`, or SQLite in a temporary folder):
    the first import creates everything, the second (same file) must change
    nothing, the third changes the phone of 1 % of the establishments and
    people. Each duration includes reading the JSON file; `*_cpu_s` is the
    CPU time of this process over the same span (the database server's, for
    PostgreSQL, is not in it). Raises
    RuntimeError when a record is rejected or the second import changes
    anything.
    """
    figures: dict = {"establishments": establishments, "people": people}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "annuaire.json"
        started = time.perf_counter()
        document = generate_directory(establishments, people)
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        figures["generate_s"] = time.perf_counter() - started
        figures["file_mb"] = path.stat().st_size / 1e6
        figures["records"] = sum(len(document[section]) for section in ("structures", "establishments", "people",
                                                                          "roles"))
        url = database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        figures["database"] = url.split(":", 1)[0].split("+", 1)[0]
        upgrade_database(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            for name, source in (("first", path.name), ("second", path.name)):
                elapsed, cpu, counts, report = _timed_import(sessions, path.read_bytes(), source)
                figures[f"{name}_s"], figures[f"{name}_cpu_s"], figures[f"{name}_counts"] = elapsed, cpu, counts
                if report.total("rejected"):
                    raise RuntimeError(f"Rejets inattendus : {[e.as_dict() for e in report.entries[:5]]}")
            if report.changed:
                raise RuntimeError("Le second import a changé des données : l'import n'est pas idempotent.")
            changed = json.dumps(with_changes(document), ensure_ascii=False).encode("utf-8")
            figures["update_s"], figures["update_cpu_s"], figures["update_counts"], _report = _timed_import(
                sessions, changed, "annuaire-modifié.json")
        finally:
            engine.dispose()
    return figures


def run(establishments: int, people: int, database_url: str | None) -> dict:
    """Measure (see `measure`), print the figures one per line, and return them."""
    figures = measure(establishments, people, database_url)
    print(f"Fichier : {figures['file_mb']:.1f} Mo, {figures['records']} enregistrements, "
          f"généré en {figures['generate_s']:.1f} s ({figures['database']})")
    for name, label in (("first", "premier import"), ("second", "second import (même fichier)"),
                        ("update", "import avec 1 % de changements")):
        print(f"{label} : {figures[name + '_s']:.1f} s (processeur : {figures[name + '_cpu_s']:.1f} s) — "
              f"{figures[name + '_counts']}")
    return figures


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", type=int, default=7500)
    parser.add_argument("--people", type=int, default=40000)
    parser.add_argument("--database-url", help="base de données à utiliser (vide au départ) ; SQLite temporaire sinon")
    arguments = parser.parse_args()
    try:
        run(arguments.establishments, arguments.people, arguments.database_url)
    except RuntimeError as error:
        raise SystemExit(str(error)) from error


if __name__ == "__main__":
    main()

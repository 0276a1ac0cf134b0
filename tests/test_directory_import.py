"""Importing the Isidoor directory: per-record report, idempotence, updates, rejections, CLI and admin page."""
from __future__ import annotations

import copy
import html
import io
import json

import pytest
from sqlalchemy import select

from engine.directory.importing import import_directory
from engine.directory.records import ImportFileError, read_document
from engine.models import DirectoryImport, Establishment, Person, PupilCount, RoleAssignment, Structure

from conftest import csrf_token


def directory_file() -> dict:
    """A file mixing good, flawed, bad and duplicate records of every kind."""
    return {
        "format": "isidoor-annuaire",
        "version": 1,
        "structures": [
            {"code": "UDOGEC-44", "kind": "udogec", "name": "Udogec de Loire-Atlantique", "departments": ["44"],
             "email": "service-civique@udogec44.example.org", "phone": "02 40 00 00 44"},
            {"code": "UROGEC-X", "kind": "confédération", "name": "Inconnue", "departments": ["44"]},
            {"code": "UDOGEC-20", "kind": "udogec", "name": "Udogec de Corse", "departments": ["20"]},
        ],
        "establishments": [
            {"uai": "0440123V", "name": "Collège Saint-Félix", "ogec_name": "OGEC Saint-Félix de Nantes",
             "address": "2 rue du Ballet", "postal_code": "44000", "city": "Nantes", "department": "44",
             "siret": "732 829 320 00074", "phone": "02 40 12 34 56", "network": "SGEC", "pupil_count": 310,
             "pupil_count_year": "2027-2028"},
            # Invalid SIRET and phone: stored as given and flagged, not dropped.
            {"uai": "0440124W", "name": "École Notre-Dame", "ogec_name": "OGEC Notre-Dame",
             "address": "1 place de l'Église", "postal_code": "44100", "city": "Nantes", "department": "44",
             "siret": "73282932000075", "phone": "12 34", "network": "SGEC", "pupil_count": 120,
             "pupil_count_year": "2027-2028"},
            {"uai": "6200042B", "name": "Lycée Saint-Paul", "ogec_name": "OGEC Saint-Paul d'Ajaccio",
             "address": "Route de Mezzavia", "postal_code": "20000", "city": "Ajaccio", "department": "2A",
             "siret": "44306184100047", "phone": "04 95 00 00 00", "network": "SGEC", "pupil_count": 300,
             "pupil_count_year": "2027-2028"},
            # No network: the platform cannot place it.
            {"uai": "0290999D", "name": "École sans réseau", "department": "29"},
            # The same UAI twice: the second is rejected.
            {"uai": "0440123V", "name": "Collège Saint-Félix (doublon)", "department": "44", "network": "SGEC"},
            "pas un enregistrement",
            # An existing school of the demo: its pupil count changes.
            {"uai": "0350781J", "name": "Collège Saint-Joseph", "ogec_name": "OGEC Saint-Joseph de Rennes",
             "address": "12 rue de Fougères", "postal_code": "35700", "city": "Rennes", "department": "35",
             "siret": "77751234500011", "phone": "+33299381200", "network": "SGEC", "pupil_count": 255,
             "pupil_count_year": "2028-2029"},
        ],
        "people": [
            {"isidoor_id": "Claire.Guerin@isidoor.example.org", "gabriel_id": "cguerin", "first_name": "Claire",
             "last_name": "Guérin", "email": "claire.guerin@saint-felix.example.org", "phone": "06 11 22 33 44"},
            {"isidoor_id": "marc.hamon@isidoor.example.org", "first_name": "Marc", "last_name": "Hamon",
             "email": "marc.hamon@saint-felix.example.org", "phone": "06 55 66 77 88"},
            # Neither email nor phone: imported, and told what to complete.
            {"isidoor_id": "lea.riou@isidoor.example.org", "first_name": "Léa", "last_name": "Riou"},
            {"isidoor_id": "sans.nom@isidoor.example.org", "first_name": "Sans"},
            {"isidoor_id": "marc.hamon@isidoor.example.org", "first_name": "Marc", "last_name": "Hamon (doublon)"},
        ],
        "roles": [
            {"person": "claire.guerin@isidoor.example.org", "role": "referent", "establishment": "0440123V",
             "head_of_school": True},
            {"person": "marc.hamon@isidoor.example.org", "role": "tuteur", "establishment": "0440123V"},
            {"person": "lea.riou@isidoor.example.org", "role": "cotuteur", "establishment": "0440123V"},
            {"person": "inconnu@isidoor.example.org", "role": "tuteur", "establishment": "0440123V"},
            {"person": "marc.hamon@isidoor.example.org", "role": "tuteur", "establishment": "0999999Z"},
            {"person": "marc.hamon@isidoor.example.org", "role": "gestionnaire", "establishment": "0440123V"},
            {"person": "marc.hamon@isidoor.example.org", "role": "tuteur", "establishment": "0440123V"},
            {"person": "marc.hamon@isidoor.example.org", "role": "tuteur", "head_of_school": True,
             "establishment": "0440124W"},
        ],
    }


def entries_for(report, kind: str, key: str) -> list:
    """The report's entries of one record."""
    return [entry for entry in report.entries if entry.kind == kind and entry.key == key]


def snapshot(session) -> dict:
    """Every row of the directory tables, to compare before and after an import."""
    session.expire_all()
    return {model.__tablename__: [tuple(row) for row in session.execute(
        select(*model.__table__.columns).order_by(model.__table__.c.id))]
        for model in (Structure, Establishment, PupilCount, Person, RoleAssignment)}


def test_a_file_mixing_good_bad_and_duplicate_records_is_imported_record_by_record(session):
    report, record = import_directory(session, directory_file(), source="annuaire.json")

    assert dict(report.counts["structure"]) == {"created": 1, "rejected": 2}
    assert dict(report.counts["establishment"]) == {"created": 3, "rejected": 3, "updated": 1}
    assert dict(report.counts["person"]) == {"created": 3, "rejected": 2}
    assert dict(report.counts["role"]) == {"created": 3, "rejected": 5}

    def reasons(kind, key):
        (entry,) = [e for e in entries_for(report, kind, key) if e.outcome == "rejected"]
        return entry.messages

    assert reasons("structure", "UROGEC-X") == [
        "type de structure « confédération » inconnu (fnogec, urogec ou udogec)"]
    assert reasons("structure", "UDOGEC-20") == [
        "territoire : la Corse est divisée en 2A (Corse-du-Sud) et 2B (Haute-Corse)"]
    assert reasons("establishment", "0290999D") == ["réseau : obligatoire"]
    duplicate = [e for e in entries_for(report, "establishment", "0440123V") if e.outcome == "rejected"]
    assert duplicate[0].position == 5
    assert duplicate[0].messages == ["en double dans le fichier (déjà lu en position 1)"]
    assert reasons("establishment", "(sans identifiant)") == ["l'enregistrement doit être un objet JSON",
                                                              "code RNE/UAI : obligatoire", "département : obligatoire",
                                                              "réseau : obligatoire", "nom : obligatoire"]
    assert reasons("person", "sans.nom@isidoor.example.org") == ["nom : obligatoire"]
    assert reasons("role", "inconnu@isidoor.example.org — tuteur — 0440123V") == [
        "personne « inconnu@isidoor.example.org » inconnue de l'annuaire"]
    assert reasons("role", "marc.hamon@isidoor.example.org — tuteur — 0999999Z") == [
        "établissement « 0999999Z » inconnu de l'annuaire"]
    assert reasons("role", "marc.hamon@isidoor.example.org — gestionnaire — 0440123V") == [
        "le rôle gestionnaire s'exerce dans une structure : indiquer son code, sans UAI"]
    assert reasons("role", "marc.hamon@isidoor.example.org — tuteur — 0440124W") == [
        "seul un référent peut être chef d'établissement (head_of_school)"]

    # Flagged values are stored as given and said to be corrected.
    (flawed,) = entries_for(report, "establishment", "0440124W")
    assert (flawed.outcome, flawed.flagged) == ("created", True)
    assert flawed.messages == ["SIRET à corriger : la clé de contrôle du SIRET est fausse",
                               "téléphone à corriger : numéro de téléphone non valide (10 chiffres commençant "
                               "par 0, ou l'indicatif +33, +262, +590, +594, +596, +508, +681, +687 ou +689 "
                               "suivi du numéro)"]
    notre_dame = session.scalar(select(Establishment).where(Establishment.uai == "0440124W"))
    assert (notre_dame.ogec.siret, notre_dame.ogec.phone) == ("73282932000075", "12 34")
    (lea,) = entries_for(report, "person", "lea.riou@isidoor.example.org")
    assert lea.messages == ["adresse électronique à corriger : adresse électronique absente",
                            "téléphone à corriger : numéro de téléphone absent"]

    # Good values are normalised: SIRET without spaces, phones in +33 form, Isidoor ids in lower case.
    felix = session.scalar(select(Establishment).where(Establishment.uai == "0440123V"))
    assert (felix.ogec.siret, felix.ogec.phone, felix.pupil_count) == ("73282932000074", "+33240123456", 310)
    ajaccio = session.scalar(select(Establishment).where(Establishment.uai == "6200042B"))
    assert (ajaccio.department, ajaccio.postal_code) == ("2A", "20000")
    claire = session.scalar(select(Person).where(Person.isidoor_id == "claire.guerin@isidoor.example.org"))
    assert (claire.login, claire.gabriel_id, claire.phone) == ("claire.guerin@isidoor.example.org", "cguerin",
                                                              "+33611223344")
    assert claire.password_hash is None and claire.first_login_at is None
    (head,) = claire.roles
    assert (head.role, head.head_of_school, head.establishment.uai, head.source) == ("referent", True, "0440123V",
                                                                                    "isidoor")
    assert record.counts["establishment"] == {"created": 3, "rejected": 3, "updated": 1}
    assert any(entry["outcome"] == "rejected" for entry in record.entries)


def test_reimporting_the_same_file_changes_nothing(session):
    import_directory(session, directory_file(), source="annuaire.json")
    before = snapshot(session)

    report, record = import_directory(session, directory_file(), source="annuaire.json")

    assert not report.changed
    assert snapshot(session) == before
    for kind, created in (("structure", 1), ("establishment", 4), ("person", 3), ("role", 3)):
        assert report.counts[kind]["unchanged"] == created
        assert report.counts[kind]["created"] == report.counts[kind]["updated"] == 0
    # Rejections are reported again: the file still holds them.
    assert report.total("rejected") == 12
    assert {entry["outcome"] for entry in record.entries} == {"rejected"}


def test_changed_records_are_updated_and_the_report_says_which_fields(session):
    import_directory(session, directory_file(), source="annuaire.json")
    changed = directory_file()
    changed["establishments"][0]["phone"] = "02 40 99 99 99"
    changed["establishments"][0]["pupil_count"] = 295
    changed["people"][2]["email"] = "lea.riou@saint-felix.example.org"
    changed["people"][2]["phone"] = "0611111111"
    changed["structures"][0]["departments"] = ["44", "85"]

    report, _record = import_directory(session, changed, source="annuaire-2.json")

    (felix,) = entries_for(report, "establishment", "0440123V")[:1]
    assert (felix.outcome, felix.messages) == ("updated", ["modifié : pupil_count"])
    # The phone is the OGEC's: a file of the earlier format updates the OGEC of the school's SIRET.
    (ogec,) = entries_for(report, "ogec", "73282932000074")
    assert (ogec.outcome, ogec.messages) == ("updated", ["modifié : phone", "repris de l'établissement 0440123V"])
    (lea,) = entries_for(report, "person", "lea.riou@isidoor.example.org")
    assert (lea.outcome, lea.messages) == ("updated", ["modifié : email, phone"])
    (structure,) = entries_for(report, "structure", "UDOGEC-44")
    assert structure.messages == ["modifié : departments"]
    assert report.counts["establishment"]["updated"] == 1
    session.expire_all()
    school = session.scalar(select(Establishment).where(Establishment.uai == "0440123V"))
    assert (school.ogec.phone, school.pupil_count) == ("+33240999999", 295)
    assert session.scalar(select(Structure).where(Structure.code == "UDOGEC-44")).departments == ["44", "85"]


def test_a_new_school_year_keeps_the_count_of_the_previous_one(session):
    rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    first_year = rennes.pupil_count_year
    import_directory(session, directory_file(), source="annuaire.json")

    session.expire_all()
    counts = dict(session.execute(select(PupilCount.school_year, PupilCount.pupil_count)
                                  .where(PupilCount.establishment_id == rennes.id)).all())
    assert counts == {"2028-2029": 255}
    assert (rennes.pupil_count, rennes.pupil_count_year) == (255, "2028-2029")
    assert first_year != "2028-2029"


def test_a_person_listed_holds_exactly_the_directory_roles_but_keeps_those_named_on_the_platform(session):
    import_directory(session, directory_file(), source="annuaire.json")
    marc = session.scalar(select(Person).where(Person.isidoor_id == "marc.hamon@isidoor.example.org"))
    felix = session.scalar(select(Establishment).where(Establishment.uai == "0440123V"))
    session.add(RoleAssignment(person_id=marc.id, role="referent", establishment_id=felix.id, source="platform"))
    session.commit()
    fewer = directory_file()
    fewer["roles"] = [role for role in fewer["roles"] if role.get("role") != "tuteur"]

    report, _record = import_directory(session, fewer, source="annuaire-3.json")

    (removed,) = [e for e in report.entries if e.outcome == "removed"]
    assert removed.key == "marc.hamon@isidoor.example.org — tuteur — 0440123V"
    assert removed.messages == ["rôle absent du fichier pour cette personne"]
    session.expire_all()
    assert [(a.role, a.source) for a in session.get(Person, marc.id).roles] == [("referent", "platform")]


def test_a_file_without_a_roles_section_withdraws_no_role(session):
    import_directory(session, directory_file(), source="annuaire.json")
    people_only = {"version": 1, "people": directory_file()["people"]}

    report, _record = import_directory(session, people_only, source="personnes.json")

    assert report.counts["role"] == {}
    assert not report.changed


def test_progress_is_reported_as_batches_of_records_are_written(session):
    document = directory_file()
    document["people"] += [{"isidoor_id": f"p{n}@isidoor.example.org", "first_name": "P", "last_name": str(n),
                            "email": f"p{n}@example.org", "phone": "0600000000"} for n in range(2600)]
    total = sum(len(document[section]) for section in ("structures", "establishments", "people", "roles"))
    steps = []

    import_directory(session, document, source="gros.json", progress=lambda done, of: steps.append((done, of)))

    assert steps[-1] == (total, total)
    # 2,600 people are written in three batches: the count moves with each.
    assert len(steps) >= 4
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe{", "Le fichier n'est pas encodé en UTF-8."),
    (b'{"structures": [', "Le fichier n'est pas un JSON valide (ligne 1, colonne 17)"),
    (b"[]", "Le fichier doit contenir un objet JSON"),
    (b'{"version": 2, "people": []}', "Version de format 2 inconnue"),
    (b'{"people": {}}', "La section « people » doit être une liste."),
    (b'{"version": 1}', "Le fichier ne contient aucun enregistrement"),
])
def test_an_unreadable_file_is_refused_as_a_whole_with_a_french_message(content, message):
    with pytest.raises(ImportFileError) as refused:
        read_document(content)
    assert str(refused.value).startswith(message)


def test_the_command_line_imports_a_file_with_progress_and_a_report(app, tmp_path, session):
    path = tmp_path / "annuaire.json"
    path.write_text(json.dumps(directory_file(), ensure_ascii=False), encoding="utf-8")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["directory", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "Annuaire : 23 / 23 enregistrements (100 %)" in result.stderr
    assert "Établissements : 3 créés, 1 mis à jour, 3 rejetés" in result.stdout
    assert "[rejeté] établissement 0290999D (position 4) : réseau : obligatoire" in result.stdout
    assert "Structures : 1 créée, 2 rejetées" in result.stdout and "[rejetée] structure UROGEC-X" in result.stdout
    assert session.scalar(select(Establishment).where(Establishment.uai == "0440123V")) is not None

    again = runner.invoke(args=["directory", "import", str(path)])
    assert again.exit_code == 0
    assert "Aucun changement : l'annuaire était déjà à jour." in again.stdout


def test_the_command_line_refuses_an_unreadable_file_and_keeps_a_trace(app, tmp_path, session):
    path = tmp_path / "cassé.json"
    path.write_text('{"people": [', encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["directory", "import", str(path)])

    assert result.exit_code == 1
    assert "Le fichier n'est pas un JSON valide" in result.output
    record = session.scalar(select(DirectoryImport).order_by(DirectoryImport.id.desc()))
    assert record.source == "cassé.json" and record.file_error.startswith("Le fichier n'est pas un JSON valide")


def text(response) -> str:
    """A page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def upload(browser, content: bytes, filename: str = "annuaire.json"):
    """Send a file with the admin page's form."""
    token = csrf_token(browser.client, "/administration/annuaire")
    return browser.client.post("/administration/annuaire", content_type="multipart/form-data",
                               data={"csrf_token": token, "file": (io.BytesIO(content), filename)})


def test_the_admin_page_imports_an_upload_showing_progress_then_the_report(browser, session):
    browser.login("pilote")
    document = directory_file()

    response = upload(browser, json.dumps(document).encode("utf-8"))

    assert response.status_code == 200
    assert response.is_streamed
    page = text(response)
    assert "23 enregistrements traités sur 23 (100 %)" in page
    assert "Import terminé." in page
    record = session.scalar(select(DirectoryImport).order_by(DirectoryImport.id.desc()))
    assert record.source == "annuaire.json" and record.actor_id is not None
    assert f"/administration/annuaire/{record.id}" in page
    assert session.scalar(select(Establishment).where(Establishment.uai == "0440123V")) is not None

    report = text(browser.client.get(f"/administration/annuaire/{record.id}"))
    assert "Enregistrements rejetés (12)" in report
    assert "réseau : obligatoire" in report
    assert "en double dans le fichier (déjà lu en position 1)" in report

    second = text(upload(browser, json.dumps(document).encode("utf-8")))
    assert "Aucun changement : l'annuaire était déjà à jour." in second
    listing = text(browser.client.get("/administration/annuaire"))
    assert "0 créé, 0 mis à jour, 12 rejetés" in listing


def test_the_admin_page_reports_an_unreadable_upload_and_imports_nothing(browser, session):
    browser.login("pilote")
    before = snapshot(session)

    response = upload(browser, b"{pas du json", "cassé.json")

    assert response.status_code == 302
    page = text(browser.client.get(response.headers["Location"]))
    assert "Le fichier n'a pas pu être lu, rien n'a été importé" in page
    assert "Le fichier n'est pas un JSON valide" in page
    assert snapshot(session) == before


def test_the_admin_page_asks_for_a_file(browser):
    browser.login("pilote")
    token = csrf_token(browser.client, "/administration/annuaire")

    response = browser.client.post("/administration/annuaire", data={"csrf_token": token})

    assert response.status_code == 302
    page = text(browser.client.get("/administration/annuaire"))
    assert "Choisissez le fichier JSON de l'annuaire à importer." in page


def test_an_import_keeps_the_records_of_a_file_whose_other_records_are_broken(session):
    document = copy.deepcopy(directory_file())
    document["establishments"] = [None, 42, [], {"uai": 123}] + document["establishments"]

    report, _record = import_directory(session, document, source="abîmé.json")

    assert report.counts["establishment"]["rejected"] == 7
    assert report.counts["establishment"]["created"] == 3
    assert report.counts["role"]["created"] == 3


def test_an_unknown_field_is_ignored_and_noted_without_calling_for_a_correction(session):
    report, record = import_directory(session, {"establishments": [
        {"uai": "0440123V", "name": "Collège Saint-Félix", "department": "44", "network": "SGEC",
         "directeur": "Claire Guérin"}]}, source="champ.json")

    (entry,) = report.entries
    assert (entry.outcome, entry.flagged, entry.messages) == ("created", False,
                                                              ["champ inconnu ignoré : « directeur »"])
    assert record.entries == [entry.as_dict()]

"""One error model: engine refusals roll back before they leave, one handler answers them, views catch none."""
from __future__ import annotations

import ast
import builtins
import html
import importlib
from datetime import date, datetime
from pathlib import Path

import pytest
from flask import render_template_string
from sqlalchemy import select

from engine.campaign.campaigns import CampaignRefused, ProjectExists
from engine.campaign.trainings import RegistrationRefused, register
from engine.errors import Conflict, Forbidden, FormInvalid, NotFound, Refusal, refusing, rolls_back
from engine.models import Campaign, Document, TrainingSession
from engine.ops.operations import OperationRefused
from webapp.api.errors import ApiError
from webapp.refusals import answer_refusals, redirect_refusals

from conftest import principal_of
from test_processes import do
from test_trainings import BEFORE, plan, volunteers  # noqa: F401 - fixture
from test_uploads import at_volunteer_file, volunteer_file

ROOT = Path(__file__).resolve().parent.parent
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete", "before_request"}


# The engine: nothing half-written once a refusal leaves it.

def closed_campaign(school_year: str) -> Campaign:
    """A campaign row of no consequence, to write and see whether it stays."""
    return Campaign(school_year=school_year, pupil_count_year=school_year, submission_deadline=date(2040, 1, 15),
                    earliest_start=date(2040, 9, 1), latest_start=date(2040, 11, 1), opened_at=datetime(2039, 9, 1),
                    closed_at=datetime(2039, 9, 2))


def campaign_years(session) -> list[str]:
    return list(session.scalars(select(Campaign.school_year).where(Campaign.school_year.like("2039-%"))))


def test_a_refusal_leaving_a_block_rolls_its_session_back(session):
    with pytest.raises(Conflict), refusing(session):
        session.add(closed_campaign("2039-2040"))
        session.flush()
        raise Conflict("Trop tard.")
    assert not session.in_transaction()
    assert campaign_years(session) == []


def test_an_entry_point_rolls_back_on_a_refusal_and_only_then(session):
    @rolls_back
    def write(session, refuse: bool) -> None:
        session.add(closed_campaign("2039-2040"))
        session.flush()
        if refuse:
            raise FormInvalid({"school_year": ["Cette campagne existe déjà."]})

    with pytest.raises(FormInvalid):
        write(session, True)
    assert not session.in_transaction() and campaign_years(session) == []
    write(session, False)
    assert session.in_transaction() and campaign_years(session) == ["2039-2040"]


def test_a_full_session_refuses_after_taking_no_place(runtime, session, volunteers):
    training, _ = plan(runtime, session, capacity=1)
    first, second, _third = volunteers
    tuteur = principal_of(session, "tuteur.rennes")
    register(session, tuteur, training, BEFORE, mission=first)
    with pytest.raises(RegistrationRefused, match="complète"):
        register(session, tuteur, training, BEFORE, mission=second)
    # The conditional update of the counter ran before the refusal: it was rolled back with the rest.
    assert not session.in_transaction() and not (session.new or session.dirty or session.deleted)
    assert session.scalar(select(TrainingSession.registered).where(TrainingSession.id == training.id)) == 1


def test_a_form_refused_keeps_its_stored_file_and_nothing_else(runtime, session):
    instance = at_volunteer_file(runtime, session)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "volunteer_file", volunteer_file(weekly_hours=60))
    assert not session.in_transaction() and not (session.new or session.dirty or session.deleted)
    (document,) = session.scalars(select(Document).where(Document.instance_id == instance.id)).all()
    assert invalid.value.data["identity_document"]["document_id"] == document.id
    assert invalid.value.status == 422 and invalid.value.message == "Le formulaire contient des erreurs."


def test_each_refusal_carries_its_status_and_field_errors():
    assert [kind().status for kind in (Refusal, Forbidden, NotFound, Conflict, FormInvalid)] == [400, 403, 404, 409,
                                                                                                   422]
    assert FormInvalid({"__form__": ["Tout est faux."], "age": ["Trop jeune."]}).details() == [
        {"field": None, "message": "Tout est faux."}, {"field": "age", "message": "Trop jeune."}]
    assert OperationRefused("Indiquez le motif.", "reason").details() == [
        {"field": "reason", "message": "Indiquez le motif."}]
    assert (ApiError(415).status, ApiError(415).message) == (415, "Le corps de la requête doit être du JSON (en-tête "
                                                                  "« Content-Type: application/json »).")


# The web app: one handler, for pages and for the API.

class _Existing:
    id = 42


REFUSALS = {
    "conflit": lambda: Conflict("Ce dossier a changé entre-temps."),
    "interdit": lambda: Forbidden("Ce dossier ne relève pas de votre périmètre."),
    "introuvable": lambda: NotFound(),
    "formulaire": lambda: FormInvalid({"__form__": ["Le formulaire est incomplet."],
                                       "weekly_hours": ["La durée est trop longue."]}),
    "motif": lambda: OperationRefused("Indiquez le motif de la suspension.", "reason"),
    "jeton": lambda: ApiError(401),
    "existe": lambda: ProjectExists(_Existing()),
    "campagne": lambda: CampaignRefused("Aucune campagne n'est ouverte."),
}


@pytest.fixture
def refusing_app(app):
    """The app with routes that raise each refusal, as a page and in the API, declaring answers on demand."""

    def refuse(kind: str):
        from flask import request

        if request.args.get("retour"):
            redirect_refusals("/boite", CampaignRefused)
            redirect_refusals(lambda exists: f"/dossiers/{exists.instance.id}", ProjectExists, category="info")
        if request.args.get("formulaire"):
            answer_refusals(lambda invalid: (render_template_string(
                "{% for name, messages in errors.items() %}{{ name }} : {{ messages|join }}\n{% endfor %}",
                errors=invalid.errors), 422), FormInvalid)
        raise REFUSALS[kind]()

    app.add_url_rule("/essai/refus/<kind>", "refuse_page", refuse)
    app.add_url_rule("/api/essai/refus/<kind>", "refuse_api", refuse)
    return app


@pytest.mark.parametrize("kind, status, title, message", [
    ("conflit", 409, "Conflit", "Ce dossier a changé entre-temps."),
    ("interdit", 403, "Accès refusé", "Ce dossier ne relève pas de votre périmètre."),
    ("introuvable", 404, "Page introuvable", "Cette page n'existe pas ou plus."),
    ("formulaire", 422, "Saisie invalide", "Le formulaire contient des erreurs."),
    ("motif", 422, "Saisie invalide", "Indiquez le motif de la suspension."),
])
def test_a_page_answers_a_refusal_with_its_french_page_and_status(refusing_app, kind, status, title, message):
    response = refusing_app.test_client().get(f"/essai/refus/{kind}")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status and response.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in page and message in page


@pytest.mark.parametrize("kind, status, code, message, errors", [
    ("conflit", 409, "conflict", "Ce dossier a changé entre-temps.", []),
    ("interdit", 403, "forbidden", "Ce dossier ne relève pas de votre périmètre.", []),
    ("formulaire", 422, "invalid_data", "Le formulaire contient des erreurs.",
     [{"field": None, "message": "Le formulaire est incomplet."},
      {"field": "weekly_hours", "message": "La durée est trop longue."}]),
    ("motif", 422, "invalid_data", "Indiquez le motif de la suspension.",
     [{"field": "reason", "message": "Indiquez le motif de la suspension."}]),
    ("existe", 409, "conflict", "Un projet d'accueil existe déjà pour cette campagne.", []),
])
def test_the_api_answers_a_refusal_with_its_json_error_and_status(refusing_app, kind, status, code, message, errors):
    response = refusing_app.test_client().get(f"/api/essai/refus/{kind}")
    assert response.status_code == status
    assert response.json == {"status": status, "code": code, "message": message, "errors": errors}


def test_an_api_refusal_for_want_of_a_token_asks_for_one(refusing_app):
    response = refusing_app.test_client().get("/api/essai/refus/jeton")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_declared_answer_flashes_and_redirects_the_most_specific_first(refusing_app):
    client = refusing_app.test_client()
    response = client.get("/essai/refus/campagne?retour=1")
    assert (response.status_code, response.headers["Location"]) == (302, "/boite")
    with client.session_transaction() as flashed:
        assert flashed.pop("_flashes") == [("error", "Aucune campagne n'est ouverte.")]
    # A ProjectExists is a CampaignRefused too: its own answer wins.
    response = client.get("/essai/refus/existe?retour=1")
    assert (response.status_code, response.headers["Location"]) == (302, "/dossiers/42")
    with client.session_transaction() as flashed:
        assert flashed.pop("_flashes") == [("info", "Un projet d'accueil existe déjà pour cette campagne.")]
    # Refusals of other kinds still get the error page.
    assert client.get("/essai/refus/conflit?retour=1").status_code == 409


def test_a_declared_answer_shows_a_form_again_with_its_errors(refusing_app):
    response = refusing_app.test_client().get("/essai/refus/formulaire?formulaire=1")
    assert response.status_code == 422
    assert "weekly_hours : La durée est trop longue." in response.get_data(as_text=True)


# The views: they let refusals go, and never roll back themselves.

def view_modules() -> list[tuple[str, ast.Module]]:
    """Modules of the web app that declare routes (or hooks run before them), by dotted name, parsed."""
    found = []
    for path in sorted((ROOT / "webapp").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        decorators = [decorator for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                      for decorator in node.decorator_list]
        if any(isinstance(d, ast.Call | ast.Attribute) and _attribute_name(d) in ROUTE_DECORATORS
               for d in decorators):
            found.append((".".join(path.relative_to(ROOT).with_suffix("").parts), tree))
    return found


def _attribute_name(decorator: ast.expr) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return target.attr if isinstance(target, ast.Attribute) else None


def _resolve(node: ast.expr, namespace: dict):
    if isinstance(node, ast.Name):
        return namespace.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, namespace), node.attr, None)
    return None


def caught_refusals(tree: ast.Module, namespace: dict) -> list[str]:
    """`except` clauses of a module that name a refusal, as "line: names"."""
    found = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or handler.type is None:
            continue
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        caught = [_resolve(name, namespace) for name in names]
        if any(isinstance(kind, type) and issubclass(kind, Refusal) for kind in caught):
            found.append(f"{handler.lineno}: {ast.unparse(handler.type)}")
    return found


def rollbacks(tree: ast.Module) -> list[int]:
    """Lines of a module calling `rollback()`."""
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "rollback"]


def test_the_scan_sees_a_view_catching_a_refusal_or_rolling_back():
    tree = ast.parse("try:\n    pass\nexcept (ValueError, errors.Conflict):\n    session.rollback()\n")
    import engine.errors as errors

    assert caught_refusals(tree, {"errors": errors}) == ["3: (ValueError, errors.Conflict)"]
    assert rollbacks(tree) == [4]
    assert caught_refusals(ast.parse("try:\n    pass\nexcept ValueError:\n    pass\n"), {}) == []


def test_no_view_catches_a_refusal():
    modules = view_modules()
    assert len(modules) > 20, "les modules de vues n'ont pas été trouvés"
    caught = {name: found for name, tree in modules
              if (found := caught_refusals(tree, vars(importlib.import_module(name))))}
    assert caught == {}, "une vue intercepte un refus : déclarez sa réponse (webapp.refusals) au lieu d'un except"


def test_no_module_of_the_web_app_rolls_back_by_hand():
    found = {str(path.relative_to(ROOT)): lines for path in sorted((ROOT / "webapp").rglob("*.py"))
             if (lines := rollbacks(ast.parse(path.read_text(encoding="utf-8"))))}
    assert found == {}, "le moteur annule lui-même ce qu'il a commencé avant de refuser"

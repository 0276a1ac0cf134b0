"""The end-of-mission certificate, produced as a PDF once the report (bilan) is written."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from handlers.context import HandlerContext, HandlerError
from handlers.formats import date_fr

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_TEMPLATES.filters["date_fr"] = date_fr


def render_certificate_html(volunteer: dict, terms: dict, report: dict, establishment: dict, tutors: list[dict],
                            trainings: list[dict], today: date, mission: dict | None = None) -> str:
    """HTML of the certificate, from the volunteer file, the contract terms, the report and the trainings."""
    return _TEMPLATES.get_template("certificate.html").render(
        volunteer=volunteer, terms=terms, report=report, establishment=establishment, tutors=tutors,
        trainings=trainings, today=today, mission=mission or {},
    )


def generate_certificate(context: HandlerContext, volunteer: dict, contract_terms: dict, mission_report: dict,
                         establishment_id: int, place: dict, project: dict | None = None) -> dict:
    """Service task: record the mission as completed and produce its certificate as a PDF document."""
    from weasyprint import HTML  # imported here: loading pango takes a moment and only this task needs it

    establishment = context.directory.establishment(establishment_id)
    if establishment is None:
        raise HandlerError(f"Établissement {establishment_id} introuvable dans l'annuaire.")
    tutors = context.directory.people(establishment_id, ("tuteur", "cotuteur"))
    missions = context.require_missions()
    trainings = missions.mandatory_trainings(place["number"])
    html = render_certificate_html(volunteer, contract_terms, mission_report, establishment, tutors, trainings,
                                   context.today, project)
    stored = context.documents.store(
        "certificate",
        f"Attestation de fin de mission — {volunteer['first_name']} {volunteer['last_name']}",
        f"attestation-{volunteer['last_name']}-{volunteer['first_name']}.pdf".lower().replace(" ", "-"),
        "application/pdf",
        HTML(string=html).write_pdf(),
    )
    missions.close(place["number"], "completed", mission_report["actual_end_date"])
    return {"document_id": stored["id"], "filename": stored["filename"], "generated_on": context.today.isoformat()}

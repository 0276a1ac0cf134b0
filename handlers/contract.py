"""The Service Civique engagement contract, produced as a PDF."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from handlers.context import HandlerContext, HandlerError
from handlers.eligibility import months_between
from handlers.identifiers import display_phone
from handlers.rules import ELIGIBILITY, INDEMNITY

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def french_date(value: str | date) -> str:
    """A date as 28/11/2026."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime("%d/%m/%Y")


def french_amount(value: float) -> str:
    """An amount as 1 234,56 €."""
    return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


_TEMPLATES.filters["french_date"] = french_date
_TEMPLATES.filters["french_amount"] = french_amount
_TEMPLATES.filters["phone"] = display_phone


def render_contract_html(volunteer: dict, terms: dict, establishment: dict, tutors: list[dict], today: date,
                         mission: dict | None = None) -> str:
    """HTML of the contract, from the volunteer file, the terms and the directory."""
    indemnity = INDEMNITY["state_monthly"]
    increase = INDEMNITY["social_criteria_increase_monthly"] if volunteer.get("social_criteria") else 0.0
    return _TEMPLATES.get_template("contract.html").render(
        volunteer=volunteer,
        terms=terms,
        establishment=establishment,
        tutors=tutors,
        mission=mission or {},
        indemnity=indemnity,
        increase=increase,
        today=today,
    )


def generate_contract(context: HandlerContext, volunteer: dict, contract_terms: dict, establishment_id: int,
                      project: dict | None = None) -> dict:
    """Service task: produce the contract PDF, store it and record the contract."""
    from weasyprint import HTML  # imported here: loading pango takes a moment and only this task needs it

    establishment = context.directory.establishment(establishment_id)
    if establishment is None:
        raise HandlerError(f"Établissement {establishment_id} introuvable dans l'annuaire.")
    tutors = context.directory.people(establishment_id, ("tuteur", "cotuteur"))
    if not tutors:
        raise HandlerError("Aucun tuteur n'est désigné pour cet établissement dans l'annuaire : "
                           "le contrat ne peut pas être établi.")
    html = render_contract_html(volunteer, contract_terms, establishment, tutors, context.today, project)
    pdf = HTML(string=html).write_pdf()
    filename = f"contrat-{volunteer['last_name']}-{volunteer['first_name']}.pdf".lower().replace(" ", "-")
    stored = context.documents.store(
        "contract",
        f"Contrat d'engagement de Service Civique — {volunteer['first_name']} {volunteer['last_name']}",
        filename,
        "application/pdf",
        pdf,
    )
    context.contracts.record({
        "first_name": volunteer["first_name"],
        "last_name": volunteer["last_name"],
        "birth_date": volunteer["birth_date"],
        "email": volunteer.get("email"),
        "establishment_id": establishment_id,
        "start_date": contract_terms["contract_start_date"],
        "end_date": contract_terms["contract_end_date"],
    })
    return {"document_id": stored["id"], "filename": stored["filename"], "generated_on": context.today.isoformat()}


def contract_terms_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rule of the contract form: dates in order, length and host complement within the rules."""
    problems = []
    try:
        start = date.fromisoformat(form_data["contract_start_date"])
        end = date.fromisoformat(form_data["contract_end_date"])
    except (KeyError, ValueError):
        return problems
    if end <= start:
        problems.append(("contract_end_date", "La fin du contrat doit être postérieure à son début."))
    elif not ELIGIBILITY["min_duration_months"] - 0.01 <= months_between(start, end) <= ELIGIBILITY["max_duration_months"] + 0.01:
        problems.append(("contract_end_date", f"Le contrat doit durer entre {ELIGIBILITY['min_duration_months']} "
                                              f"et {ELIGIBILITY['max_duration_months']} mois."))
    amount = form_data.get("host_complement_amount")
    minimum = INDEMNITY["host_complement_min_monthly"]
    if isinstance(amount, (int, float)) and amount < minimum:
        problems.append(("host_complement_amount", f"La prestation de subsistance est d'au moins "
                                                   f"{french_amount(minimum)} par mois."))
    return problems

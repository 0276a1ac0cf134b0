"""The Service Civique engagement contract (step 6), produced as a PDF from an editable template.

The template is `handlers/templates/contract.html`, a Jinja HTML file that a
non-developer may edit (see docs/volontaire.md for the variables it receives). It
is rendered in a sandbox, then turned into a PDF by WeasyPrint. Each generation
is stored as a new version of the place's contract; earlier versions are kept.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from handlers.context import HandlerContext, HandlerError
from handlers.eligibility import (
    GUARDIAN_FIELDS,
    age_on,
    age_problems,
    birthday,
    campaign_problems,
    duration_problems,
    hours_problems,
)
from handlers.formats import date_fr, french_amount, slug
from handlers.identifiers import display_phone
from handlers.offer import DOMAINS
from handlers.rules import ELIGIBILITY, FEDERATION, INDEMNITY

__all__ = ["contract_terms_rules", "generate_contract", "render_contract_html", "contract_pdf",
           "signed_contract_rules"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
_TEMPLATES = SandboxedEnvironment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]))
_TEMPLATES.filters.update(long_date=date_fr, french_amount=french_amount, phone=display_phone)
SOCIAL_CRITERIA = {"grant_level_5": "boursier de l'enseignement supérieur (échelon 5 ou plus)",
                   "rsa": "membre d'un foyer bénéficiaire du RSA"}


def indemnities(volunteer: dict, terms: dict) -> dict:
    """Monthly amounts of the contract: State indemnity, social increase, host complement, total."""
    increase = (INDEMNITY["social_criteria_increase_monthly"]
                if volunteer.get("social_criteria") not in (None, "none", False) else 0.0)
    host = float(terms.get("host_complement_amount") or INDEMNITY["host_complement_min_monthly"])
    return {"state": INDEMNITY["state_monthly"], "increase": increase, "host": host,
            "host_in_kind": bool(terms.get("host_complement_in_kind")),
            "total": round(INDEMNITY["state_monthly"] + increase + host, 2),
            "social_criteria": SOCIAL_CRITERIA.get(volunteer.get("social_criteria", ""))}


AGREEMENT_MISSING = ("Le numéro d'agrément Service Civique de la campagne {year} n'est pas renseigné : aucun contrat ne "
                     "peut être établi sans lui. L'administrateur de la plateforme l'indique dans Administration › "
                     "Campagnes, colonne « Numéro d'agrément ».")


def agreement_number_of(campaign: dict | None) -> str | None:
    """The agrément number to print on the instance's contracts, None when the campaign has none."""
    return (campaign or {}).get("agreement_number") or None


def agreement_problem(campaign: dict | None) -> str | None:
    """Why no contract can be generated in this campaign for want of an agrément number, in French, or None.

    An instance of a campaign the platform has no record of (imported from before campaigns were kept) has no
    page where the number could be set: its contract leaves a line to fill in by hand, as the window rule of
    `campaign_problems` does not apply to it either.
    """
    if campaign is None or agreement_number_of(campaign):
        return None
    return AGREEMENT_MISSING.format(year=campaign["school_year"])


def render_contract_html(volunteer: dict, terms: dict, establishment: dict, tutors: list[dict], today: date,
                         mission: dict | None = None, structure: dict | None = None, version: int = 1,
                         agreement_number: str | None = None) -> str:
    """HTML of the contract, from the volunteer file, the terms, the project, the directory and the campaign.

    The gestionnaire's internal remarks (`terms["notes"]`) are not passed to the template: they never appear on
    the contract, whatever the template says.
    """
    start = terms.get("contract_start_date") or volunteer["start_date"]
    age = age_on(date.fromisoformat(volunteer["birth_date"]), date.fromisoformat(start))
    mission = dict(mission or {})
    mission["theme_label"] = DOMAINS.get(volunteer.get("mission_theme") or mission.get("theme", ""), "")
    printed_terms = {name: value for name, value in terms.items() if name != "notes"}
    return _TEMPLATES.get_template("contract.html").render(
        federation=FEDERATION, agreement_number=agreement_number, structure=structure, establishment=establishment,
        volunteer=volunteer, terms=printed_terms,
        tutors=tutors, mission=mission, amounts=indemnities(volunteer, terms), minor=age < ELIGIBILITY["adult_age"],
        age=age, today=today, version=version,
    )


def contract_pdf(html: str) -> bytes:
    """The PDF of a rendered contract."""
    from weasyprint import HTML  # imported here: loading pango takes a moment and only documents need it

    return HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf()


def chosen_tutors(context: HandlerContext, establishment_id: int, volunteer: dict) -> list[dict]:
    """The tuteur and cotuteur chosen in the volunteer file, as the directory knows them now."""
    people = {person["login"]: person for person in context.directory.tutors(establishment_id)}
    chosen = []
    for name, label in (("tutor", "Tuteur"), ("cotutor", "Cotuteur")):
        login = volunteer.get(name)
        if login and login in people:
            chosen.append({**people[login], "role_label": label})
    if not chosen or chosen[0]["role_label"] != "Tuteur":
        raise HandlerError("Le tuteur choisi dans le dossier du volontaire n'est plus tuteur ou cotuteur de "
                           "l'établissement dans l'annuaire : le contrat ne peut pas être établi.")
    return chosen


def generate_contract(context: HandlerContext, volunteer: dict, contract_terms: dict, establishment_id: int,
                      project: dict | None = None, place: dict | None = None,
                      structure_code: str | None = None) -> dict:
    """Service task: produce the contract PDF as a new version of the place's contract, and record the contract.

    Refused (an incident saying where to set it) while the campaign has no agrément number.
    """
    if (problem := agreement_problem(context.campaign)) is not None:
        raise HandlerError(problem)
    establishment = context.directory.establishment(establishment_id)
    if establishment is None:
        raise HandlerError(f"Établissement {establishment_id} introuvable dans l'annuaire.")
    tutors = chosen_tutors(context, establishment_id, volunteer)
    structure = context.directory.structure(structure_code) if structure_code else None
    number = place.get("number") if isinstance(place, dict) else None
    series = f"contract/place-{number}" if number is not None else "contract"
    # The contract prints its version: recording it first gives the version in the same statement.
    version = context.contracts.record({
        "first_name": volunteer["first_name"],
        "last_name": volunteer["last_name"],
        "birth_date": volunteer["birth_date"],
        "email": volunteer.get("email"),
        "establishment_id": establishment_id,
        "start_date": contract_terms["contract_start_date"],
        "end_date": contract_terms["contract_end_date"],
        "place": number,
    }, series)
    html = render_contract_html(volunteer, contract_terms, establishment, tutors, context.today, project,
                                structure, version, agreement_number_of(context.campaign))
    name = slug(f"{volunteer['last_name']} {volunteer['first_name']}")
    stored = context.documents.store(
        "contract",
        f"Contrat d'engagement de Service Civique — {volunteer['first_name']} {volunteer['last_name']}",
        f"contrat-{name}-v{version}.pdf",
        "application/pdf",
        contract_pdf(html),
        series=series,
        place=number,
        version=version,
    )
    age = age_on(date.fromisoformat(volunteer["birth_date"]), date.fromisoformat(contract_terms["contract_start_date"]))
    return {"document_id": stored["id"], "filename": stored["filename"], "version": version,
            "generated_on": context.today.isoformat(), "minor": age < ELIGIBILITY["adult_age"]}


def contract_terms_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rules of the contract terms: an agrément number to print, the eligibility rules on the contract's dates
    (the minor's weekly hours included), and the host complement."""
    agreement = agreement_problem(context.campaign)
    problems: list[tuple] = [("", agreement)] if agreement else []
    try:
        start = date.fromisoformat(form_data["contract_start_date"])
        end = date.fromisoformat(form_data["contract_end_date"])
        birth = date.fromisoformat(task_data["volunteer"]["birth_date"])
    except (KeyError, TypeError, ValueError):
        return problems
    volunteer = task_data["volunteer"]
    age = age_on(birth, start)
    fields = {"birth_date": "contract_start_date", "start_date": "contract_start_date", "end_date": "contract_end_date",
              "weekly_hours": "contract_start_date"}
    problems += [(fields[name], message) for name, message in
                 [*age_problems(volunteer, birth, start), *campaign_problems(context.campaign, start),
                  *duration_problems(start, end), *hours_problems(volunteer, age)]]
    # A start earlier than the file's can make the volunteer a minor the file did not have to describe as one.
    missing = [what for name, what in GUARDIAN_FIELDS if not volunteer.get(name)]
    if age < ELIGIBILITY["adult_age"] and missing:
        problems.append(("contract_start_date", f"Le volontaire aura {age} ans le {date_fr(start)} : le contrat d'un "
                                                f"mineur nomme son représentant légal, dont le dossier ne donne pas "
                                                f"{', '.join(missing)} : choisissez un début à partir du "
                                                f"{date_fr(birthday(birth, ELIGIBILITY['adult_age']))}."))
    amount = form_data.get("host_complement_amount")
    minimum = INDEMNITY["host_complement_min_monthly"]
    if isinstance(amount, (int, float)) and amount < minimum:
        problems.append(("host_complement_amount", f"La prestation de subsistance est d'au moins "
                                                   f"{french_amount(minimum)} par mois."))
    return problems


def signed_contract_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rules of the signed copy: it was sent for the current version of the contract, and anew when asked."""
    signed = form_data.get("signed_contract")
    document_id = signed.get("document_id") if isinstance(signed, dict) else None
    if document_id is None:
        return []
    contract = task_data.get("contract") or {}
    # Document ids grow with time: a copy stored before the current contract was signed on an older version.
    if contract.get("document_id") and document_id < contract["document_id"]:
        return [("signed_contract", f"Déposez la copie signée de la version {contract.get('version')} du contrat : "
                                    "le fichier joint a été déposé pour une version précédente.")]
    review = task_data.get("contract_review") or {}
    previous = ((task_data.get("signature") or {}).get("signed_contract") or {}).get("document_id")
    if review.get("decision") == "resend" and document_id == previous:
        return [("signed_contract", "Le gestionnaire a demandé une nouvelle copie signée : déposez un autre fichier.")]
    return []

"""Completeness of the school file, required before a hosting project is submitted."""
from __future__ import annotations

from handlers.context import HandlerContext, HandlerError
from handlers.identifiers import (
    phone_problem,
    postal_code_problem,
    siret_problem,
    uai_department_problem,
    uai_problem,
)
from handlers.rules import SCHOOL_FILE_FIX

FIELD_LABELS = {
    "ogec_name": "Nom exact de l'OGEC",
    "address": "Adresse exacte de l'OGEC",
    "siret": "SIRET de l'OGEC",
    "phone": "Téléphone de l'OGEC",
    "uai": "Code RNE/UAI",
    "pupil_count": "Effectif d'élèves à la rentrée",
}
# Items of the OGEC, the managing association, as opposed to the school's own (UAI, pupil count).
OGEC_FIELDS = ("ogec_name", "address", "siret", "phone")
# The OGEC's file is kept by Isidoor for the association, whichever of its schools shows the problem.
OGEC_FIX = (
    "à corriger dans le dossier de l'OGEC, par le support Isidoor (support@isidoor.org) ou l'Udogec du territoire"
)


def school_year_start(school_year: str | None) -> str | None:
    """The calendar year a school year starts in (« 2026-2027 » → « 2026 »), as « rentrée 2026 » reads."""
    return school_year.split("-")[0] if school_year else None


def pupil_count_for(establishment: dict, school_year: str | None) -> tuple[int | None, str | None]:
    """The pupil count a campaign reads and the school year it refers to.

    By default (`school_year` None) the latest count known and its year: the
    count of the missions' year does not exist yet when projects are submitted.
    With `school_year`, a campaign's explicit requirement, the count of that
    year when the directory gave one (the establishment's latest count, else
    its `pupil_counts` by year); when that year is unknown, the latest count
    and its year, so that the caller can say which year the file holds.
    """
    latest = (establishment.get("pupil_count"), establishment.get("pupil_count_year"))
    if school_year is None or latest[1] == school_year:
        return latest
    counts = establishment.get("pupil_counts") or {}
    if school_year in counts:
        return counts[school_year], school_year
    return latest


def school_file_problems(establishment: dict, pupil_count_year: str | None = None) -> list[dict]:
    """Items of the school file that are missing or invalid, each with who fixes it.

    `pupil_count_year` is the school year whose pupil count a campaign
    requires (None: the latest known count will do): without a count of that
    year (in the file or its `pupil_counts` by year), a count of another year
    is flagged as to be updated. Each item has the field, a French label,
    whether the value is absent or present but wrong (`state`: "missing",
    "invalid" or "outdated"), whether it is the OGEC's (`ogec`) and who fixes
    it: the OGEC's items through Isidoor support or the Udogec.
    """
    problems = []

    def flag(field: str, state: str, detail: str | None = None) -> None:
        label = FIELD_LABELS[field] + (f" : {detail}" if detail else " : non renseigné")
        ogec = field in OGEC_FIELDS
        problems.append({"field": field, "label": label, "state": state, "ogec": ogec,
                         "fix": OGEC_FIX if ogec else SCHOOL_FILE_FIX})

    if not (establishment.get("ogec_name") or "").strip():
        flag("ogec_name", "missing")
    if not all((establishment.get(k) or "").strip() for k in ("address", "postal_code", "city")):
        flag("address", "missing", "adresse, code postal ou commune manquant")
    else:
        problem = postal_code_problem(establishment["postal_code"], establishment.get("department"))
        if problem is not None:
            flag("address", "invalid", f"{problem} (« {establishment['postal_code']} »)")
    siret = establishment.get("siret")
    if not siret:
        flag("siret", "missing")
    elif (problem := siret_problem(siret)) is not None:
        flag("siret", "invalid", f"{problem} (« {siret} »)")
    phone = establishment.get("phone")
    if not phone:
        flag("phone", "missing")
    elif phone_problem(phone) is not None:
        flag("phone", "invalid", f"numéro non valide (« {phone} »)")
    problem = uai_problem(establishment.get("uai"))
    if problem is not None:
        flag("uai", "missing" if not establishment.get("uai") else "invalid", problem)
    elif (problem := uai_department_problem(establishment["uai"], establishment.get("department"))) is not None:
        flag("uai", "invalid", f"à corriger, {problem}")
    pupils, year = pupil_count_for(establishment, pupil_count_year)
    if pupils is None:
        flag("pupil_count", "missing")
    elif pupils <= 0:
        flag("pupil_count", "invalid", "l'effectif doit être positif")
    elif pupil_count_year and year != pupil_count_year:
        flag("pupil_count", "outdated",
             f"à mettre à jour (effectif de l'année {year or 'non précisée'}, "
             f"la campagne retient l'année {pupil_count_year})")
    return problems


def campaign_school_file(context: HandlerContext, establishment_id: int) -> dict | None:
    """The school file as the instance's campaign reads it, with the pupil counts by year; None if unknown."""
    establishment = context.directory.establishment(establishment_id)
    if establishment is None:
        return None
    return {**establishment, "pupil_counts": context.directory.pupil_counts(establishment_id)}


def _campaign_year(context: HandlerContext) -> str | None:
    return context.campaign["pupil_count_year"] if context.campaign else None


def check_school_file(context: HandlerContext, establishment_id: int) -> dict:
    """Service task: tell whether the school file is complete, and what is missing."""
    establishment = campaign_school_file(context, establishment_id)
    if establishment is None:
        raise HandlerError(f"Établissement {establishment_id} introuvable dans l'annuaire.")
    missing = school_file_problems(establishment, _campaign_year(context))
    # The quota decision reads this count: the one of the campaign's year.
    pupils, year = pupil_count_for(establishment, _campaign_year(context))
    return {
        "complete": not missing,
        "missing": missing,
        "pupil_count": pupils,
        "pupil_count_year": year,
        "department": establishment["department"],
        "checked_on": context.today.isoformat(),
    }


def require_complete_school_file(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rule of the project form: a project cannot be submitted while the school file is incomplete."""
    establishment = campaign_school_file(context, task_data["establishment_id"])
    missing = school_file_problems(establishment or {}, _campaign_year(context))
    if not missing:
        return []
    fixes = []
    for fix in (OGEC_FIX, SCHOOL_FILE_FIX):
        items = " ; ".join(item["label"] for item in missing if item["fix"] == fix)
        if items:
            fixes.append(f"{items} : {fix}")
    return [(None, f"Le dossier de l'établissement est incomplet ({' ; '.join(fixes)}). "
                   "Le projet ne peut pas être déposé tant qu'il n'est pas complet ; votre saisie est conservée.")]

"""Completeness of the school file, required before a hosting project is submitted."""
from __future__ import annotations

from handlers.context import HandlerContext, HandlerError
from handlers.identifiers import normalise_phone, siret_problem, uai_problem
from handlers.rules import SCHOOL_FILE_FIX

FIELD_LABELS = {
    "ogec_name": "Nom exact de l'OGEC",
    "address": "Adresse exacte de l'OGEC",
    "siret": "SIRET de l'OGEC",
    "phone": "Téléphone de l'établissement",
    "uai": "Code RNE/UAI",
    "pupil_count": "Effectif d'élèves à la rentrée",
}


def school_file_problems(establishment: dict) -> list[dict]:
    """Items of the school file that are missing or invalid, each with who fixes it."""
    problems = []

    def flag(field: str, detail: str | None = None) -> None:
        label = FIELD_LABELS[field] + (f" : {detail}" if detail else " : non renseigné")
        problems.append({"field": field, "label": label, "fix": SCHOOL_FILE_FIX})

    if not establishment.get("ogec_name"):
        flag("ogec_name")
    if not all(establishment.get(k) for k in ("address", "postal_code", "city")):
        flag("address", "adresse, code postal ou commune manquant")
    siret = establishment.get("siret")
    problem = siret_problem(siret)
    if problem is not None:
        flag("siret", None if not siret else problem)
    if not establishment.get("phone"):
        flag("phone")
    elif normalise_phone(establishment["phone"]) is None:
        flag("phone", "numéro non valide")
    problem = uai_problem(establishment.get("uai"))
    if problem is not None:
        flag("uai", problem)
    pupils = establishment.get("pupil_count")
    if pupils is None:
        flag("pupil_count")
    elif pupils <= 0:
        flag("pupil_count", "l'effectif doit être positif")
    return problems


def check_school_file(context: HandlerContext, establishment_id: int) -> dict:
    """Service task: tell whether the school file is complete, and what is missing."""
    establishment = context.directory.establishment(establishment_id)
    if establishment is None:
        raise HandlerError(f"Établissement {establishment_id} introuvable dans l'annuaire.")
    missing = school_file_problems(establishment)
    return {
        "complete": not missing,
        "missing": missing,
        "pupil_count": establishment.get("pupil_count"),
        "department": establishment["department"],
        "checked_on": context.today.isoformat(),
    }


def require_complete_school_file(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rule of the project form: a project cannot be submitted while the school file is incomplete."""
    establishment = context.directory.establishment(task_data["establishment_id"])
    missing = school_file_problems(establishment or {})
    if not missing:
        return []
    items = " ; ".join(item["label"] for item in missing)
    return [(None, f"Le dossier de l'établissement est incomplet ({items}) : {SCHOOL_FILE_FIX}. "
                   "Le projet ne peut pas être déposé tant qu'il n'est pas complet.")]

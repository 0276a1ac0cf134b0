"""The mission offer, prepared for publication on the official Service Civique site."""
from __future__ import annotations

from datetime import date

from handlers.context import HandlerContext, HandlerError

DOMAINS = {
    "solidarite": "Solidarité",
    "sante": "Santé",
    "education": "Éducation pour tous",
    "culture_loisirs": "Culture et loisirs",
    "sport": "Sport",
    "environnement": "Environnement",
    "memoire_citoyennete": "Mémoire et citoyenneté",
    "developpement_international": "Développement international et action humanitaire",
}


def prepare_mission_offer(context: HandlerContext, project: dict, establishment_id: int, places: int) -> dict:
    """Service task: the fields of the offer as the official site asks them, and its text."""
    establishment = context.directory.establishment(establishment_id)
    if establishment is None:
        raise HandlerError(f"Établissement {establishment_id} introuvable dans l'annuaire.")
    start = date.fromisoformat(project["desired_start_date"])
    offer = {
        "title": project["title"],
        "domain": DOMAINS.get(project["theme"], project["theme"]),
        "description": project["description"],
        "activities": project["activities"],
        "places": places,
        "start_date": start.isoformat(),
        "duration_months": project["duration_months"],
        "weekly_hours": project["weekly_hours"],
        "open_to_minors": bool(project.get("open_to_minors")),
        "reduced_mobility_access": bool(project.get("reduced_mobility_access")),
        "organisation": establishment["name"],
        "organisation_siret": establishment.get("siret"),
        "address": establishment.get("address"),
        "postal_code": establishment.get("postal_code"),
        "city": establishment.get("city"),
        "department": establishment["department"],
    }
    offer["text"] = (
        f"{offer['title']} — {offer['organisation']}, {offer['city']} ({offer['department']})\n"
        f"Domaine : {offer['domain']}\n"
        f"{offer['places']} place(s), à partir du {start.strftime('%d/%m/%Y')}, "
        f"{offer['duration_months']} mois, {offer['weekly_hours']} h par semaine\n\n"
        f"{offer['description']}\n\nActivités : {offer['activities']}"
    )
    return offer

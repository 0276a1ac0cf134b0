"""The mission offer (step 3), laid out field by field as the official Service Civique site asks for it.

There is no API to publish on service-civique.gouv.fr: the référent copies each
field into the site's form (the task page has a copy button beside each one, and
one for the whole text), then records the offer's reference and address.
"""
from __future__ import annotations

from datetime import date, timedelta

from handlers.context import HandlerContext, HandlerError
from handlers.eligibility import add_months
from handlers.formats import french_date
from handlers.identifiers import display_phone
from handlers.rules import FEDERATION

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


def _yes_no(value) -> str:
    return "Oui" if value else "Non"


def offer_fields(offer: dict) -> list[dict]:
    """The offer's fields in the order of the official site's form, each with its label and text to copy."""
    contact = offer.get("contact") or {}
    place = ", ".join(part for part in (offer.get("address"), f"{offer.get('postal_code') or ''} "
                                        f"{offer.get('city') or ''}".strip()) if part)
    fields = [
        ("title", "Titre de la mission", offer["title"]),
        ("domain", "Domaine d'action", offer["domain"]),
        ("description", "Description de la mission", offer["description"]),
        ("activities", "Activités du volontaire", offer["activities"]),
        ("start_date", "Date de début", french_date(offer["start_date"])),
        ("end_date", "Date de fin", french_date(offer["end_date"])),
        ("duration", "Durée de la mission", f"{offer['duration_months']} mois"),
        ("weekly_hours", "Durée hebdomadaire", f"{offer['weekly_hours']} heures par semaine"),
        ("places", "Nombre de volontaires recherchés", str(offer["places"])),
        ("place", "Lieu de la mission", place),
        ("department", "Département", offer["department"]),
        ("organisation", "Organisme d'accueil", offer["organisation"]),
        ("siret", "SIRET de l'organisme", offer.get("organisation_siret") or ""),
        ("agreement", "Organisme agréé", FEDERATION["name"]),
        ("contact", "Contact", ", ".join(part for part in (contact.get("name"), contact.get("email"),
                                                           display_phone(contact.get("phone")) if contact.get("phone")
                                                           else None) if part)),
        ("open_to_minors", "Ouverte aux mineurs dès 16 ans", _yes_no(offer["open_to_minors"])),
        ("reduced_mobility_access", "Accessible aux personnes à mobilité réduite",
         _yes_no(offer["reduced_mobility_access"])),
    ]
    return [{"name": name, "label": label, "value": value} for name, label, value in fields]


def offer_text(fields: list[dict]) -> str:
    """The whole offer as one text, a field per paragraph."""
    return "\n\n".join(f"{field['label']} : {field['value']}" for field in fields)


def prepare_mission_offer(context: HandlerContext, project: dict, establishment_id: int, places: int) -> dict:
    """Service task: the fields of the offer as the official site asks them, ready to copy, and its whole text."""
    establishment = context.directory.establishment(establishment_id)
    if establishment is None:
        raise HandlerError(f"Établissement {establishment_id} introuvable dans l'annuaire.")
    start = date.fromisoformat(project["desired_start_date"])
    referents = context.directory.people(establishment_id, ("referent",))
    contact = referents[0] if referents else {}
    offer = {
        "title": project["title"],
        "domain": DOMAINS.get(project["theme"], project["theme"]),
        "description": project["description"],
        "activities": project["activities"],
        "places": places,
        "start_date": start.isoformat(),
        "end_date": (add_months(start, int(project["duration_months"])) - timedelta(days=1)).isoformat(),
        "duration_months": project["duration_months"],
        "weekly_hours": project["weekly_hours"],
        "open_to_minors": bool(project.get("open_to_minors")),
        "reduced_mobility_access": bool(project.get("reduced_mobility_access")),
        "organisation": f"{establishment['name']} ({establishment.get('ogec_name') or establishment['name']})",
        "organisation_siret": establishment.get("siret"),
        "address": establishment.get("address"),
        "postal_code": establishment.get("postal_code"),
        "city": establishment.get("city"),
        "department": establishment["department"],
        "contact": {"name": contact.get("name"), "email": contact.get("email"), "phone": contact.get("phone")},
    }
    offer["fields"] = offer_fields(offer)
    offer["text"] = offer_text(offer["fields"])
    return offer

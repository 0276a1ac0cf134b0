"""Personal data are declared in the forms: marks are well formed, and a volunteer's form marks what names a person.

A form that collects a volunteer's data says so (`"x-personal-data": "volontaire"`
at its top level); each of its fields whose name or format suggests a person's
data (name, birth, email, phone, address, a document…) must then carry
`"x-personal": true` (exported and anonymised) or `"x-personal": false` (holds
none). A user task whose form marks fields keeps them under its `variableName`:
without one they would mix with the dossier's data and never be anonymised.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.campaign.retention import mark_problem
from engine.forms import FILE_FORMAT, PERSONAL, PERSONAL_DATA
from engine.validation.forms import form_name
from engine.validation.model import Definitions, text_of
from engine.validation.problems import Problem

# The people whose forms the platform knows how to export and anonymise.
SUBJECTS = ("volontaire",)
# Words of a field's name that suggest a person's data, with what the analyst reads about it.
_SUGGESTIVE_WORDS = {
    "name": "un nom", "nom": "un nom", "prenom": "un prénom", "birth": "une naissance", "naissance": "une naissance",
    "email": "une adresse électronique", "mail": "une adresse électronique", "phone": "un numéro de téléphone",
    "telephone": "un numéro de téléphone", "address": "une adresse", "adresse": "une adresse",
    "postal": "une adresse", "city": "une adresse", "commune": "une adresse", "nationality": "une nationalité",
    "nationalite": "une nationalité", "guardian": "les données d'un représentant légal",
    "identity": "une pièce d'identité", "identite": "une pièce d'identité", "disability": "un handicap",
    "handicap": "un handicap", "health": "une donnée de santé", "medical": "une donnée de santé",
    "social": "une situation sociale",
}
_SUGGESTIVE_FORMATS = {"email": "une adresse électronique", FILE_FORMAT: "un document joint"}


def check_personal_marks(definitions: Definitions) -> Iterator[Problem]:
    """Marks are well formed; a volunteer's form marks every field that suggests a person's data."""
    for name, schema in definitions.forms.items():
        if not name.endswith(".schema.json") or not isinstance(schema, dict):
            continue
        subject = schema.get(PERSONAL_DATA)
        if subject is not None and subject not in SUBJECTS:
            yield Problem("personal.subject", name,
                          f"« {PERSONAL_DATA} » vaut « {subject} », que la plateforme ne connaît pas : écrivez "
                          f"{' ou '.join(f'« {known} »' for known in SUBJECTS)}.")
        properties = schema.get("properties")
        for field, spec in (properties.items() if isinstance(properties, dict) else ()):
            if not isinstance(spec, dict):
                continue
            if PERSONAL in spec and (problem := mark_problem(spec[PERSONAL])) is not None:
                yield Problem("personal.mark", name, f"le champ « {field} » : {problem}")
            elif subject is not None and PERSONAL not in spec and (why := suggestion(field, spec)) is not None:
                yield Problem("personal.unmarked", name,
                              f"le champ « {field} » semble contenir {why} : ajoutez \"x-personal\": true pour "
                              "qu'il soit exporté et anonymisé avec les données du volontaire (ou "
                              "\"x-personal\": false s'il ne contient aucune donnée personnelle).")


def suggestion(field: str, spec: dict) -> str | None:
    """What a field's name or format suggests it holds about a person (French), or None."""
    if spec.get("format") in _SUGGESTIVE_FORMATS:
        return _SUGGESTIVE_FORMATS[spec["format"]]
    for word in field.lower().split("_"):
        if word in _SUGGESTIVE_WORDS:
            return _SUGGESTIVE_WORDS[word]
    return None


def check_personal_variables(definitions: Definitions) -> Iterator[Problem]:
    """A user task whose form marks personal fields stores them under a variable of their own."""
    for task in definitions.nodes("userTask"):
        schema = definitions.forms.get(f"forms/{form_name(task)[0]}")
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict) or not any(
                isinstance(spec, dict) and spec.get(PERSONAL) not in (None, False) for spec in properties.values()):
            continue
        if not text_of(task.spiff("spiffworkflow:variableName")):
            yield Problem("personal.variable", task.file,
                          "le formulaire de la tâche marque des données personnelles, mais la tâche n'a pas de "
                          "variableName : ajoutez-en une (« Nom de la variable » dans le modeleur), sans quoi ces "
                          "champs, mêlés aux autres données du dossier, ne seraient jamais anonymisés.",
                          task.id, task.name, task.line)

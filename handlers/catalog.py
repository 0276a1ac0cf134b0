"""What each service-task handler expects, described for analysts and for the validator.

A service task names a handler (`serviceTaskOperator id="<handler>"`) and gives
each of its parameters as a Python expression on the instance data. This
catalogue says, for every handler of `handlers.HANDLERS`, which parameters it
needs, which it accepts, and what it returns: the validator refuses a service
task that forgets a required parameter or gives one the handler does not know,
and the analyst guide (docs/guide-analyste.md) repeats it in French.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One parameter of a handler: its name, the BPMN `type`, what it holds (French), whether it is needed."""

    name: str
    type: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class HandlerDescription:
    """A handler as an analyst sees it: what it does, its parameters, what its result variable holds."""

    name: str
    summary: str
    parameters: tuple[Parameter, ...]
    result: str = ""
    # What the handler derives from a person's data, exported and anonymised like the forms' `x-personal` fields
    # (`engine.campaign.personal_marks`): fields of its result variable, kinds of the documents it stores.
    personal_result_fields: tuple[str, ...] = ()
    personal_documents: tuple[str, ...] = ()
    # Whether the instance is claimed before the handler runs (`engine.runtime.store.InstanceStore.claim`): a
    # handler writing rows a concurrent change of the same dossier could write too (a document version, a contract,
    # a training session) must see that change turned away first. One that only reads, or only adds rows of its
    # own (a notification), leaves the check to the save: one statement less.
    claims_instance: bool = True

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the parameters a service task must give."""
        return tuple(p.name for p in self.parameters if p.required)

    @property
    def accepted(self) -> tuple[str, ...]:
        """Names of every parameter the handler accepts."""
        return tuple(p.name for p in self.parameters)


_ESTABLISHMENT = Parameter("establishment_id", "int", "identifiant de l'établissement (`establishment_id`)")
_VOLUNTEER = Parameter("volunteer", "dict", "dossier du volontaire (`volunteer`)")
_TERMS = Parameter("contract_terms", "dict", "termes du contrat (`contract_terms`)")
_PLACE = Parameter("place", "dict", "place du parcours (`place`, avec son numéro)")

HANDLER_CATALOG: dict[str, HandlerDescription] = {description.name: description for description in (
    HandlerDescription(
        "check_school_file", "Vérifie que la fiche de l'établissement est complète et dit ce qui manque.",
        (_ESTABLISHMENT,),
        "`complete`, `missing` (libellé et correction de chaque manque), `pupil_count`, `department`",
        claims_instance=False),
    HandlerDescription(
        "locate_reviewers", "Trouve l'Udogec et l'Urogec dédiées au Service Civique qui couvrent un département, et "
                            "la Fnogec.",
        (Parameter("department", "str", "département de l'établissement (`school_file[\"department\"]`)"),),
        "`udogec`, `urogec`, `fnogec` : code de chaque structure, ou `None`", claims_instance=False),
    HandlerDescription(
        "prepare_mission_offer", "Prépare l'offre de mission telle que le site officiel la demande.",
        (Parameter("project", "dict", "projet d'accueil (`project`)"), _ESTABLISHMENT,
         Parameter("places", "int", "nombre de places offertes")),
        "champs de l'offre (`fields`) et texte complet (`text`)", claims_instance=False),
    HandlerDescription(
        "check_eligibility", "Vérifie l'éligibilité du volontaire et des termes de sa mission.",
        (_VOLUNTEER, Parameter("establishment_id", "int", "identifiant de l'établissement (tuteurs)", False)),
        "`eligible` et `problems` (champ et message de chaque règle non respectée)", claims_instance=False),
    HandlerDescription(
        "generate_contract", "Produit le contrat d'engagement en PDF (nouvelle version) et l'enregistre.",
        (_VOLUNTEER, _TERMS, _ESTABLISHMENT,
         Parameter("project", "dict", "projet d'accueil (`project`)", False),
         Parameter("place", "dict", "place du parcours (`place`)", False),
         Parameter("structure_code", "str", "structure gestionnaire du contrat (`review_structure`)", False)),
        "`document_id`, `filename`, `version`, `minor`",
        personal_result_fields=("filename",), personal_documents=("contract",)),
    HandlerDescription(
        "notify_referents", "Envoie un courriel aux référents de l'établissement.",
        (_ESTABLISHMENT, Parameter("subject", "str", "objet du courriel"),
         Parameter("message", "str", "texte du courriel")),
        "`sent_to` (adresses), `sent_on`", claims_instance=False),
    HandlerDescription(
        "invite_participants", "Ouvre les inscriptions d'une session et invite volontaires ou tuteurs du territoire.",
        (Parameter("structure_code", "str", "structure organisatrice (`structure_code`)"),
         Parameter("session", "dict", "session planifiée (`session`)")),
        "`session_id`, `invited`, `count` (personnes invitées), `capacity`",
        personal_result_fields=("invited",)),
    HandlerDescription(
        "close_training_session", "Clôt une session de formation ; inscriptions et présences restent.",
        (Parameter("invitations", "dict", "résultat de l'invitation (`invitations`)"),),
        "`registered` (inscrits), `attended` (présents)"),
    HandlerDescription(
        "plan_follow_up", "Ouvre le suivi de la mission et calcule son calendrier (mi-mission, bilan, relances).",
        (_VOLUNTEER, _TERMS, _PLACE,
         Parameter("review_structure", "str", "structure gestionnaire du contrat", False)),
        "`start_date`, `end_date` et les échéances lues par les minuteries de `follow_up.bpmn`"),
    HandlerDescription(
        "prepare_follow_up", "Prépare le suivi du mois : formations obligatoires suivies ou non.",
        (_PLACE,), "`opened_on`, `trainings`", claims_instance=False),
    HandlerDescription(
        "remind_overdue_follow_up", "Relance tuteurs, cotuteurs et référents d'un suivi mensuel en retard.",
        (_ESTABLISHMENT, _VOLUNTEER, Parameter("follow_up_month", "dict", "suivi du mois (`follow_up_month`)")),
        "`sent_to` (adresses), `sent_on`", claims_instance=False),
    HandlerDescription(
        "end_mission_early", "Enregistre la fin anticipée d'une mission et prévient les gestionnaires.",
        (Parameter("termination", "dict", "demande de fin anticipée (`termination`)"), _VOLUNTEER, _PLACE,
         _ESTABLISHMENT, Parameter("review_structure", "str", "structure gestionnaire du contrat", False)),
        "`notified` (adresses), `ended_on`, `initiator`"),
    HandlerDescription(
        "generate_certificate", "Clôt la mission et produit l'attestation de fin de mission en PDF.",
        (_VOLUNTEER, _TERMS, Parameter("mission_report", "dict", "bilan de fin de mission (`mission_report`)"),
         _ESTABLISHMENT, _PLACE, Parameter("project", "dict", "projet d'accueil (`project`)", False)),
        "`document_id`, `filename`",
        personal_result_fields=("filename",), personal_documents=("certificate",)),
)}


def describe(name: str, handler: Callable | None) -> HandlerDescription | None:
    """The description of a handler: the catalogue's, or else one read from its signature (no French text).

    A handler registered without a description still gets its parameters checked.
    """
    if name in HANDLER_CATALOG:
        return HANDLER_CATALOG[name]
    if handler is None:
        return None
    return HandlerDescription(name, "", signature_parameters(handler))


def signature_parameters(handler: Callable) -> tuple[Parameter, ...]:
    """Parameters of a handler function after its context, as its signature declares them."""
    parameters = list(inspect.signature(handler).parameters.values())[1:]
    return tuple(Parameter(p.name, _annotation_name(p.annotation), "", p.default is inspect.Parameter.empty)
                 for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _annotation_name(annotation) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.split("|")[0].strip() if text else ""

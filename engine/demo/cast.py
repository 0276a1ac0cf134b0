"""Who does what in the demo story, and what they write in each form (`engine.demo.story` plays it).

The schools of the demo directory (`engine.demo`) have hosting projects, all but
Pontivy: the moments of the follow-up shown today (`engine.demo.dates`) are
spread over schools within their quota (below 300 pupils, one volunteer); the
projects of the campaign in preparation stand each at one of steps 1 to 6;
training sessions of the Udogec of Ille-et-Vilaine and of the Finistère are past
and coming. Texts are those a school or a union would write; dates come from
the story's clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from engine.demo.dates import (
    CERTIFICATE,
    ENDED_EARLY,
    FOLLOW_UP_DUE,
    FOLLOW_UP_OVERDUE,
    GOING_ON,
    JUST_STARTED,
    MID_MISSION_REVIEW,
    MISSION_ENDING,
    Mission,
)
from engine.demo.directory import ESTABLISHMENTS, MORE_ESTABLISHMENTS
from handlers.formats import slug

# The school of each moment of the follow-up (two at most in a school of 300 pupils or more).
# The school whose project of the campaign in progress was refused last spring: its home page says why.
REFUSED_LAST_SPRING = "vannes"
ROLE_SCHOOLS = {
    FOLLOW_UP_DUE: "rennes",
    FOLLOW_UP_OVERDUE: "brest",
    MID_MISSION_REVIEW: "brest",
    MISSION_ENDING: "quimper",
    CERTIFICATE: "paris",
    ENDED_EARLY: "paris",
    GOING_ON: "saint-aubin",
    JUST_STARTED: "vitre",
}

UDOGEC_35, UDOGEC_29 = "gestionnaire.udogec35", "gestionnaire.udogec29"
UROGEC, FNOGEC = "gestionnaire.urogec", "gestionnaire.fnogec"


@dataclass(frozen=True)
class Project:
    """A school's hosting project as its référent writes it, and who reviews it (review_routing.dmn)."""

    title: str
    theme: str
    description: str
    activities: str
    reviewer: str
    weekly_hours: int = 28


PROJECTS = {
    "rennes": Project("Aide aux devoirs et accompagnement des élèves", "education",
                      "Accompagner les élèves de collège dans leur travail personnel et animer des temps d'entraide.",
                      "Animation de l'étude du soir, soutien en petits groupes, tutorat entre élèves.", UDOGEC_35),
    "brest": Project("Projets solidaires et vie du lycée", "solidarite",
                     "Animer avec les élèves les projets solidaires du lycée et la vie du foyer.",
                     "Collectes solidaires, tutorat, animation du foyer des élèves, lien avec les associations du "
                     "quartier.", UDOGEC_29),
    "paris": Project("Jardin pédagogique et éducation à l'environnement", "environnement",
                     "Faire vivre le jardin de l'école avec les classes et sensibiliser les élèves au tri et au "
                     "gaspillage.", "Ateliers au jardin avec les classes, compost de la cantine, semaine du "
                     "développement durable.", FNOGEC, 26),
    "vitre": Project("Lecture plaisir et bibliothèque du collège", "culture_loisirs",
                     "Donner le goût de la lecture aux collégiens en animant la bibliothèque et des clubs de lecture.",
                     "Clubs de lecture, accueil au CDI pendant la pause méridienne, rencontres avec des auteurs.",
                     UDOGEC_35),
    "saint-aubin": Project("Ferme pédagogique et circuits courts", "environnement",
                           "Faire découvrir la ferme du lycée aux écoles voisines et accompagner les élèves dans un "
                           "projet de circuit court.", "Accueil des classes à la ferme, marché des producteurs du "
                           "lycée, ateliers sur l'alimentation.", UDOGEC_35, 30),
    "quimper": Project("Prévention du harcèlement et médiation entre élèves", "solidarite",
                       "Aider l'équipe éducative à prévenir le harcèlement et former des élèves médiateurs.",
                       "Formation des élèves médiateurs, animation des temps de récréation, campagne de "
                       "sensibilisation.", UDOGEC_29),
    "morlaix": Project("Sport pour tous à la récréation", "sport",
                       "Proposer chaque jour des jeux sportifs et coopératifs à tous les élèves de l'école.",
                       "Jeux de cour, rencontres sportives inter-écoles, journée olympique.", UDOGEC_29, 24),
    "vannes": Project("Mémoire et citoyenneté avec les anciens du quartier", "memoire_citoyennete",
                      "Accompagner les collégiens dans un projet de mémoire avec les anciens du quartier et les "
                      "archives de la ville.", "Recueil de témoignages, exposition au collège, cérémonies du "
                      "souvenir avec les élèves.", UROGEC),
    "paris16": Project("Orientation et projet d'avenir des lycéens", "education",
                       "Aider les lycéens à construire leur projet d'orientation et à préparer leurs candidatures.",
                       "Permanences d'aide à l'orientation, forum des métiers, ateliers de préparation aux "
                       "entretiens.", FNOGEC),
}

SCHOOLS = {school["key"]: school for school in ESTABLISHMENTS + MORE_ESTABLISHMENTS}


@dataclass(frozen=True)
class PreparedProject:
    """A project of the campaign in preparation, brought to one step: how many days ago each was done.

    `place_steps` gives, for each place, the days ago of the recruitment steps done (selection, opinion,
    volunteer file, contract terms, signed copy); the next one waits.
    """

    key: str
    started_days_ago: int
    places: int = 1
    designed_days_ago: int | None = None
    reviewed_days_ago: int | None = None
    review: str = "accept"
    published_days_ago: int | None = None
    place_steps: tuple[tuple[int, ...], ...] = ()


PREPARATION = (
    PreparedProject("morlaix", 2),  # step 1: being designed
    PreparedProject("paris16", 20, 2, 18, 9, "changes"),  # step 1 again: changes asked by the reviewer
    PreparedProject("vitre", 9, 2, 6),  # step 2: to review
    PreparedProject("vannes", 12, 2, 4),  # step 2: to review, by the Urogec
    PreparedProject("brest", 30, 2, 27, 19),  # step 3: offer to publish
    PreparedProject("paris", 50, 2, 47, 40, "accept", 35, ((), (9,))),  # step 4: candidate; tuteur's opinion
    PreparedProject("quimper", 55, 1, 52, 45, "accept", 41, ((24, 21),)),  # step 5: volunteer file
    PreparedProject("saint-aubin", 70, 2, 66, 60, "accept", 56,  # step 6: contract terms; signed copy to confirm
                    ((33, 30, 13), (45, 42, 35, 28, 6))),
)


@dataclass(frozen=True)
class Training:
    """A training session of the story: its day about `days_from_today` away, planned and registered days ago."""

    structure: str
    organiser: str
    kind: str
    title: str
    place: str
    audience: str
    days_from_today: int
    planned_days_ago: int
    registered_days_ago: int
    closed: bool = False
    self_registered: str | None = None
    notes: str = "Session close, présences relevées."
    capacity: int = 24

    def form(self, day: date) -> dict:
        """The planning form of the session."""
        # The civic and citizen training lasts two days at least: the demo's sessions give them.
        return {"kind": self.kind, "title": self.title, "session_date": day.isoformat(), "place": self.place,
                "capacity": self.capacity, "audience": self.audience, "duration_days": 2 if self.kind == "fcc" else 1}


TRAININGS = (
    Training("UDOGEC-35", UDOGEC_35, "fcc", "Formation civique et citoyenne (volet théorique)",
             "Maison diocésaine, 45 rue de Brest, 35000 Rennes", "volunteers", -25, 60, 45, closed=True,
             notes="Tous les volontaires inscrits étaient présents ; le volet premiers secours reste à suivre."),
    Training("UDOGEC-35", UDOGEC_35, "psc1", "PSC (Prévention et secours civiques)",
             "Protection civile, 10 rue de Lorient, 35000 Rennes", "volunteers", -3, 35, 20),
    Training("UDOGEC-35", UDOGEC_35, "tutor_training", "Formation des tuteurs : accompagner un volontaire",
             "Maison diocésaine, 45 rue de Brest, 35000 Rennes", "tutors", 18, 6, 2,
             self_registered="tuteur.saint-aubin"),
    Training("UDOGEC-29", UDOGEC_29, "fcc", "Formation civique et citoyenne du Finistère",
             "Maison diocésaine, 1 rue de Rosmadec, 29000 Quimper", "volunteers", 12, 9, 5),
)


# Who plays each step today, the task waiting for them (None: they start it) and what it shows, as the README
# and `flask setup` tell it.
DEMO_PATH = (
    (1, "referent.rennes", None, "démarre puis conçoit le projet d'accueil du Collège Saint-Joseph (Rennes)"),
    (1, "referent.morlaix", "design_project", "termine la conception du projet de l'école de Morlaix"),
    (1, "referent.paris16", "design_project", "reprend le projet du Lycée Saint-Michel, renvoyé pour modifications"),
    (2, "gestionnaire.udogec35", "review_project", "instruit le projet du Collège Sainte-Marie (Vitré)"),
    (2, "gestionnaire.urogec", "review_project", "instruit le projet du Collège Sainte-Jeanne-d'Arc (Vannes)"),
    (3, "referent.brest", "publish_offer", "publie l'offre du Lycée Sainte-Anne"),
    (4, "referent.paris", "select_volunteer", "propose un candidat (École Sainte-Clotilde, place 1)"),
    (4, "tuteur.paris", "confirm_selection", "donne son avis sur le candidat proposé pour la place 2"),
    (5, "referent.quimper", "volunteer_file", "dépose le dossier du volontaire du Collège Saint-Corentin"),
    (6, "gestionnaire.udogec35", "draw_up_contract", "établit le contrat (Lycée agricole Notre-Dame, place 1)"),
    (6, "gestionnaire.udogec35", "confirm_contract", "confirme la copie signée du contrat de la place 2"),
    (7, "tuteur.rennes", "record_follow_up", "consigne le suivi mensuel du mois"),
    (7, "tuteur.brest", "record_follow_up", "consigne un suivi en retard, déjà relancé par courriel"),
    (7, "referent.brest", "mid_mission_review", "fait le point de mi-mission"),
    (7, "cotuteur.quimper", "end_of_mission_report", "rédige le bilan de fin de mission ; l'attestation suit"),
    (7, "referent.paris", None, "retrouve une mission terminée (attestation) et une fin anticipée"),
    (8, "gestionnaire.udogec35", "record_attendance", "relève les présences de la session passée puis la clôt"),
    (8, "gestionnaire.udogec29", "record_attendance", "suit les inscriptions de la session à venir"),
)


@dataclass(frozen=True)
class Volunteer:
    """A young person recruited in the story."""

    first_name: str
    last_name: str
    birth_place: str
    education_level: str
    birth_date: date

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    @property
    def email(self) -> str:
        """Their address."""
        return f"{slug(self.first_name)}.{slug(self.last_name)}@example.fr"


_PEOPLE = (("Léa", "Martin", "Vannes", "bac"), ("Hugo", "Le Floc'h", "Lorient", "bac_2"),
           ("Manon", "Guégan", "Quimper", "bac"), ("Nolan", "Bernier", "Saint-Brieuc", "cap_bep"),
           ("Inès", "Kerjean", "Brest", "bac_3"), ("Yanis", "Robert", "Nantes", "bac"),
           ("Chloé", "Le Roux", "Rennes", "bac_2"), ("Mathis", "Cadiou", "Morlaix", "bac"),
           ("Emma", "Salaün", "Landerneau", "bac"), ("Lucas", "Perrin", "Laval", "bac_2"),
           ("Zoé", "Lemaire", "Paris", "bac"), ("Théo", "Caradec", "Concarneau", "bac"),
           ("Jade", "Hamon", "Fougères", "bac_3"), ("Maël", "Guillard", "Vitré", "bac"),
           ("Lina", "Bouzid", "Paris", "bac_2"), ("Enzo", "Le Bras", "Lannion", "cap_bep"))


def volunteers(today: date) -> list[Volunteer]:
    """The young people of the story, 19 to 23 years old today: adults whenever their mission starts."""
    return [Volunteer(first, last, place, level, today - timedelta(days=365 * 19 + 130 + 97 * index))
            for index, (first, last, place, level) in enumerate(_PEOPLE)]


_MONTHS = ("Prise de poste : découverte de l'établissement, de l'équipe et des élèves.",
           "Premières animations avec les élèves, encadrées par le tuteur.",
           "Animations menées en autonomie deux jours par semaine.",
           "Préparation d'un projet avec une classe.",
           "Projet avec la classe en cours ; bilan d'étape avec le tuteur.",
           "Temps fort du projet présenté aux familles.",
           "Transmission des outils créés à l'équipe éducative.")


def project_form(task: str, key: str, day: date, *, places: int, start: date, end: date,
                 decision: str = "accept") -> dict:
    """What the référent writes in the project forms (design, offer) and the gestionnaire in the review, that day.

    `start` and `end` are the dates of the first place's mission, which the project asks for.
    """
    project = PROJECTS[key]
    if task == "design_project":
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        return {"title": project.title, "theme": project.theme, "description": project.description,
                "activities": project.activities, "places_requested": places,
                "desired_start_date": start.isoformat(), "duration_months": max(6, min(12, months)),
                "weekly_hours": project.weekly_hours, "open_to_minors": False, "reduced_mobility_access": True}
    if task == "review_project" and decision == "refuse":
        return {"decision": "refuse", "comment": "Les activités décrites relèvent de l'animation du centre de loisirs "
                                                 "de la commune, pas d'une mission d'intérêt général confiée par "
                                                 "l'établissement : reformulez le projet pour la campagne suivante."}
    if task == "review_project" and decision == "changes":
        return {"decision": "changes", "comment": "Précisez le rôle du volontaire pendant les heures de cours : "
                                                  "il ne remplace ni un surveillant ni un professeur."}
    if task == "review_project":
        return {"decision": "accept", "places_granted": places,
                "comment": "Projet clair, activités bien décrites et tutorat organisé."}
    if task == "publish_offer":
        number = 1000 + sum(map(ord, key)) * 7
        return {"offer_reference": f"SC-{day.year}-{number:06d}",
                "offer_url": f"https://www.service-civique.gouv.fr/trouver-ma-mission/{slug(project.title)}-{number}",
                "published_on": day.isoformat()}
    raise ValueError(f"tâche de projet inconnue de l'histoire : {task}")


def early_end_form(day: date) -> dict:
    """What the référent writes when the volunteer leaves for a job, that day."""
    return {"initiator": "volunteer", "end_date": day.isoformat(),
            "reason": "Le volontaire a trouvé un emploi en CDI dans l'animation et commence le mois prochain."}


def recruitment_form(task: str, key: str, day: date, volunteer: Volunteer, start: date, end: date) -> dict:
    """What the school and the gestionnaire write while recruiting a volunteer for a mission, that day."""
    project, school = PROJECTS[key], SCHOOLS[key]
    phone = f"+33 6 {10 + len(volunteer.last_name)} {20 + len(volunteer.first_name)} 45 {volunteer.birth_date.day + 10}"
    if task == "select_volunteer":
        return {"candidate_first_name": volunteer.first_name, "candidate_last_name": volunteer.last_name,
                "candidate_email": volunteer.email, "candidate_phone": phone,
                "interview_date": (day - timedelta(days=4)).isoformat(), "candidates_met": 3,
                "reasons": "Motivation, expérience de l'animation auprès des jeunes et disponibilité."}
    if task == "confirm_selection":
        return {"agree": True, "comment": "Rencontre très positive : nous sommes prêts à l'accueillir."}
    if task == "volunteer_file":
        return {"first_name": volunteer.first_name, "last_name": volunteer.last_name,
                "birth_date": volunteer.birth_date.isoformat(), "birth_place": volunteer.birth_place,
                "nationality_status": "french", "email": volunteer.email, "phone": phone,
                "address": f"{3 + len(volunteer.first_name)} rue de la Gare", "postal_code": school["postal_code"],
                "city": school["city"], "education_level": volunteer.education_level, "disability": False,
                "social_criteria": "none", "start_date": start.isoformat(), "end_date": end.isoformat(),
                "weekly_hours": project.weekly_hours, "tutor": f"tuteur.{key}", "cotutor": f"cotuteur.{key}",
                "mission_theme": project.theme, "mission_description": project.description, "never_served": True}
    if task == "draw_up_contract":
        return {"contract_start_date": start.isoformat(), "contract_end_date": end.isoformat(),
                "host_complement_amount": 114.85, "host_complement_in_kind": False,
                "mission_place": f"{school['name']}, {school['address']}, {school['postal_code']} {school['city']}"}
    if task == "upload_signed_contract":
        return {"signed_on": (day - timedelta(days=1)).isoformat()}
    if task == "confirm_contract":
        # The State checked the contract declared in ELISA; its reference follows the place's school.
        return {"decision": "confirm", "conformity_check": "conform",
                "elisa_reference": f"CT-{school['postal_code'][:2]}-{start:%y}-{len(volunteer.last_name):03d}"
                                   f"{volunteer.birth_date.day:02d}"}
    raise ValueError(f"tâche inconnue de l'histoire : {task}")


def follow_up_form(task: str, key: str, day: date, mission: Mission, month: int) -> dict:
    """What the tutoring team writes in a follow-up task of the mission's `month`-th month, that day."""
    project, before = PROJECTS[key], (day - timedelta(days=1)).isoformat()
    if task == "record_follow_up":
        return {"meeting_date": before, "meeting_held": True, "activities": _MONTHS[max(1, min(month, len(_MONTHS))) - 1],
                "training_status": "not_started" if month <= 1 else "in_progress" if month <= 3 else "done",
                "future_project_progress": "Réflexion sur une formation d'animateur ; rendez-vous pris avec la "
                                           "mission locale." if month >= 3 else "À aborder au prochain entretien."}
    if task == "mid_mission_review":
        return {"review_date": before, "assessment": "good",
                "achievements": f"{project.activities} Le volontaire a trouvé sa place dans l'équipe.",
                "future_project_progress": "Dossier de candidature en BTS en préparation."}
    if task == "end_of_mission_report":
        return {"actual_end_date": mission.end.isoformat(), "activities_summary": project.activities,
                "skills_gained": "Animation de groupe, conduite de projet, travail en équipe.",
                "future_project": "Entrée en formation d'animateur à la rentrée, avec le soutien de la mission locale."}
    raise ValueError(f"tâche de suivi inconnue de l'histoire : {task}")


def medical_certificate(volunteer: Volunteer, day: date) -> bytes:
    """A specimen certificate of the medical visit before signature (art. R. 121-10-1), as a PDF."""
    from weasyprint import HTML  # imported here: loading pango takes a moment and only this step needs it

    html = (
        "<html lang='fr'><body style='font-family: sans-serif'>"
        "<p style='color: #b00; font-weight: bold'>SPÉCIMEN — document fictif de démonstration</p>"
        "<h1 style='font-size: 18px'>Certificat médical de non contre-indication</h1>"
        f"<p>Je soussigné, docteur en médecine, certifie avoir examiné ce jour {escape(volunteer.first_name)} "
        f"{escape(volunteer.last_name)}, né(e) le {volunteer.birth_date:%d/%m/%Y}, et n'avoir constaté aucune "
        "contre-indication à l'accomplissement de sa mission de Service Civique.</p>"
        f"<p>Fait le {day:%d/%m/%Y}.</p></body></html>")
    return HTML(string=html).write_pdf()


def identity_document(volunteer: Volunteer) -> bytes:
    """A specimen identity card, as a PDF: what a school would scan, clearly marked as a demo document."""
    from weasyprint import HTML  # imported here: loading pango takes a moment and only this step needs it

    html = (
        "<html lang='fr'><body style='font-family: sans-serif'>"
        "<div style='border: 2px solid #1d3a6e; border-radius: 12px; padding: 18px; width: 480px'>"
        "<p style='color: #b00; font-weight: bold'>SPÉCIMEN — document fictif de démonstration</p>"
        "<h1 style='font-size: 18px'>Carte nationale d'identité</h1>"
        f"<p>Nom : {escape(volunteer.last_name.upper())}<br>Prénom : {escape(volunteer.first_name)}<br>"
        # Laid out as the identity card itself: numeric date, birthplace on its own line.
        f"Date de naissance : {volunteer.birth_date:%d/%m/%Y}<br>Lieu de naissance : {escape(volunteer.birth_place)}<br>"
        "Nationalité : française</p></div></body></html>")
    return HTML(string=html).write_pdf()

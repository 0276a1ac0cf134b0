"""Numbers of the Service Civique rules, in one table that analysts and administrators can read.

Amounts are those at 1 January 2024 and are to be confirmed each year.
"""
from typing import TypedDict


class EligibilityRules(TypedDict):
    min_age: int
    max_age: int
    max_age_with_disability: int
    adult_age: int
    min_duration_months: int
    max_duration_months: int
    min_weekly_hours: int
    max_weekly_hours: int
    max_weekly_hours_minor: int
    eligible_nationality_statuses: tuple[str, ...]


class CivicTrainingRule(TypedDict):
    kind: str
    min_days: float
    early_months: int


class TrainingRule(TypedDict):
    label: str
    audience: str
    mandatory: bool


# Eligibility of a volunteer and of the mission terms (forms/volunteer_file.schema.json), checked by
# handlers/eligibility.py. Ages are in whole years on the first day of the mission: a volunteer may start at the
# latest the day before their 26th birthday (31st with a recognised disability). A mission lasts from 6 months
# (1 October to 31 March) to 12 months, continuously. Minors (under 18 on the first day) work fewer hours.
ELIGIBILITY: EligibilityRules = {
    "min_age": 16,
    "max_age": 25,
    "max_age_with_disability": 30,
    "adult_age": 18,
    "min_duration_months": 6,
    "max_duration_months": 12,
    "min_weekly_hours": 24,
    "max_weekly_hours": 48,
    "max_weekly_hours_minor": 35,
    # Situations of `nationality_status` that open the Service Civique (the others do not).
    "eligible_nationality_statuses": ("french", "eu_eea", "residence_permit", "student_refugee", "multi_year_card"),
}

# Monthly amounts, net, written in the contract. The social criteria increase is paid on proof (grant at level 5
# or above, or RSA household).
INDEMNITY = {
    "state_monthly": 504.98,
    "host_complement_min_monthly": 114.85,
    "social_criteria_increase_monthly": 114.85,
}

# The federation holding the national Service Civique agreement, first party of every contract.
FEDERATION = {
    "name": "Fédération nationale des organismes de gestion de l'enseignement catholique (Fnogec)",
    "short_name": "Fnogec",
    "address": "277 rue Saint-Jacques, 75005 Paris",
    # Number of the national agreement (agrément) given by the Agence du Service Civique; left blank in the
    # contract (a line to fill in by hand) until it is set here.
    "agreement_number": "",
    "signatory": "Le délégué général de la Fnogec ou, par délégation, le responsable Service Civique de l'union",
}

SCHOOL_FILE_FIX = (
    "à corriger dans Isidoor par le chef d'établissement, avec l'aide du support Isidoor "
    "(support@isidoor.org) ou de l'Udogec du territoire"
)

# Follow-up of a mission (step 7). Timer expressions are ISO 8601; a monthly follow-up comes every month of the
# contract after the first, a reminder goes once when one is not recorded in time, the end-of-mission report
# (bilan) is asked some days before the contract ends.
FOLLOW_UP = {
    "reminder_after": "P10D",
    "report_days_before_end": 14,
    "hour_of_day": 9,
}

# Trainings a gestionnaire can plan (the kinds of `forms/plan_training.schema.json`), who they are for and
# whether every volunteer (or every tuteur) must have attended one.
TRAININGS: dict[str, TrainingRule] = {
    "fcc": {"label": "Formation civique et citoyenne", "audience": "volunteers", "mandatory": True},
    # The first-aid part of the civic training: « Prévention et secours civiques de niveau 1 » until 2024, now
    # « PSC ». The kind keeps its stored id.
    "psc1": {"label": "PSC (Prévention et secours civiques)", "audience": "volunteers", "mandatory": True},
    "tutor_training": {"label": "Formation des tuteurs", "audience": "tutors", "mandatory": True},
}

# Length of one training session, in days (half days allowed), as the gestionnaire plans it.
TRAINING_SESSION_DAYS = {"min": 0.5, "max": 10}

# The civic and citizen training (FCC): at least `min_days` days in all, at least half of them within the first
# `early_months` months of the mission. The follow-up of trainings flags volunteers short of either.
CIVIC_TRAINING: CivicTrainingRule = {"kind": "fcc", "min_days": 2, "early_months": 3}

"""Numbers of the Service Civique rules, in one table that analysts and administrators can read.

Amounts are those at 1 January 2024 and are to be confirmed each year.
"""

ELIGIBILITY = {
    "min_age": 16,
    "max_age": 25,
    "max_age_with_disability": 30,
    "min_duration_months": 6,
    "max_duration_months": 12,
    "min_weekly_hours": 24,
    "max_weekly_hours": 48,
    "max_weekly_hours_minor": 35,
}

INDEMNITY = {
    "state_monthly": 504.98,
    "host_complement_min_monthly": 114.85,
    "social_criteria_increase_monthly": 114.85,
}

SCHOOL_FILE_FIX = (
    "à corriger dans Isidoor par le chef d'établissement, avec l'aide du support Isidoor "
    "(support@isidoor.org) ou de l'Udogec du territoire"
)

"""Translatable labels for the account vocabulary (kinds, roles, statuses), shared by views and mails."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "enterprise": _l("Enterprise (91…)"),
    "individual_business": _l("Individual business (92…)"),
    "farmer_cooperative": _l("Farmer cooperative (93…)"),
    "village_collective": _l("Collective economic organisation (N…)"),
    "government_agency": _l("Government organ or public institution (1…)"),
    "social_organisation": _l("Social organisation (5…)"),
    "other_organisation": _l("Other organisation (Y…, 2–4, 6–8)"),
    "service_provider": _l("Service provider (inspection, logistics, customs)"),
}

ROLE_LABELS = {
    "owner": _l("Owner"),
    "admin": _l("Administrator"),
    "sales": _l("Sales"),
    "purchasing": _l("Purchasing"),
    "finance": _l("Finance"),
}

VERIFICATION_LABELS = {
    0: _l("L0 registered"),
    1: _l("L1 verified"),
    2: _l("L2 credit-checked"),
}

REQUEST_STATUS_LABELS = {
    "pending": _l("Waiting for review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Replaced by a newer upload"),
}

INDUSTRY_LABELS = {
    "coal": _l("Coal"),
    "metallurgy": _l("Metallurgy"),
    "agriculture": _l("Agriculture"),
}

"""Codes of the categorical columns of the state tables.

Tenure, dwelling sector, household type, application, search on the private market, financing
(:mod:`mixsim.model.state` re-exports them, where the columns are defined).
"""

# tenure codes
SOCIAL, PRIVATE, OWNER, HOSTED, GONE, NEVER = 0, 1, 2, 3, 4, 5
TENURE_NAMES = ("social", "private", "owner", "hosted", "gone", "never")
# dwelling sectors
S_SOCIAL, S_PRIVATE, S_OWNER = 0, 1, 2
# household types
SINGLE, COUPLE, COUPLE_CHILDREN, SINGLE_PARENT, OTHER = range(5)
# application states
APP_NONE, APP_FIRST, APP_TRANSFER = 0, 1, 2
# seeking on the private market
SEEK_NONE, SEEK_RENT, SEEK_OWN = 0, 1, 2
# financing
PLAI, PLUS, PLS = 0, 1, 2

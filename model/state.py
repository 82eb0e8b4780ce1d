"""Model state as column arrays (struct of arrays): the household and dwelling tables.

Households and dwellings are many (10⁴–10⁶) and are held as numpy columns in :class:`Table`
objects; neighbourhoods are few and also held as arrays (the model exposes them as Mesa agents).
A household that dies or leaves keeps its row with ``alive = False`` until the rows of ended
households are compacted away (:meth:`Table.compact`, :func:`~model.moves.compact_households`,
each January when they are over 5 % of the table); its stable id (the ``hid`` column, increasing
with the row) is what the move log records, so it stays valid.

The household rules are in :mod:`mixsim.model.rules`, the random draws in
:mod:`mixsim.model.draws`, the initial population in :mod:`mixsim.model.population`,
applications in :mod:`mixsim.model.applications`; the income ceilings are here.

Reference rules used here (docs/sources.md §1): income ceilings 2024, "autres régions": six
categories plus an amount per extra person, PLAI and PLUS amounts of the arrêté of 29 July 1987
as amended, PLS = 1.3 × PLUS; the resources compared with them are the RFR of year N-2
(:mod:`mixsim.model.ceilings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .ceilings import (  # noqa: F401  (PLS_RATIO, PLUS_CEILINGS_2024 re-exported)
    PLS_RATIO,
    PLUS_CEILINGS_2024,
    ceiling_one,
    ceiling_persons,
    ceilings,
    resources,
    taxable_income,
)
from .codes import (  # noqa: F401 (re-exported: the columns' codes)
    APP_FIRST,
    APP_NONE,
    APP_TRANSFER,
    COUPLE,
    COUPLE_CHILDREN,
    GONE,
    HOSTED,
    NEVER,
    OTHER,
    OWNER,
    PLAI,
    PLS,
    PLUS,
    PRIVATE,
    S_OWNER,
    S_PRIVATE,
    S_SOCIAL,
    SEEK_NONE,
    SEEK_OWN,
    SEEK_RENT,
    SINGLE,
    SINGLE_PARENT,
    SOCIAL,
    TENURE_NAMES,
)
from .jit import njit
from .rules import household_income, household_size

MEDIAN_INCOME_UC = 22_000.0  # €/UC/year, Filosofi 2021 national median living standard ≈ 22,400 €
AREA_BY_ROOMS = np.array([0.0, 30.0, 46.0, 65.0, 80.0, 98.0])  # m², index = rooms


class Table:
    """Growable set of equal-length numpy columns; ``table.col`` is a view of the used rows.

    The views are plain instance attributes (rebuilt when rows are added), so that reading a
    column costs an attribute lookup; assigning ``table.col = values`` writes into the column.
    """

    def __init__(self, spec: dict[str, tuple[np.dtype, object]], n: int = 0):
        self.__dict__["_spec"] = spec
        self.__dict__["n"] = n
        cap = max(16, n)
        self.__dict__["_data"] = {k: np.full(cap, d, dtype=t) for k, (t, d) in spec.items()}
        if "hid" in spec:
            self._data["hid"][:n] = np.arange(n)
            self.__dict__["next_id"] = n
        self._refresh()

    def _refresh(self) -> None:
        """Point the column attributes at the used rows."""
        n, d = self.__dict__["n"], self.__dict__
        for name, arr in d["_data"].items():
            d[name] = arr[:n]

    def __getstate__(self) -> dict:
        st = {"_spec": self._spec, "n": self.n, "_data": self._data}
        if "next_id" in self.__dict__:
            st["next_id"] = self.next_id
        return st

    def __setstate__(self, st: dict) -> None:
        self.__dict__.update(st)
        self._refresh()

    def __setattr__(self, name: str, value) -> None:
        if name in self.__dict__["_data"]:
            self.__dict__["_data"][name][: self.n] = value
        else:
            self.__dict__[name] = value

    def __len__(self) -> int:
        return self.n

    def add(self, k: int) -> np.ndarray:
        """Append ``k`` rows filled with the column defaults; return their indices."""
        n = self.n
        data = self._data
        cap = len(next(iter(data.values())))
        if n + k > cap:
            new_cap = max(n + k, int(cap * 1.5) + 16)
            for name, (t, d) in self._spec.items():
                arr = np.full(new_cap, d, dtype=t)
                arr[:n] = data[name][:n]
                data[name] = arr
        self.__dict__["n"] = n + k
        if "hid" in data:  # stable ids, increasing with the row (see compact)
            nid = self.__dict__.get("next_id", n)
            data["hid"][n:n + k] = np.arange(nid, nid + k)
            self.__dict__["next_id"] = nid + k
        self._refresh()
        return np.arange(n, n + k)

    def compact(self, keep: np.ndarray) -> np.ndarray:
        """Drop the rows where ``keep`` is False, keeping the others' order.

        Returns:
            The new row of each old row (−1 for the dropped ones).
        """
        keep = np.asarray(keep, bool)
        rows = np.flatnonzero(keep)
        for name, arr in self._data.items():
            arr[:len(rows)] = arr[rows]
            arr[len(rows):self.n] = self._spec[name][1]
        new = np.full(self.n, -1, np.int64)
        new[rows] = np.arange(len(rows))
        self.__dict__["n"] = len(rows)
        self._refresh()
        return new

    def columns(self) -> list[str]:
        """Column names."""
        return list(self._spec)


HOUSEHOLD_COLUMNS = {
    "hid": (np.int64, -1),  # stable id (the move log's), increasing with the row; see compact
    "alive": (np.bool_, False),
    "tenure": (np.int8, NEVER),
    "hh_type": (np.int8, SINGLE),
    "adults": (np.int8, 1),
    "women": (np.int8, 0),  # adult women (the others are men; a couple is a man and a woman)
    "kids_u14": (np.int8, 0),
    "kids_14p": (np.int8, 0),
    "age": (np.float32, 30.0),
    "z": (np.float64, 0.0),  # normal score of income per UC (rank mobility)
    "income_uc": (np.float64, 0.0),  # €/UC/year
    # taxable income of last year and RFR (taxable income of year N-2), €/year; nan: not
    # recorded yet (model.ceilings)
    "taxable_prev": (np.float64, np.nan),
    "rfr": (np.float64, np.nan),
    "quartile": (np.int8, 1),  # territory quartile of income per UC (1..4), yearly
    "dwelling": (np.int32, -1),
    "nbhd": (np.int32, -1),  # neighbourhood of residence (hosted: where hosted)
    "move_in": (np.int32, 0),  # month of moving into the current home
    "priority": (np.bool_, False),  # DALO / L441-1 priority
    "relocation": (np.bool_, False),  # urban-renewal relocation
    "separated": (np.bool_, False),
    "employed": (np.bool_, False),  # employee of a firm paying Action Logement
    "app": (np.int8, APP_NONE),
    "app_month": (np.int32, 0),
    "wishes": (np.int64, 0),  # bitmask of wished communes
    "refusals": (np.int16, 0),
    "months_over": (np.int16, 0),  # consecutive months above the SLS threshold
    "months_over_loss": (np.int16, 0),  # consecutive months above the loss-of-right threshold
    "seek": (np.int8, SEEK_NONE),
    "cohort": (np.bool_, False),  # present at the start (followed for trajectories)
}

DWELLING_COLUMNS = {
    "active": (np.bool_, True),
    "nbhd": (np.int32, 0),
    "residence": (np.int32, -1),
    "sector": (np.int8, S_PRIVATE),
    "rooms": (np.int8, 1),
    "area": (np.float32, 30.0),
    "financing": (np.int8, -1),
    "rent_m2": (np.float32, 0.0),  # social base rent €/m²/month (private: neighbourhood level)
    "rent_factor": (np.float32, 1.0),  # modulation applied at the last letting
    "holder": (np.int8, 3),
    "landlord": (np.int16, -1),
    "occupant": (np.int32, -1),
    "months_vacant": (np.int16, 0),
    "to_demolish": (np.bool_, False),
    "new": (np.bool_, False),  # delivered and never let
    # month of delivery (the stock of the territory: before the run, taken as over ten years
    # old) and of the sale to its tenant (none: NEVER_MONTH); see model.processes.policy
    "built_month": (np.int32, -1_000_000),
    "sold_month": (np.int32, -1_000_000),
}


@dataclass
class Neighbourhoods:
    """Neighbourhood arrays (few rows)."""

    ids: list[str]
    names: list[str]
    commune: np.ndarray  # int index into communes
    qpv: np.ndarray  # bool
    x: np.ndarray
    y: np.ndarray
    base_attractiveness: np.ndarray
    attractiveness: np.ndarray
    private_rent_m2: np.ndarray
    investment: np.ndarray  # cumulated renovation investment (attractiveness units)
    attractiveness_year_start: np.ndarray = None  # for yearly private-rent adjustment

    def __post_init__(self) -> None:
        if self.attractiveness_year_start is None:
            self.attractiveness_year_start = self.attractiveness.copy()

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class State:
    """Everything that changes during a run."""

    hh: Table
    dw: Table
    nb: Neighbourhoods
    commune_ids: list[str]
    commune_names: list[str]
    sru_applies: np.ndarray
    residence_ids: list[str]
    landlord_ids: list[str]
    month: int = 0  # months elapsed since the start
    median_income_uc: float = MEDIAN_INCOME_UC
    # income ceilings relative to their 2024 amounts, the multiplier every ceiling formula
    # reads; it stays 1 in the model's constant 2024 euros (processes/income.py)
    ceiling_index: float = 1.0
    q1_threshold: float = 0.0  # €/UC/year, first quartile of applicants' income per UC
    quartile_cuts: np.ndarray = field(default_factory=lambda: np.zeros(3))
    counters: dict[str, float] = field(default_factory=dict)  # reset yearly
    accum: dict[str, float] = field(default_factory=dict)  # fractional policy deliveries
    initial_households: int = 0
    arrivals: int = 0
    formations: int = 0
    departures: int = 0
    start_households: int = 0
    pending_arrivals: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    commune_w: np.ndarray = field(default_factory=lambda: np.ones(1))


# ----------------------------------------------------------------------------------------------
# income ceilings
# ----------------------------------------------------------------------------------------------


def ceiling_category(hh: Table, idx=slice(None)) -> np.ndarray:
    """Income-ceiling category 1..6 as a 0-based index (6 and more persons: 5).

    The categories of the arrêté of 29 July 1987 (:mod:`mixsim.model.ceilings`): persons
    counted one more for a single adult with dependants, a *jeune ménage* in category 3.
    """
    p = ceiling_persons(hh.adults[idx], household_size(hh, idx), hh.age[idx])
    return np.minimum(p, 6) - 1


def ceilings_by_financing(hh: Table, idx=slice(None), index: float = 1.0) -> np.ndarray:
    """Array (3, n) of the PLAI, PLUS and PLS ceilings of each household (€/year)."""
    return ceilings(hh.adults[idx], household_size(hh, idx), hh.age[idx], index)


def plus_ceiling(hh: Table, idx=slice(None), index: float = 1.0) -> np.ndarray:
    """PLUS income ceiling (€/year) of each household."""
    return ceilings_by_financing(hh, idx, index)[1]


def ceiling_resources(hh: Table, idx=slice(None), median: float = MEDIAN_INCOME_UC
                      ) -> np.ndarray:
    """Resources (€/year) compared with the income ceilings (:mod:`mixsim.model.ceilings`).

    The RFR of year N-2, or the current taxable income when lower by 10 % or more or when no
    RFR is recorded; ``median`` is the current median income per UC.
    """
    taxable = taxable_income(household_income(hh, idx), hh.income_uc[idx], median)
    return resources(taxable, hh.rfr[idx])


@njit
def plus_ceiling_one(adults, size, age, index):
    """PLUS income ceiling of one household (:func:`plus_ceiling`)."""
    return ceiling_one(1, adults, size, age, index)


# ----------------------------------------------------------------------------------------------
# queries and yearly updates of the state
# ----------------------------------------------------------------------------------------------


def update_quartiles(state: State) -> None:
    """Recompute income quartiles (1..4) over living households (yearly)."""
    hh = state.hh
    alive = hh.alive
    cuts = np.quantile(hh.income_uc[alive], [0.25, 0.5, 0.75])
    state.quartile_cuts = cuts
    hh.quartile[alive] = 1 + np.searchsorted(cuts, hh.income_uc[alive], side="right")


"""Model state as column arrays (struct of arrays) and its initialisation from a territory.

Households and dwellings are many (10⁴–10⁶) and are held as numpy columns in :class:`Table`
objects; neighbourhoods are few and also held as arrays (the model exposes them as Mesa agents).
A household that dies or leaves keeps its row with ``alive = False`` until the rows of ended
households are compacted away (:meth:`Table.compact`, :func:`~model.moves.compact_households`,
each January when they are over 5 % of the table); its stable id (the ``hid`` column, increasing
with the row) is what the move log records, so it stays valid.

Reference rules used here (docs/sources.md §1):

* consumption units (OECD-modified scale): 1 for the first adult, 0.5 per other person aged 14+,
  0.3 per child under 14;
* income ceilings 2024, "autres régions": six categories plus an amount per extra person, PLAI
  and PLUS amounts of the arrêté of 29 July 1987 as amended, PLS = 1.3 × PLUS; the resources
  compared with them are the RFR of year N-2 (:mod:`mixsim.model.ceilings`);
* under-occupation: habitable rooms > occupants + 1 (loi ELAN 2018 definition).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic
from scipy.special import ndtri

from .ceilings import (  # noqa: F401  (PLS_RATIO, PLUS_CEILINGS_2024 re-exported)
    PLS_RATIO,
    PLUS_CEILINGS_2024,
    ceiling_one,
    ceiling_persons,
    ceilings,
    resources,
    taxable_income,
)
from .jit import njit
from .territory import FINANCING, HH_TYPES, HOLDERS, Territory

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

MEDIAN_INCOME_UC = 22_000.0  # €/UC/year, Filosofi 2021 national median living standard ≈ 22,400 €
INCOME_SIGMA = 0.5  # log-sd: gives ~15 % below 60 % of the median (INSEE poverty rate 14.6 %)
AREA_BY_ROOMS = np.array([0.0, 30.0, 46.0, 65.0, 80.0, 98.0])  # m², index = rooms
CHARGES_M2 = 2.0  # €/m²/month of charges


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
    ceiling_index: float = 1.0  # indexation of income ceilings since 2024
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
# derived quantities (pure functions of columns)
# ----------------------------------------------------------------------------------------------


def household_size(hh: Table, idx=slice(None)) -> np.ndarray:
    """Persons per household."""
    return hh.adults[idx].astype(np.int16) + hh.kids_u14[idx] + hh.kids_14p[idx]


def consumption_units(hh: Table, idx=slice(None)) -> np.ndarray:
    """OECD-modified consumption units (1 / 0.5 for 14+ / 0.3 under 14)."""
    return (1.0 + 0.5 * (hh.adults[idx] - 1 + hh.kids_14p[idx]) + 0.3 * hh.kids_u14[idx])


def household_income(hh: Table, idx=slice(None)) -> np.ndarray:
    """Annual income (€/year) = income per UC × consumption units."""
    return hh.income_uc[idx] * consumption_units(hh, idx)


def income_from_z(z: np.ndarray, median: float) -> np.ndarray:
    """Income per UC from its normal score (lognormal distribution around ``median``)."""
    return median * np.exp(INCOME_SIGMA * z)


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


def rooms_needed(size: np.ndarray) -> np.ndarray:
    """Rooms needed (1..5): one for a single person, then roughly one per couple and two persons."""
    size = np.asarray(size)
    return np.minimum(5, np.ceil(size / 2).astype(np.int16) + (size >= 2))


def housing_benefit(income: np.ndarray, size: np.ndarray, rent: np.ndarray) -> np.ndarray:
    """Simplified APL (€/month): reference rent minus a participation rising with income.

    A stylised schedule (assumption, not the legal formula): reference rent 300 € + 60 € per
    extra person, participation 35 % of monthly income above 500 € + 100 € per extra person.
    """
    ref = np.minimum(rent, 300.0 + 60.0 * (size - 1))
    part = 0.35 * np.maximum(0.0, income / 12.0 - 500.0 - 100.0 * (size - 1))
    return np.maximum(0.0, ref - part)


def effort_rate(income: np.ndarray, size: np.ndarray, rent: np.ndarray, area: np.ndarray
                ) -> np.ndarray:
    """Share of monthly income spent on rent and charges after housing benefit."""
    apl = housing_benefit(income, size, rent)
    return (rent + CHARGES_M2 * area - apl) / np.maximum(income / 12.0, 1.0)


# scalar versions of the rules above for compiled kernels: the same arithmetic, one household
# (tests check them against the array functions)

@njit
def size_one(adults, kids_u14, kids_14p):
    """Persons in one household (:func:`household_size`)."""
    return np.int64(adults) + kids_u14 + kids_14p


@njit
def income_one(income_uc, adults, kids_u14, kids_14p):
    """Annual income of one household (:func:`household_income`)."""
    return income_uc * (1.0 + 0.5 * (np.int64(adults) - 1 + kids_14p) + 0.3 * kids_u14)


@njit
def rooms_needed_one(size):
    """Rooms needed by a household of ``size`` persons (:func:`rooms_needed`)."""
    return min(5, np.int64(math.ceil(size / 2)) + (1 if size >= 2 else 0))


@njit
def plus_ceiling_one(adults, size, age, index):
    """PLUS income ceiling of one household (:func:`plus_ceiling`)."""
    return ceiling_one(1, adults, size, age, index)


@njit
def maximum_one(a, b):
    """``np.maximum`` of two floats (nan propagates)."""
    return a if (a >= b or a != a) else b


@njit
def minimum_one(a, b):
    """``np.minimum`` of two floats (nan propagates)."""
    return a if (a <= b or a != a) else b


@njit
def effort_one(income, size, rent, area):
    """Effort rate of one household (:func:`effort_rate` with :func:`housing_benefit`)."""
    ref = minimum_one(rent, 300.0 + 60.0 * (size - 1))
    part = 0.35 * maximum_one(0.0, income / 12.0 - 500.0 - 100.0 * (size - 1))
    apl = maximum_one(0.0, ref - part)
    return (rent + CHARGES_M2 * area - apl) / maximum_one(income / 12.0, 1.0)


def social_rent(dw: Table, idx=slice(None)) -> np.ndarray:
    """Monthly rent (€) of social dwellings at their current modulation."""
    return dw.rent_m2[idx] * dw.area[idx] * dw.rent_factor[idx]


def monthly_hazard(annual: float, multiplier: np.ndarray | float = 1.0) -> np.ndarray | float:
    """Monthly probability of an event with annual probability ``annual`` (proportional hazards).

    The annual probability gives a rate λ = −ln(1 − p); a multiplier scales the rate, and the
    monthly probability is 1 − exp(−λ · multiplier / 12).
    """
    lam = -math.log1p(-min(float(annual), 0.999999)) / 12.0
    if isinstance(multiplier, int | float):  # (the C library's functions, as numpy's)
        return -math.expm1(-lam * multiplier)
    # (a float64 rate: numpy would keep a float32 multiplier's product in float32)
    return -np.expm1(-np.float64(lam) * np.asarray(multiplier))


def living_by_tenure(hh: Table) -> dict[int, np.ndarray]:
    """Return the indices of living households per tenure code (ascending in each tenure)."""
    alive, tenure = hh.alive, hh.tenure
    return {t: np.flatnonzero(alive & (tenure == t)) for t in (SOCIAL, PRIVATE, OWNER, HOSTED)}


def weighted_choice(rng: np.random.Generator, p, size: int) -> np.ndarray:
    """``rng.choice(len(p), size=size, p=p)``: the same draws, without its checks of ``p``.

    numpy's choice with weights inverts the cumulated, normalised weights at ``size`` uniforms;
    this does the same, about 7 times faster for the small draws of a month. ``p`` must be
    non-negative with a positive sum (the callers' weights are).
    """
    cdf = np.cumsum(np.asarray(p, float))
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(size), side="right")


def sample_without_replacement(rng: np.random.Generator, n: int, k: int,
                               sort: bool = False) -> np.ndarray:
    """``rng.choice(n, size=k, replace=False)``: the same positions from the same draws.

    numpy's choice costs some 12 µs a call in Python-level checks, and a month makes dozens of
    small draws. This runs numpy's algorithm (Floyd's, or a partial shuffle of the tail when
    ``n`` > 10,000 and ``k`` > ``n`` / 50, then numpy's shuffle of the result) compiled, on the
    generator's own bit stream (its ``next_uint32`` through its ctypes interface, with numpy's
    bounded-integer method, Lemire's), so the values, their order and the generator's state
    afterwards are those of numpy's choice (tested). ``sort=True`` returns them sorted.
    """
    if k == 0:
        return np.zeros(0, np.int64)
    if n >= 2**32 - 1:  # (numpy's 64-bit path: never needed here)
        out = rng.choice(n, size=k, replace=False)
        return np.sort(out) if sort else out
    if k > n or k < 0:
        raise ValueError(f"cannot take {k} of {n} without replacement")
    return _choice_kernel(*_bit_stream(rng), n, k, sort)


_STREAM: list = [None, 0, 0]  # the last bit generator seen and its next_uint32 and state


def _bit_stream(rng: np.random.Generator) -> tuple[int, int]:
    """Addresses of the generator's ``next_uint32`` function and of its state."""
    bitgen = rng.bit_generator
    if _STREAM[0] is not bitgen:
        c = bitgen.ctypes
        _STREAM[:] = [bitgen, ctypes.cast(c.next_uint32, ctypes.c_void_p).value,
                      int(c.state_address)]
    return _STREAM[1], _STREAM[2]


@intrinsic
def _next_uint32(typingctx, fn, state):
    """Call the bit generator's ``next_uint32(state)`` from compiled code (addresses as ints)."""
    sig = types.uint32(types.intp, types.intp)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(8).as_pointer()])
        fptr = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(fptr, [builder.inttoptr(args[1], ir.IntType(8).as_pointer())])

    return sig, codegen


@njit
def _bounded(fn, state, rng):
    """Draw a uniform integer in [0, ``rng``] (``rng`` < 2³² − 1), numpy's way (Lemire)."""
    if rng == 0:
        return np.int64(0)
    excl = np.uint64(rng) + np.uint64(1)
    low = np.uint64(0xFFFFFFFF)
    m = np.uint64(_next_uint32(fn, state)) * excl
    leftover = m & low
    if leftover < excl:
        threshold = (low - np.uint64(rng)) % excl
        while leftover < threshold:
            m = np.uint64(_next_uint32(fn, state)) * excl
            leftover = m & low
    return np.int64(m >> np.uint64(32))


@njit
def _choice_kernel(fn, state, n, k, sort):
    """Run numpy's ``choice(n, size=k, replace=False)`` (see :func:`sample_without_replacement`)."""
    if n > 10000 and k > n // 50:  # partial shuffle of the tail
        idx = np.arange(n)
        for i in range(n - 1, max(n - k, 1) - 1, -1):
            j = _bounded(fn, state, i)
            idx[i], idx[j] = idx[j], idx[i]
        out = idx[n - k:].copy()
    else:  # Floyd's algorithm with an open-addressing set, then a shuffle
        out = np.empty(k, np.int64)
        mask = np.uint64(1.2 * k)
        for shift in (1, 2, 4, 8, 16, 32):
            mask |= mask >> np.uint64(shift)
        empty = np.uint64(0xFFFFFFFFFFFFFFFF)
        table = np.full(mask + np.uint64(1), empty, np.uint64)
        for j in range(n - k, n):
            val = np.uint64(_bounded(fn, state, j))
            loc = val & mask
            while table[loc] != empty and table[loc] != val:
                loc = (loc + np.uint64(1)) & mask
            if table[loc] == empty:
                table[loc] = val
                out[j - n + k] = np.int64(val)
            else:  # already drawn: take j itself
                loc = np.uint64(j) & mask
                while table[loc] != empty:
                    loc = (loc + np.uint64(1)) & mask
                table[loc] = np.uint64(j)
                out[j - n + k] = j
        for i in range(k - 1, 0, -1):
            j = _bounded(fn, state, i)
            out[i], out[j] = out[j], out[i]
    if sort:
        out.sort()
    return out


def bernoulli_subset(rng: np.random.Generator, idx: np.ndarray, p: float) -> np.ndarray:
    """Members of ``idx`` hit by an event of probability ``p``, each independently (sorted).

    Draws the number of events from a binomial and picks that many members without replacement:
    the same law as one uniform per member compared with ``p``, far cheaper when ``p`` is small
    and ``idx`` large.
    """
    n = len(idx)
    k = int(rng.binomial(n, min(max(float(p), 0.0), 1.0))) if n else 0
    if k == 0:
        return idx[:0]
    return idx[sample_without_replacement(rng, n, k, sort=True)]


def thinned(rng: np.random.Generator, idx: np.ndarray, bound: float,
            hazard: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Members of ``idx`` hit by events of individual probabilities ``hazard(members)``.

    Thinning (Lewis & Shedler 1979): candidates are drawn with the probability ``bound`` ≥ every
    individual probability (:func:`bernoulli_subset`), then each is kept with probability
    hazard / bound. The law is that of one uniform per member compared with its probability,
    but the probabilities are only computed for the few candidates.
    """
    cand = bernoulli_subset(rng, idx, bound)
    if len(cand) == 0:
        return cand
    return cand[rng.random(len(cand)) * bound < hazard(cand)]


def draw_wishes(rng: np.random.Generator, home_commune: np.ndarray, breadth: int,
                weights: np.ndarray) -> np.ndarray:
    """Bitmask of wished communes: the home commune plus ``breadth − 1`` others drawn by weight.

    Weighted sampling without replacement by exponential keys (Efraimidis & Spirakis 2006): the
    ``breadth`` communes of smallest key exponential / weight, the home commune's key set to −1.
    """
    n, c = len(home_commune), len(weights)
    if n == 0:
        return np.zeros(0, np.int64)
    keys = rng.exponential(size=(n, c)) / np.maximum(weights, 1e-12)
    return _smallest_keys_mask(keys, np.asarray(home_commune, np.int64), min(breadth, c))


@njit
def _smallest_keys_mask(keys, home, k):
    """Bitmask per row of the ``k`` columns of smallest key, the ``home`` column first."""
    n, c = keys.shape
    out = np.zeros(n, np.int64)
    taken = np.zeros(c, np.bool_)
    for r in range(n):
        taken[:] = False
        taken[home[r]] = True
        mask = np.int64(1) << home[r]
        for _ in range(k - 1):
            best = -1
            for j in range(c):
                if not taken[j] and (best < 0 or keys[r, j] < keys[r, best]):
                    best = j
            taken[best] = True
            mask |= np.int64(1) << best
        out[r] = mask
    return out


# ----------------------------------------------------------------------------------------------
# initialisation
# ----------------------------------------------------------------------------------------------

# Age of the reference person by household type: shares of the ten-year bands 20–29 … 90–99
# (orders of magnitude of INSEE's census 2019, households by type and age of the reference
# person, rounded; persons living alone are old more often than not, couples with children
# are 30–59).
AGE_BANDS = np.array([20, 30, 40, 50, 60, 70, 80, 90, 100])
AGE_BAND_SHARES = {
    SINGLE: (0.17, 0.12, 0.10, 0.13, 0.15, 0.14, 0.14, 0.05),
    COUPLE: (0.07, 0.06, 0.05, 0.14, 0.27, 0.25, 0.14, 0.02),
    COUPLE_CHILDREN: (0.05, 0.31, 0.39, 0.21, 0.04, 0.0, 0.0, 0.0),
    SINGLE_PARENT: (0.07, 0.25, 0.35, 0.23, 0.07, 0.02, 0.01, 0.0),
    OTHER: (0.20, 0.14, 0.14, 0.16, 0.14, 0.12, 0.08, 0.02),
}


def draw_ages(rng: np.random.Generator, hh_type: np.ndarray) -> np.ndarray:
    """Ages of reference persons by household type (:data:`AGE_BAND_SHARES`, uniform in a band)."""
    ages = np.empty(len(hh_type))
    for t, shares in AGE_BAND_SHARES.items():
        m = np.flatnonzero(hh_type == t)
        if len(m) == 0:
            continue
        p = np.asarray(shares) / np.sum(shares)
        band = weighted_choice(rng, p, len(m))
        ages[m] = AGE_BANDS[band] + 10.0 * rng.random(len(m))
    return ages


def synthesise_households(rng: np.random.Generator, hh: Table, idx: np.ndarray,
                          hh_type: np.ndarray, z: np.ndarray) -> None:
    """Fill composition, age and income of new household rows."""
    n = len(idx)
    hh.alive[idx] = True
    hh.hh_type[idx] = hh_type
    adults = np.ones(n, np.int8)
    adults[(hh_type == COUPLE) | (hh_type == COUPLE_CHILDREN)] = 2
    other = hh_type == OTHER
    adults[other] = 2 + (rng.random(other.sum()) < 0.3)
    kids = np.zeros(n, np.int8)
    with_kids = (hh_type == COUPLE_CHILDREN) | (hh_type == SINGLE_PARENT)
    kids[with_kids] = 1 + weighted_choice(rng, [0.45, 0.38, 0.17], with_kids.sum())
    u14 = rng.binomial(kids, 0.65).astype(np.int8)
    hh.adults[idx] = adults
    hh.kids_u14[idx] = u14
    hh.kids_14p[idx] = kids - u14
    hh.age[idx] = draw_ages(rng, hh_type)
    hh.z[idx] = z
    hh.employed[idx] = (hh.age[idx] < 62) & (rng.random(n) < 0.55 + 0.15 * np.tanh(z))
    hh.women[idx] = draw_women(rng, hh_type, adults, hh.age[idx])


def draw_women(rng: np.random.Generator, hh_type: np.ndarray, adults: np.ndarray,
               age: np.ndarray) -> np.ndarray:
    """Draw the number of adult women of synthetic households.

    A couple is a man and a woman (same-sex couples, about 1 % of couples in the 2018 census,
    are not told apart). Single parents are mothers in 85 % of cases (INSEE: 85 % of
    single-parent families in 2020). Persons living alone are women in 45 % of cases under 60
    and 65 % from 60 on (INSEE 2017: 27 % of men and 62 % of women aged 80+ live alone; women
    outlive men). Each adult of an *other* household is a woman with probability 1/2.
    """
    n = len(hh_type)
    u = rng.random(n)
    single_w = np.where(age < 60, 0.45, 0.65)
    women = np.where(hh_type == SINGLE, u < single_w,
                     np.where(hh_type == SINGLE_PARENT, u < 0.85, 0)).astype(np.int8)
    couple = (hh_type == COUPLE) | (hh_type == COUPLE_CHILDREN)
    women[couple] = 1
    other = hh_type == OTHER
    women[other] = rng.binomial(adults[other].astype(np.int64), 0.5)
    return women


def z_from_quartile(rng: np.random.Generator, quartile: np.ndarray) -> np.ndarray:
    """Draw normal scores uniformly inside the given income quartiles."""
    u = (quartile - 1 + rng.uniform(0.001, 0.999, len(quartile))) / 4.0
    return ndtri(u)


def build_state(territory: Territory, rng: np.random.Generator, *, holder_shares=None,
                wish_breadth: int = 2) -> State:
    """Synthesise households and dwellings from the territory tables.

    Households are drawn from the population counts (type, income quartile, tenure,
    neighbourhood); dwellings from the stock counts; households of a tenure are matched to the
    dwellings of that sector in their neighbourhood by size (with noise, so that some are over-
    crowded or under-occupy); applicants are drawn from the applicant counts.
    """
    t = territory
    com_ids = list(t.communes.commune)
    com_index = {c: i for i, c in enumerate(com_ids)}
    nbdf = t.neighbourhoods.reset_index(drop=True)
    nb_index = {n: i for i, n in enumerate(nbdf.neighbourhood)}
    base = nbdf.base_attractiveness.to_numpy(float)
    nb = Neighbourhoods(
        ids=list(nbdf.neighbourhood), names=list(nbdf.name),
        commune=nbdf.commune.map(com_index).to_numpy(np.int32),
        qpv=nbdf.qpv.to_numpy().astype(bool), x=nbdf.x.to_numpy(float).copy(),
        y=nbdf.y.to_numpy(float).copy(), base_attractiveness=base.copy(),
        attractiveness=base.copy(), private_rent_m2=nbdf.private_rent_m2.to_numpy(float).copy(),
        investment=np.zeros(len(nbdf)))

    # ---- dwellings
    private = t.dwellings
    social = t.social_stock.reset_index(drop=True)
    res_ids = list(dict.fromkeys(social.residence))
    res_index = {r: i for i, r in enumerate(res_ids)}
    landlords = list(dict.fromkeys(social.landlord))
    ll_index = {r: i for i, r in enumerate(landlords)}
    n_dw = int(private["count"].sum() + social["count"].sum())
    dw = Table(DWELLING_COLUMNS, 0)
    dw.add(n_dw)
    pc = private["count"].to_numpy(np.int64)
    sc = social["count"].to_numpy(np.int64)
    npriv = int(pc.sum())
    dw.nbhd[:npriv] = np.repeat(private.neighbourhood.map(nb_index).to_numpy(), pc)
    dw.sector[:npriv] = np.repeat(np.where(private.sector == "owner", S_OWNER, S_PRIVATE), pc)
    dw.rooms[:npriv] = np.repeat(private.rooms.to_numpy(), pc)
    s = slice(npriv, n_dw)
    dw.nbhd[s] = np.repeat(social.neighbourhood.map(nb_index).to_numpy(), sc)
    dw.sector[s] = S_SOCIAL
    dw.rooms[s] = np.repeat(social.rooms.to_numpy(), sc)
    dw.residence[s] = np.repeat(social.residence.map(res_index).to_numpy(), sc)
    dw.landlord[s] = np.repeat(social.landlord.map(ll_index).to_numpy(), sc)
    dw.financing[s] = np.repeat(social.financing.map({f: i for i, f in enumerate(FINANCING)})
                                .to_numpy(), sc)
    dw.rent_m2[s] = np.repeat(social.rent_m2.to_numpy(float), sc)
    dw.area[:] = AREA_BY_ROOMS[dw.rooms] * rng.uniform(0.9, 1.1, n_dw)
    n_soc = n_dw - npriv
    if "holder" in social.columns:
        dw.holder[s] = np.repeat(social.holder.map({h: i for i, h in enumerate(HOLDERS)})
                                 .to_numpy(), sc)
    else:
        shares = np.asarray(holder_shares if holder_shares is not None else (0.3, 0.3, 0.2, 0.2))
        counts = np.floor(shares * n_soc).astype(int)
        counts[-1] = n_soc - counts[:-1].sum()
        dw.holder[s] = rng.permutation(np.repeat(np.arange(4), counts))

    # ---- households
    pop = t.population.reset_index(drop=True)
    cnt = pop["count"].to_numpy(np.int64)
    n_hh = int(cnt.sum())
    hh = Table(HOUSEHOLD_COLUMNS, 0)
    idx = hh.add(n_hh)
    tenure_code = {"social": SOCIAL, "private": PRIVATE, "owner": OWNER, "hosted": HOSTED}
    hh.tenure[:] = np.repeat(pop.tenure.map(tenure_code).to_numpy(), cnt)
    hh.nbhd[:] = np.repeat(pop.neighbourhood.map(nb_index).to_numpy(), cnt)
    quart = np.repeat(pop.quartile.to_numpy(), cnt)
    types = np.repeat(pop.hh_type.map({h: i for i, h in enumerate(HH_TYPES)}).to_numpy(), cnt)
    synthesise_households(rng, hh, idx, types.astype(np.int8), z_from_quartile(rng, quart))
    hh.income_uc[:] = income_from_z(hh.z, MEDIAN_INCOME_UC)
    hh.cohort[:] = True
    hh.quartile[:] = quart
    # time already spent in place: roughly exponential, mean 8 years (owners 14)
    mean_stay = np.where(hh.tenure == OWNER, 168.0, np.where(hh.tenure == PRIVATE, 48.0, 110.0))
    hh.move_in[:] = -np.minimum(rng.exponential(mean_stay), 600).astype(np.int32)

    # ---- match households to dwellings by size within (neighbourhood, sector)
    housed = np.flatnonzero(hh.tenure != HOSTED)
    h_group = hh.nbhd[housed].astype(np.int64) * 3 + hh.tenure[housed]
    d_group = dw.nbhd.astype(np.int64) * 3 + dw.sector
    # keep a random subset of dwellings of each group, as many as households
    h_count = np.bincount(h_group, minlength=len(nb) * 3)
    d_order = np.lexsort((rng.random(n_dw), d_group))
    d_sorted_group = d_group[d_order]
    starts = np.searchsorted(d_sorted_group, np.arange(len(nb) * 3))
    rank = np.arange(n_dw) - starts[d_sorted_group]
    kept = d_order[rank < h_count[d_sorted_group]]
    size = household_size(hh, housed)
    h_sorted = housed[np.lexsort((size + rng.normal(0, 0.9, len(housed)), h_group))]
    kg = d_group[kept]
    d_sorted = kept[np.lexsort((dw.rooms[kept] * 1.5 + rng.normal(0, 0.9, len(kept)), kg))]
    hh.dwelling[h_sorted] = d_sorted
    dw.occupant[d_sorted] = h_sorted
    vacant = dw.occupant < 0
    dw.months_vacant[vacant] = rng.integers(0, 4, vacant.sum())

    state = State(hh=hh, dw=dw, nb=nb, commune_ids=com_ids,
                  commune_names=list(t.communes.name),
                  sru_applies=t.communes.sru_applies.to_numpy().astype(bool),
                  residence_ids=res_ids, landlord_ids=landlords)

    # ---- applicants: eligible households only (income within the PLUS ceiling, as for the
    # applications of the run), their demands of the ages a lifecycle at rest gives
    app = t.applicants
    weights = commune_weights(state)
    eligible = (ceiling_resources(hh, median=state.median_income_uc)
                <= plus_ceiling(hh, index=state.ceiling_index))
    for row in app.itertuples(index=False):
        pool = np.flatnonzero((hh.tenure == tenure_code[row.tenure]) & (hh.quartile == row.quartile)
                              & (hh.app == APP_NONE) & eligible)
        pick = rng.choice(pool, size=min(int(row.count), len(pool)), replace=False)
        hh.app[pick] = APP_TRANSFER if row.tenure == "social" else APP_FIRST
        hh.app_month[pick] = -pending_ages(rng, len(pick))
        hh.priority[pick] = bool(row.priority)
    apps = np.flatnonzero(hh.app > 0)
    hh.wishes[apps] = draw_wishes(rng, nb.commune[hh.nbhd[apps]], wish_breadth, weights)
    # hosted households that are not applicants look for a private dwelling
    hh.seek[(hh.tenure == HOSTED) & (hh.app == APP_NONE)] = SEEK_RENT
    state.initial_households = n_hh
    state.start_households = int((hh.dwelling >= 0).sum())
    state.commune_w = commune_weights(state)
    update_quartiles(state)
    update_q1_threshold(state)
    return state


PENDING_MEAN_AGE_MONTHS = 721 / (365.25 / 12)  # ANCOLS 2022: mean wait of pending demands
PENDING_MAX_AGE_MONTHS = 120


def pending_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages in whole months (≥ 0) of ``n`` pending demands of a queue at rest.

    With constant inflows, and each year a share of the demands allocated (≈17.5 %: 420,000 of
    2.4 M in 2022, SDES/ANCOLS) and a share not renewed (``Behaviour.renewal_dropout``), the
    ages of pending demands are close to exponential; the mean is the national 721 days
    (ANCOLS 2022), the ages capped at ten years.
    """
    a = rng.exponential(PENDING_MEAN_AGE_MONTHS, n)
    return np.minimum(np.floor(a), PENDING_MAX_AGE_MONTHS).astype(np.int32)


def commune_weights(state: State) -> np.ndarray:
    """Weight of each commune in applicants' wishes: its social stock."""
    dw = state.dw
    soc = (dw.sector == S_SOCIAL) & dw.active
    per_nb = np.bincount(dw.nbhd[soc], minlength=len(state.nb))
    return np.bincount(state.nb.commune, weights=per_nb, minlength=len(state.commune_ids)) + 1.0


def update_quartiles(state: State) -> None:
    """Recompute income quartiles (1..4) over living households (yearly)."""
    hh = state.hh
    alive = hh.alive
    cuts = np.quantile(hh.income_uc[alive], [0.25, 0.5, 0.75])
    state.quartile_cuts = cuts
    hh.quartile[alive] = 1 + np.searchsorted(cuts, hh.income_uc[alive], side="right")


def update_q1_threshold(state: State) -> None:
    """Q1 threshold: first quartile of applicants' income per UC (L441-1 CCH, yearly arrêté)."""
    hh = state.hh
    apps = hh.alive & (hh.app > 0)
    if apps.any():
        state.q1_threshold = float(np.quantile(hh.income_uc[apps], 0.25))


def is_q1_applicant(state: State, idx) -> np.ndarray:
    """Whether households are below the applicants' Q1 threshold."""
    return state.hh.income_uc[idx] <= state.q1_threshold


def open_applications(state: State, idx: np.ndarray, kind: int, rng: np.random.Generator,
                      breadth: int) -> None:
    """Register social-housing applications (first application or transfer) with their wishes.

    Households of ``idx`` that already apply are left as they are.
    """
    hh = state.hh
    # priority status (DALO / L441-1 criteria: homelessness, over-crowding with children,
    # very low income...). Assumption [U]: 5 % of applicants, +20 points of probability
    # for low incomes and +15 for households without a home; tuned so that about a quarter of
    # leases go to priority households, the legal target (L441-1 CCH).
    idx, p = _open(hh.app, hh.app_month, hh.refusals, hh.z, hh.tenure,
                   np.asarray(idx, np.int64), kind, state.month)
    if len(idx) == 0:
        return
    u = rng.random(len(idx))
    home = _priority_and_home(hh.priority, hh.nbhd, state.nb.commune, idx, u, p)
    hh.wishes[idx] = draw_wishes(rng, home, breadth, state.commune_w)


@njit
def _open(app, app_month, refusals, z, tenure, idx, kind, month):
    """Open applications for the members of ``idx`` without one; return them and P(priority)."""
    n = 0
    for i in idx:
        if app[i] == APP_NONE:
            n += 1
    out = np.empty(n, np.int64)
    p = np.empty(n)
    n = 0
    for i in idx:
        if app[i] == APP_NONE:
            out[n] = i
            p[n] = 0.05 + 0.20 * (1.0 if z[i] < -0.5 else 0.0) \
                + 0.15 * (1.0 if tenure[i] == HOSTED else 0.0)
            n += 1
    for i in out:
        app[i] = kind
        app_month[i] = month
        refusals[i] = 0
    return out, p


@njit
def _priority_and_home(priority, nbhd, commune, idx, u, p):
    """Priority status drawn (``u`` < ``p``) for new applicants; return their home communes."""
    home = np.empty(len(idx), np.int64)
    for j in range(len(idx)):
        i = idx[j]
        if u[j] < p[j]:
            priority[i] = True
        home[j] = commune[nbhd[i]]
    return home

"""Household structure, vital rates and stock indicators of one year (docs/indicators.md).

These rows describe the baseline's own dynamics (register ``demography``): the structure of the
housed population (persons per household, shares of household types), the year's births and
deaths per 1,000 persons, who applies, vacancy by dwelling size and in the private stock, and
the size of the household table. They are cheap (one pass over the columns) and recorded every
year.
"""

from __future__ import annotations

import numpy as np

from ..rules import household_size
from ..state import APP_NONE, S_OWNER, S_PRIVATE, S_SOCIAL, State
from .composition import TYPE_NAMES

Row = tuple[str, str, str, str, float]


def demography_rows(state: State) -> list[Row]:
    """Structure and stock rows of the current state; the year's vital counts from its counters."""
    hh, dw = state.hh, state.dw
    nan = float("nan")
    rows: list[Row] = []

    def add(name: str, value: float) -> None:
        rows.append(("epci", "EPCI", "demography", name, float(value)))

    alive = hh.alive
    housed = alive & (hh.dwelling >= 0)
    size = household_size(hh)
    n_housed = int(housed.sum())
    persons_all = float(size[alive].sum())
    add("persons_per_household", size[housed].mean() if n_housed else nan)
    add("one_person_share", (size[housed] == 1).mean() if n_housed else nan)
    types = np.bincount(hh.hh_type[housed], minlength=len(TYPE_NAMES))
    for k, name in enumerate(TYPE_NAMES):
        add(f"type_share_{name}", types[k] / n_housed if n_housed else nan)
    add("persons_living", persons_all)
    c = state.counters
    per_k = 1000.0 / persons_all if persons_all else nan
    for name in ("births", "deaths_persons", "unions", "separations", "children_leaving"):
        add(name, c.get(name, 0))
    add("births_per_1000", c.get("births", 0) * per_k)
    add("deaths_per_1000", c.get("deaths_persons", 0) * per_k)
    apps = alive & (hh.app != APP_NONE)
    n_apps = int(apps.sum())
    add("applicants_single_person_share", (size[apps] == 1).mean() if n_apps else nan)
    soc = (dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish
    vacant = dw.occupant < 0
    for r in range(1, 6):
        m = soc & (dw.rooms == r)
        add(f"vacancy_t{r}", (m & vacant).sum() / m.sum() if m.any() else nan)
    for name, sector in (("private_rental_vacancy", S_PRIVATE), ("owner_vacancy", S_OWNER)):
        m = (dw.sector == sector) & dw.active
        add(name, (m & vacant).sum() / m.sum() if m.any() else nan)
    m = (dw.sector != S_SOCIAL) & dw.active
    add("private_vacancy", (m & vacant).sum() / m.sum() if m.any() else nan)
    active = dw.active
    soc_all = (dw.sector == S_SOCIAL) & active
    add("dwellings", int(active.sum()))
    add("social_share_of_dwellings", soc_all.sum() / active.sum() if active.any() else nan)
    in_qpv = state.nb.qpv[dw.nbhd]
    add("qpv_share_of_social_dwellings",
        (soc_all & in_qpv).sum() / soc_all.sum() if soc_all.any() else nan)
    # INSEE: below 60 % of the median living standard of the population (here, housed households)
    median = float(np.median(hh.income_uc[housed])) if n_housed else nan
    poor = hh.income_uc < 0.6 * median
    in_qpv_hh = np.zeros(hh.n, bool)
    in_qpv_hh[housed] = state.nb.qpv[hh.nbhd[housed]]
    add("poverty_rate", poor[housed].mean() if n_housed else nan)
    add("poverty_rate_qpv", poor[in_qpv_hh].mean() if in_qpv_hh.any() else nan)
    add("household_rows", hh.n)
    add("living_households", int(alive.sum()))
    return rows

"""Polarisation of the population at every scale and register (docs/indicators.md), as tidy rows.

Rows are ``(scale, unit, register, indicator, value)``; the recorder adds run id, year and month.
``scale`` is the level of the area a row describes (``epci``, ``commune``, ``neighbourhood``);
segregation indices name the sub-units they are computed over (``…_by_neighbourhoods``). Indices
are computed on all housed households and, with the suffix ``_social``, on social tenants alone.
Definitions: ``docs/indicators.md``.
"""

from __future__ import annotations

import numpy as np

from ..rules import household_size
from ..state import S_SOCIAL, SOCIAL, State
from .segregation import dissimilarity, exposure, gini, isolation, share_spread, theil_h

AGE_CLASSES = ("under_30", "30_59", "60_plus")
TYPE_NAMES = ("single", "couple", "couple_children", "single_parent", "other")

Row = tuple[str, str, str, str, float]


def _counts(units: np.ndarray, groups: np.ndarray, n_units: int, n_groups: int) -> np.ndarray:
    """Units × groups count matrix."""
    return np.bincount(units * n_groups + groups, minlength=n_units * n_groups).reshape(
        n_units, n_groups).astype(float)


def composition_rows(state: State) -> list[Row]:
    """Polarisation indicators of the current state (all housed households and social tenants)."""
    hh, dw, nb = state.hh, state.dw, state.nb
    housed = np.flatnonzero(hh.alive & (hh.dwelling >= 0))
    d = hh.dwelling[housed]
    nbh = hh.nbhd[housed].astype(np.int64)
    com = nb.commune[nbh].astype(np.int64)
    res = dw.residence[d].astype(np.int64)
    q = hh.quartile[housed].astype(np.int64) - 1
    age = hh.age[housed]
    age_cls = np.where(age < 30, 0, np.where(age < 60, 1, 2)).astype(np.int64)
    typ = hh.hh_type[housed].astype(np.int64)
    social = hh.tenure[housed] == SOCIAL
    n_nb, n_com = len(nb), len(state.commune_ids)
    n_res = max(1, len(state.residence_ids))
    rows: list[Row] = []

    def add(scale: str, unit: str, register: str, name: str, value: float) -> None:
        rows.append((scale, unit, register, name, float(value)))

    for pop_name, mask in (("", np.ones(len(housed), bool)), ("_social", social)):
        m_nb, m_com = nbh[mask], com[mask]
        registers = (("income", q[mask], 4, 0, "q1"), ("age", age_cls[mask], 3, 2, "60_plus"),
                     ("household_type", typ[mask], 5, 3, "single_parent"))
        for register, grp, k, focus, focus_name in registers:
            by_nb = _counts(m_nb, grp, n_nb, k)
            by_com = _counts(m_com, grp, n_com, k)
            tag = "quartiles" if register == "income" else ("ages" if register == "age"
                                                            else "types")
            for by, mat in (("communes", by_com), ("neighbourhoods", by_nb)):
                add("epci", "EPCI", register, f"dissimilarity_{focus_name}_by_{by}{pop_name}",
                    dissimilarity(mat[:, focus], mat.sum(1)))
                add("epci", "EPCI", register, f"theil_h_{tag}_by_{by}{pop_name}", theil_h(mat))
            add("epci", "EPCI", register, f"isolation_{focus_name}_by_neighbourhoods{pop_name}",
                isolation(by_nb[:, focus], by_nb.sum(1)))
            if register == "income":
                tot = by_nb.sum(1)
                add("epci", "EPCI", register, f"exposure_q1_to_q4_by_neighbourhoods{pop_name}",
                    exposure(by_nb[:, 0], by_nb[:, 3], tot))
                sp = share_spread(by_nb[:, 0], tot)
                add("epci", "EPCI", register, f"q1_share_max_min_ratio{pop_name}", sp.ratio)
                add("epci", "EPCI", register, f"q1_share_range{pop_name}", sp.range)
                ok = tot > 0
                add("epci", "EPCI", register, f"q1_share_gini{pop_name}",
                    gini(by_nb[ok, 0] / tot[ok], tot[ok]))
                # outside QPV only (ANCOLS, Dubois & Karker: more Q1 leases outside QPV did not
                # raise segregation there)
                out = ~nb.qpv
                add("epci", "EPCI", register,
                    f"dissimilarity_q1_by_neighbourhoods_outside_qpv{pop_name}",
                    dissimilarity(by_nb[out, 0], by_nb[out].sum(1)))
                q1_tot = by_nb[:, 0].sum()
                add("epci", "EPCI", register, f"q1_share_in_qpv{pop_name}",
                    by_nb[nb.qpv, 0].sum() / q1_tot if q1_tot else float("nan"))
                add("epci", "EPCI", register, f"q1_share{pop_name}",
                    q1_tot / tot.sum() if tot.sum() else float("nan"))
                in_qpv = by_nb[nb.qpv].sum(0)
                add("epci", "EPCI", register, f"q1_share_of_qpv_households{pop_name}",
                    in_qpv[0] / in_qpv.sum() if in_qpv.sum() else float("nan"))
                # communes: D and H over their neighbourhoods; neighbourhoods: Q1 share
                for c in range(n_com):
                    sub = by_nb[nb.commune == c]
                    cid = state.commune_ids[c]
                    add("commune", cid, register, f"dissimilarity_q1_by_neighbourhoods{pop_name}",
                        dissimilarity(sub[:, 0], sub.sum(1)))
                    add("commune", cid, register, f"theil_h_quartiles_by_neighbourhoods{pop_name}",
                        theil_h(sub))
                    st = by_com[c].sum()
                    add("commune", cid, register, f"q1_share{pop_name}",
                        by_com[c, 0] / st if st else float("nan"))
                for j in range(n_nb):
                    add("neighbourhood", nb.ids[j], register, f"q1_share{pop_name}",
                        by_nb[j, 0] / tot[j] if tot[j] else float("nan"))
        if pop_name == "_social":
            m_res = res[mask]
            by_res = _counts(m_res, q[mask], n_res, 4)
            add("epci", "EPCI", "income", "dissimilarity_q1_by_residences_social",
                dissimilarity(by_res[:, 0], by_res.sum(1)))
            add("epci", "EPCI", "income", "theil_h_quartiles_by_residences_social",
                theil_h(by_res))
            res_commune = _residence_commune(state)
            for c in range(n_com):
                sub = by_res[res_commune == c]
                add("commune", state.commune_ids[c], "income",
                    "dissimilarity_q1_by_residences_social", dissimilarity(sub[:, 0],
                                                                           sub.sum(1)))
    # context: households, persons, attractiveness, social stock
    n_hh = np.bincount(nbh, minlength=n_nb)
    for j in range(n_nb):
        add("neighbourhood", nb.ids[j], "context", "households", n_hh[j])
        add("neighbourhood", nb.ids[j], "context", "attractiveness", nb.attractiveness[j])
    add("epci", "EPCI", "context", "households", len(housed))
    add("epci", "EPCI", "context", "persons", household_size(hh, housed).sum())
    add("epci", "EPCI", "context", "hosted_households",
        int((hh.alive & (hh.dwelling < 0)).sum()))
    soc_active = (dw.sector == S_SOCIAL) & dw.active
    add("epci", "EPCI", "context", "social_dwellings", int(soc_active.sum()))
    add("epci", "EPCI", "context", "social_dwellings_in_qpv",
        int((soc_active & nb.qpv[dw.nbhd]).sum()))
    add("epci", "EPCI", "context", "median_income_uc", float(np.median(hh.income_uc[housed])))
    add("epci", "EPCI", "context", "q1_threshold_applicants", state.q1_threshold)
    return rows


def _residence_commune(state: State) -> np.ndarray:
    """Commune index of each résidence (−1 for résidences with no active dwelling)."""
    dw = state.dw
    n_res = max(1, len(state.residence_ids))
    out = np.full(n_res, -1, np.int64)
    soc = (dw.residence >= 0)
    out[dw.residence[soc]] = state.nb.commune[dw.nbhd[soc]]
    return out

"""A territory built from public data (INSEE Filosofi IRIS, SDES RPLS) and an IRIS table.

ODD §6 asks for importers of the public sources a user may hold, and for a synthetic population
fitted to their margins. Each source has its reader, in a module of its own and re-exported here:

* the INSEE **Filosofi** IRIS tables of disposable (``DISP_``) or declared (``DEC_``) income per
  consumption unit (:func:`read_filosofi_iris`, :mod:`~mixsim.calibration.filosofi`; format in
  docs/sources.md §5: ``;`` separator, ``,`` decimals, missing-value codes ``nd``, ``ns``,
  ``so``, ``s``, year-suffixed columns such as ``DISP_MED21``);
* the SDES **RPLS** results per commune (:func:`read_rpls_communes`,
  :mod:`~mixsim.calibration.rpls`; key ``DEPCOM_ARM``);
* a small user table of the EPCI's IRIS/neighbourhoods (:func:`read_iris_table`,
  :mod:`~mixsim.calibration.iris_table`, columns in :data:`IRIS_TABLE_COLUMNS`);

the income model is :mod:`~mixsim.calibration.income` and the shared reading helpers
:mod:`~mixsim.calibration.readers`. This module holds the builder's steps and assumptions:
and :func:`build_territory_from_public` turns them into the six territory tables of
:mod:`mixsim.model.territory`, with the joint population table fitted by iterative proportional
fitting (:func:`mixsim.calibration.ipf.ipf`). Every problem in a user file raises
:class:`mixsim.model.errors.InputError` naming the file, the row (numbered as the file's lines,
the header being row 1) and the column.

The usual entry point is ``mixsim territory build`` (:mod:`mixsim.calibration.territory_build`,
docs/territory.md), which makes the IRIS table from the IGN contours, the census and the QPV
perimeters and calls :func:`build_territory_from_public`. The older command line
``python -m mixsim.calibration.importers FILOSOFI RPLS IRIS_TABLE --out FOLDER`` writes a
territory folder from a hand-written IRIS table (``--check`` compares with an existing one).

Figures marked [U] below are assumptions (orders of magnitude, not verified statistics); [V]
figures are stated in the cited source (legend of docs/sources.md).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from mixsim.model.errors import InputError
from mixsim.model.territory import HH_TYPES, SCHEMA, TENURES, validate

from .filosofi import read_filosofi_iris
from .income import (
    NATIONAL_LIVING_STANDARD,
    IncomeSplit,
    national_quartile_cuts,
    quartiles_by_neighbourhood,
)
from .ipf import integerise, ipf, largest_remainder, margin_error
from .iris_table import IRIS_TABLE_COLUMNS, read_iris_table
from .readers import MISSING_CODES, fail
from .rpls import RPLS_REQUIRED, read_rpls_communes

#: Extra tables returned by :func:`build_territory_from_public` besides the territory schema.
REPORT_TABLES = ("ipf_fit", "ipf_margins", "income_fit")

# ---- assumptions of the builder [U]: orders of magnitude shared with the embedded default
# territory (model/data/build_default.py), to be replaced by local figures where known.
HOSTED_RATE = {0: 0.025, 1: 0.035}  # hosted households per household, outside / in QPV [U]
DWELLING_VACANCY = {"private": 0.07, "owner": 0.03}  # vacant share of the sector's stock [U]
DEFAULT_SOCIAL_OCCUPANCY = 0.976  # let share when RPLS lacks it: 1 - 2.4 % vacancy [V RPLS 2023]
ROOM_SHARES = {  # shares of 1..5+ rooms [U]
    "social": (0.08, 0.20, 0.38, 0.26, 0.08),
    "private": (0.20, 0.30, 0.27, 0.15, 0.08),
    "owner": (0.02, 0.08, 0.20, 0.30, 0.40),
}
FINANCING_SHARES = (0.10, 0.82, 0.08)  # PLAI, PLUS (incl. pre-1977 HLM), PLS when RPLS lacks it [U]
SOCIAL_RENT_M2 = {"PLAI": 5.3, "PLUS": 6.1, "PLS": 8.4}  # €/m²; SDES mean 6.27 (1/1/2023) [V]
# National income quartile shares by tenure (rows: TENURES order). They only set the seed's
# tenure x income association; the neighbourhood margins come from the data. Social tenants:
# > 1/3 below the poverty line (USH 2022) and a median living standard of 15,100 € (Insee 2016)
# put about half of them in Q1 [U].
QUARTILE_BY_TENURE = np.array([
    (0.45, 0.28, 0.18, 0.09),  # social
    (0.30, 0.26, 0.23, 0.21),  # private
    (0.14, 0.22, 0.29, 0.35),  # owner
    (0.55, 0.25, 0.13, 0.07),  # hosted
])
# Household types by tenure (columns: HH_TYPES order), census orders of magnitude [U]; applicants
# 45 % single, 24.5 % single parents (FOPH 2022) [V] guide the hosted row.
TYPE_BY_TENURE = np.array([
    (0.40, 0.14, 0.21, 0.21, 0.04),  # social
    (0.47, 0.20, 0.17, 0.12, 0.04),  # private
    (0.30, 0.33, 0.28, 0.06, 0.03),  # owner
    (0.55, 0.10, 0.10, 0.23, 0.02),  # hosted
])
# Relative odds of each income quartile by household type (seed only) [U].
QUARTILE_BY_TYPE = np.array([
    (1.1, 1.0, 0.95, 0.95),  # single
    (0.7, 0.9, 1.1, 1.3),  # couple
    (0.9, 1.0, 1.05, 1.05),  # couple_children
    (1.6, 1.1, 0.8, 0.5),  # single_parent
    (1.2, 1.0, 0.9, 0.9),  # other
])
# Applications (transfer requests of social tenants, first applications of private tenants and
# hosted households) per household, with relative rates by quartile and priority shares; the same
# orders of magnitude as the default territory (≈ 4.3 applicants per yearly allocation, SDES 2022)
# [U]. Replace applicants.csv with SNE counts when available.
APPLICATION_RATE = {"social": 0.14, "private": 0.09, "hosted": 1.0}
APPLICATION_BY_QUARTILE = (1.6, 1.0, 0.5, 0.15)
PRIORITY_SHARE = {"social": 0.06, "private": 0.18, "hosted": 0.30}
SRU_MIN_HOUSEHOLDS = 1_500  # ≈ 3,500 inhabitants at ~2.2 persons per household [U]


class TenureSplit(NamedTuple):
    """Step 1 of the builder: households by neighbourhood and tenure, and the social stock.

    Attributes:
        households: Households in main residences per neighbourhood (integers).
        stock: Social dwellings per neighbourhood.
        tenure: Households per neighbourhood x tenure (:data:`TENURES` order), hosted included.
        financing: Commune code -> shares of PLAI, PLUS, PLS.
        rooms: Commune code -> shares of 1..5+ rooms.
        libcom: Commune code -> RPLS commune name (when the RPLS table has ``libcom``).
    """

    households: np.ndarray
    stock: np.ndarray
    tenure: np.ndarray
    financing: dict[str, np.ndarray]
    rooms: dict[str, np.ndarray]
    libcom: dict[str, str]


class PopulationFit(NamedTuple):
    """Step 3 of the builder: the joint population and its fit reports.

    Attributes:
        counts: Households per neighbourhood x tenure x quartile x household type (integers).
        population: The ``population`` table.
        ipf_fit: Per margin: cells, total, iterations, convergence, errors (report table).
        ipf_margins: Every target cell with its fitted and rounded value (report table).
    """

    counts: np.ndarray
    population: pd.DataFrame
    ipf_fit: pd.DataFrame
    ipf_margins: pd.DataFrame


def _check_frames(fil: pd.DataFrame, rp: pd.DataFrame) -> None:
    for name, df, cols in (("filosofi", fil, ("iris",)), ("rpls", rp, ("depcom_arm", "nb_ls"))):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise InputError(f"missing column(s) {', '.join(miss)}; pass the table returned by "
                             f"the reader of this module", source=name)


def tenure_by_neighbourhood(it: pd.DataFrame, rp: pd.DataFrame,
                            households: float | None = None) -> TenureSplit:
    """Households by tenure and the social stock of each neighbourhood (builder step 1).

    See :func:`build_territory_from_public` (step 1) for the method.

    Args:
        it: The IRIS table (:func:`read_iris_table`).
        rp: The RPLS table (:func:`read_rpls_communes`).
        households: Total households wanted (the table is rescaled), or None.
    """
    qpv = it.qpv.to_numpy().astype(int)
    hh_int = _households(it, households)
    weight = hh_int * _social_share(it)
    stock = np.zeros(len(it), np.int64)
    occupied = np.zeros(len(it), np.int64)
    fin_shares: dict[str, np.ndarray] = {}
    room_shares: dict[str, np.ndarray] = {}
    rp_by = rp.set_index("depcom_arm")
    absent = []
    for com in dict.fromkeys(it.commune):
        idx = np.flatnonzero(it.commune.to_numpy() == com)
        if com not in rp_by.index:
            absent.append(com)
            fin_shares[com] = np.array(FINANCING_SHARES)
            room_shares[com] = np.array(ROOM_SHARES["social"])
            continue
        row = rp_by.loc[com]
        stock[idx], occupied[idx] = _commune_stock(com, row, qpv[idx], weight[idx], hh_int[idx])
        fin_shares[com] = _rpls_shares(row, _FINANCING_COLUMNS, np.array(FINANCING_SHARES))
        room_shares[com] = _rpls_room_shares(row)
    if absent:
        warnings.warn(f"commune(s) {', '.join(absent)} of the IRIS table are not in the RPLS "
                      "table: no social stock there", UserWarning, stacklevel=2)
    short = occupied > hh_int
    if short.any():
        warnings.warn("more RPLS social tenants than households in the IRIS table for "
                      + ", ".join(it.neighbourhood[short]) + "; households raised to match",
                      UserWarning, stacklevel=2)
        hh_int = np.maximum(hh_int, occupied)
    tenure_nb = _tenures(it, hh_int, occupied, qpv)
    if tenure_nb.sum() == 0:
        raise InputError("the IRIS table gives no households", source="iris_table",
                         field="households")
    libcom = rp_by["libcom"].to_dict() if "libcom" in rp_by else {}
    return TenureSplit(hh_int, stock, tenure_nb, fin_shares, room_shares, libcom)


def _households(it: pd.DataFrame, households: float | None) -> np.ndarray:
    """Whole households per neighbourhood, rescaled to ``households`` in total when given."""
    hh = it.households.to_numpy(float)
    if households is not None:
        if not (np.isfinite(households) and households > 0):
            raise InputError(f"got {households!r}; expected a positive number of households",
                             field="households")
        hh = hh * (float(households) / hh.sum())
    return largest_remainder(hh)


def _social_share(it: pd.DataFrame) -> np.ndarray:
    """Share of social tenants: ``social_share`` when given, else 1 - owners - private."""
    soc_share = np.clip(1.0 - it.owner_share - it.private_share, 0.0, 1.0).to_numpy()
    if "social_share" in it:
        given = it.social_share.to_numpy()
        soc_share = np.where(np.isfinite(given), given, soc_share)
    return soc_share


def _commune_stock(com: str, row: pd.Series, qpv: np.ndarray, weight: np.ndarray,
                   hh_int: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One commune's RPLS stock spread over its neighbourhoods, and the let part of it.

    ``nb_ls_en_qpv`` goes to the QPV neighbourhoods and the rest to the others, in proportion
    to ``weight`` (households x social share; households when the weights are all 0); the whole
    stock is spread over all of them when one group is empty. ``nb_loues / nb_ls`` of it is let.
    """
    n_ls = row.get("nb_ls")
    if n_ls is None or not np.isfinite(n_ls):
        raise fail(f"nb_ls is missing for commune {com!r}, which the IRIS table uses",
                   "rpls", column="nb_ls")
    n_ls = int(round(n_ls))
    n_qpv = row.get("nb_ls_en_qpv", 0.0)
    n_qpv = int(round(min(n_qpv, n_ls))) if np.isfinite(n_qpv) else 0
    q_idx, o_idx = np.flatnonzero(qpv == 1), np.flatnonzero(qpv == 0)
    if n_qpv and q_idx.size == 0 or (n_ls - n_qpv) and o_idx.size == 0:
        parts = [(np.arange(qpv.size), n_ls)]
        if n_qpv and q_idx.size == 0:
            warnings.warn(f"commune {com}: RPLS counts {n_qpv} social dwellings in QPV but "
                          "the IRIS table has no QPV neighbourhood there; spreading the "
                          "whole stock", UserWarning, stacklevel=3)
    else:
        parts = [(q_idx, n_qpv), (o_idx, n_ls - n_qpv)]
    stock = np.zeros(qpv.size, np.int64)
    for sub, n in parts:
        if sub.size == 0 or n == 0:
            continue
        wts = weight[sub] if weight[sub].sum() > 0 else hh_int[sub].astype(float)
        stock[sub] = largest_remainder(wts, n)
    loues = row.get("nb_loues", np.nan)
    occ = float(loues) / n_ls if n_ls > 0 and np.isfinite(loues) else DEFAULT_SOCIAL_OCCUPANCY
    occ = min(max(occ, 0.0), 1.0)
    return stock, np.minimum(stock, largest_remainder(stock * occ, round(stock.sum() * occ)))


def _tenures(it: pd.DataFrame, hh_int: np.ndarray, occupied: np.ndarray,
             qpv: np.ndarray) -> np.ndarray:
    """Households by tenure: social (let stock), private and owners in the table's ratio, hosted."""
    rest = hh_int - occupied
    op = (it.owner_share + it.private_share).to_numpy()
    own_frac = np.where(op > 0, it.owner_share.to_numpy() / np.where(op > 0, op, 1.0), 0.0)
    owners = np.rint(rest * own_frac).astype(np.int64)
    private = rest - owners
    default_hosted = hh_int * np.where(qpv == 1, HOSTED_RATE[1], HOSTED_RATE[0])
    if "hosted" in it:
        hosted = np.rint(np.where(np.isfinite(it.hosted), it.hosted, default_hosted))
    else:
        hosted = np.rint(default_hosted)
    return np.stack([occupied, private, owners, hosted.astype(np.int64)], axis=1)


def fit_population(ids: Sequence[str], tenure_nb: np.ndarray, quartile_nb: np.ndarray,
                   rng: np.random.Generator, household_types: np.ndarray | None = None
                   ) -> PopulationFit:
    """Joint population neighbourhood x tenure x quartile x type by IPF (builder step 3).

    Margins: neighbourhood x tenure, neighbourhood x quartile, and either neighbourhood x type
    (``household_types``: the census structure of each neighbourhood, shares or counts, rescaled
    to its households) or tenure x type (:data:`TYPE_BY_TENURE` applied to the tenure totals).
    The seed carries the national associations (:data:`QUARTILE_BY_TENURE`,
    :data:`TYPE_BY_TENURE`, :data:`QUARTILE_BY_TYPE`); rounding by
    :func:`mixsim.calibration.ipf.integerise` keeps neighbourhood x tenure exact.
    """
    margins, labels = _margins(tenure_nb, quartile_nb, household_types)
    fit = ipf(_seed_table(len(ids)), margins)
    pop_arr = integerise(fit.fitted, rng, margins=[m[0] for m in margins], weights=(3, 1, 1))
    keys = (list(ids), list(TENURES), [1, 2, 3, 4], list(HH_TYPES))
    fit_rows = [_fit_row(label, axes, target, fit, mf, pop_arr)
                for label, (axes, target), mf in zip(labels, margins, fit.margins, strict=True)]
    margin_rows = [row for label, (axes, target) in zip(labels, margins, strict=True)
                   for row in _margin_rows(label, axes, target, fit.fitted, pop_arr, keys)]
    if not fit.converged:
        warnings.warn(f"IPF did not converge in {fit.iterations} cycles (max abs error "
                      f"{fit.max_abs_error:.3g}); see the ipf_fit table", UserWarning, stacklevel=2)
    pop_rows = [{"neighbourhood": keys[0][n], "tenure": TENURES[t], "quartile": q + 1,
                 "hh_type": HH_TYPES[h], "count": int(pop_arr[n, t, q, h])}
                for n, t, q, h in zip(*np.nonzero(pop_arr), strict=True)]
    return PopulationFit(pop_arr, pd.DataFrame(pop_rows, columns=list(SCHEMA["population"])),
                         pd.DataFrame(fit_rows), pd.DataFrame(margin_rows))


_AXIS_NAMES = ("neighbourhood", "tenure", "quartile", "hh_type")


def _seed_table(n_nb: int) -> np.ndarray:
    """IPF seed: the national tenure x quartile x type associations, alike in every place."""
    return (np.ones((n_nb, 1, 1, 1)) * QUARTILE_BY_TENURE[None, :, :, None]
            * TYPE_BY_TENURE[None, :, None, :] * QUARTILE_BY_TYPE.T[None, None, :, :])


def _margins(tenure_nb: np.ndarray, quartile_nb: np.ndarray,
             household_types: np.ndarray | None) -> tuple[list, tuple[str, str, str]]:
    """Make the three IPF margins ``(axes, target)`` and their labels (builder step 3)."""
    if household_types is None:
        tenure_tot = tenure_nb.sum(axis=0)
        type_m = ((1, 3), np.stack([largest_remainder(TYPE_BY_TENURE[t], tenure_tot[t])
                                    for t in range(len(TENURES))]))
        type_label = "tenure x hh_type"
    else:
        tot_nb = tenure_nb.sum(axis=1)
        ht = np.asarray(household_types, float)
        type_m = ((0, 3), np.stack([largest_remainder(ht[i] if ht[i].sum() > 0
                                                      else TYPE_BY_TENURE[0], tot_nb[i])
                                    for i in range(len(tenure_nb))]))
        type_label = "neighbourhood x hh_type"
    return ([((0, 1), tenure_nb), ((0, 2), quartile_nb), type_m],
            ("neighbourhood x tenure", "neighbourhood x quartile", type_label))


def _fit_row(label: str, axes, target: np.ndarray, fit, mf, pop_arr: np.ndarray) -> dict:
    """Report one margin in ``ipf_fit``: size, convergence, errors before/after rounding."""
    after = margin_error(pop_arr, axes, target)
    return {"margin": label, "cells": int(target.size), "total": float(target.sum()),
            "iterations": fit.iterations, "converged": fit.converged,
            "ipf_max_abs_error": float(f"{mf.max_abs_error:.3g}"),
            "ipf_max_rel_error": float(f"{mf.max_rel_error:.3g}"),
            "max_abs_error": after.max_abs_error, "max_rel_error": after.max_rel_error}


def _margin_rows(label: str, axes, target: np.ndarray, fitted: np.ndarray,
                 pop_arr: np.ndarray, keys) -> list[dict]:
    """Report one margin in ``ipf_margins``: each cell's keys, target, fit, rounded count."""
    other = tuple(a for a in range(4) if a not in axes)
    fitted_m, pop_m = fitted.sum(axis=other), pop_arr.sum(axis=other)
    rows = []
    for cell in np.ndindex(target.shape):
        rec = dict.fromkeys(_AXIS_NAMES, "")
        for a, c in zip(axes, cell, strict=True):
            rec[_AXIS_NAMES[a]] = keys[a][c]
        rows.append({"margin": label, **rec, "target": float(target[cell]),
                     "fitted": round(float(fitted_m[cell]), 6), "population": int(pop_m[cell])})
    return rows


def dwellings_table(ids: Sequence[str], counts: np.ndarray) -> pd.DataFrame:
    """Private and owner dwellings: households of the sector plus :data:`DWELLING_VACANCY`."""
    pop_nt = counts.sum(axis=(2, 3))
    rows = []
    for n, nb in enumerate(ids):
        for sector, t in (("private", 1), ("owner", 2)):
            n_dw = int(math.ceil(pop_nt[n, t] / (1.0 - DWELLING_VACANCY[sector]) - 1e-9))
            for rooms, cnt in enumerate(largest_remainder(ROOM_SHARES[sector], n_dw), start=1):
                if cnt:
                    rows.append({"neighbourhood": nb, "sector": sector, "rooms": rooms,
                                 "count": int(cnt)})
    return pd.DataFrame(rows, columns=list(SCHEMA["dwellings"]))


def social_stock_table(it: pd.DataFrame, tenure: TenureSplit) -> pd.DataFrame:
    """One résidence per neighbourhood and financing, one placeholder landlord per commune."""
    rows = []
    for n, nb in enumerate(it.neighbourhood):
        com = it.commune.iloc[n]
        by_fin = largest_remainder(tenure.financing[com], tenure.stock[n])
        for fin, n_fin in zip(("PLAI", "PLUS", "PLS"), by_fin, strict=True):
            for rooms, cnt in enumerate(largest_remainder(tenure.rooms[com], n_fin), start=1):
                if cnt:
                    rows.append({"residence": f"{nb}-{fin}", "neighbourhood": nb,
                                 "landlord": f"L{com}", "financing": fin, "rooms": rooms,
                                 "count": int(cnt), "rent_m2": SOCIAL_RENT_M2[fin]})
    return pd.DataFrame(rows, columns=list(SCHEMA["social_stock"]))


def applicants_table(counts: np.ndarray) -> pd.DataFrame:
    """Pending applications from :data:`APPLICATION_RATE` and :data:`PRIORITY_SHARE` [U]."""
    rows = []
    pop_tq = counts.sum(axis=(0, 3))
    for tenure in ("social", "private", "hosted"):
        t = TENURES.index(tenure)
        for q in range(4):
            avail = int(pop_tq[t, q])
            rate = APPLICATION_RATE[tenure] * (1.0 if tenure == "hosted"
                                               else APPLICATION_BY_QUARTILE[q])
            n_app = min(avail, int(round(avail * rate)))
            n_prio = min(n_app, int(round(n_app * PRIORITY_SHARE[tenure]
                                          * (1.5 if q == 0 else 0.6))))
            for prio, cnt in ((1, n_prio), (0, n_app - n_prio)):
                if cnt:
                    rows.append({"tenure": tenure, "quartile": q + 1, "priority": prio,
                                 "count": cnt})
    return pd.DataFrame(rows, columns=list(SCHEMA["applicants"]))


def communes_table(it: pd.DataFrame, fil: pd.DataFrame, tenure: TenureSplit) -> pd.DataFrame:
    """Communes in order of first use; names from the IRIS table, Filosofi, RPLS, else codes."""
    libcom = dict(zip(fil.get("com", []), fil.get("libcom", fil.get("com", [])), strict=True))
    rows = []
    for com in dict.fromkeys(it.commune):
        here = it.commune == com
        name = ""
        if "commune_name" in it:
            name = next((v for v in it.commune_name[here] if v), "")
        name = name or libcom.get(com) or tenure.libcom.get(com) or com
        if "sru_applies" in it and np.isfinite(it.sru_applies[here].iloc[0]):
            sru = int(it.sru_applies[here].iloc[0])
        else:
            sru = int(tenure.households[here.to_numpy()].sum() >= SRU_MIN_HOUSEHOLDS)
        rows.append({"commune": com, "name": name, "sru_applies": sru})
    return pd.DataFrame(rows, columns=list(SCHEMA["communes"]))


def neighbourhoods_table(it: pd.DataFrame, fil: pd.DataFrame, tenure: TenureSplit,
                         income: IncomeSplit) -> pd.DataFrame:
    """Neighbourhoods with names, QPV flags, coordinates, attractiveness and private rents.

    Attractiveness is ``2.5 x ln(median / territory's median)`` clipped to [-3, 3] and the
    private rent ``11.5 + 2.2 x attractiveness`` €/m² [U] unless the IRIS table gives them.
    """
    epci_mu = float(np.average(income.mu, weights=tenure.households + 1e-9))
    attr = np.clip(2.5 * (income.mu - epci_mu), -3.0, 3.0)
    if "base_attractiveness" in it:
        attr = np.where(np.isfinite(it.base_attractiveness), it.base_attractiveness, attr)
    rent = np.clip(11.5 + 2.2 * attr, 5.0, 40.0)
    if "private_rent_m2" in it:
        rent = np.where(np.isfinite(it.private_rent_m2), it.private_rent_m2, rent)
    libiris = dict(zip(fil.iris, fil.get("libiris", fil.iris), strict=True))
    names = []
    for n, nb in enumerate(it.neighbourhood):
        name = it["name"].iloc[n] if "name" in it else ""
        code = it.iris.iloc[n] if "iris" in it else ""
        names.append(name or libiris.get(code) or nb)
    return pd.DataFrame({
        "neighbourhood": list(it.neighbourhood), "commune": list(it.commune), "name": names,
        "qpv": it.qpv.to_numpy().astype(int), "x": it.x.round(3).to_numpy(),
        "y": it.y.round(3).to_numpy(), "base_attractiveness": np.round(attr, 3),
        "private_rent_m2": np.round(rent, 2)})


def income_fit_table(it: pd.DataFrame, income: IncomeSplit) -> pd.DataFrame:
    """Report: per neighbourhood, the fitted income distribution, its origin and the cuts."""
    cuts = income.cuts
    return pd.DataFrame({
        "neighbourhood": list(it.neighbourhood), "iris": list(it.iris) if "iris" in it else "",
        "origin": income.origin, "median": np.round(np.exp(income.mu), 1),
        "sigma": np.round(income.sigma, 4),
        **{f"q{k + 1}_share": np.round(income.shares[:, k], 4) for k in range(4)},
        "cut_q1": round(cuts[0], 1), "cut_median": round(cuts[1], 1),
        "cut_q3": round(cuts[2], 1)})


def build_territory_from_public(filosofi, rpls, iris_table, *, households: float | None = None,
                                seed: int | None = 0,
                                quartile_cuts: str | Sequence[float] = "national",
                                household_types: pd.DataFrame | None = None,
                                ) -> dict[str, pd.DataFrame]:
    """Build the territory tables of an EPCI from Filosofi, RPLS and a small IRIS table.

    Steps (each a function of this module, testable alone):

    1. **Households and tenure** per neighbourhood (:func:`tenure_by_neighbourhood`):
       ``households`` of the IRIS table (rescaled to the ``households`` argument if given). The
       commune's RPLS social stock ``nb_ls`` is spread over its neighbourhoods, ``nb_ls_en_qpv``
       over the QPV ones and the rest over the others, in proportion to ``households x social
       share`` (``social_share`` column, else ``1 - owner_share - private_share``); a share
       ``nb_loues / nb_ls`` of those dwellings is occupied by social tenants. The other
       households are owners or private tenants in the ratio ``owner_share : private_share``;
       hosted households are added (``hosted`` column, or :data:`HOSTED_RATE`).
    2. **Income quartiles** (:func:`quartiles_by_neighbourhood`): each neighbourhood's income
       per UC is taken lognormal, fitted by least squares to its Filosofi quantiles (median,
       quartiles, deciles; the commune's or the territory's average when the IRIS has none,
       with a warning), and its households are split by the shares below the quartile cuts:
       national (:func:`national_quartile_cuts` for the Filosofi year), ``"territory"``
       (quartiles of the EPCI's own mixture, the quartiles the model uses), or three cut points
       in €/UC/year.
    3. **Joint population** neighbourhood x tenure x quartile x household type by
       :func:`mixsim.calibration.ipf.ipf` (:func:`fit_population`): margins neighbourhood x
       tenure (step 1), neighbourhood x quartile (step 2) and either neighbourhood x type
       (``household_types``, the census) or tenure x type (:data:`TYPE_BY_TENURE`); then
       rounded by :func:`mixsim.calibration.ipf.integerise`, which keeps neighbourhood x tenure
       exact.
    4. **Dwellings** (:func:`dwellings_table`, :func:`social_stock_table`): social stock split
       by financing and rooms with the commune's RPLS columns (``nb_ls_plai``,
       ``nb_ls_plus_av_77``/``nb_ls_plus_ap_77``, ``nb_ls_pls``, ``nb_ls_<k>piece…``) when
       present, else :data:`FINANCING_SHARES` and :data:`ROOM_SHARES`; one résidence per
       neighbourhood and financing, one placeholder landlord per commune, rents
       :data:`SOCIAL_RENT_M2`. Private and owner dwellings: households plus
       :data:`DWELLING_VACANCY`. Applicants (:func:`applicants_table`): :data:`APPLICATION_RATE`
       (assumptions; replace with SNE counts when available).

    Args:
        filosofi: Path of a Filosofi IRIS CSV or the DataFrame from :func:`read_filosofi_iris`.
        rpls: Path of an RPLS commune table or the DataFrame from :func:`read_rpls_communes`.
        iris_table: Path or DataFrame for :func:`read_iris_table`.
        households: Total households in main residences wanted (the table's counts are rescaled);
            None keeps the table's counts.
        seed: Seed of the random generator used to round the fitted population; None draws one.
        quartile_cuts: ``"national"``, ``"territory"`` or three increasing cut points.
        household_types: Optional households by type per neighbourhood: a DataFrame indexed by
            neighbourhood id with one column per :data:`mixsim.model.territory.HH_TYPES` (counts
            or shares; rescaled to each neighbourhood's households).

    Returns:
        The six territory tables (``communes``, ``neighbourhoods``, ``dwellings``,
        ``social_stock``, ``population``, ``applicants``; they pass
        :func:`mixsim.model.territory.validate`) plus three reports (:data:`REPORT_TABLES`):
        ``ipf_fit`` (per margin: cells, total, iterations, convergence, maximum absolute and
        relative error of the fitted table and of the rounded population against the target),
        ``ipf_margins`` (every target margin cell: ``margin``, its keys, ``target``, ``fitted``
        (real) and ``population`` (rounded)), ``income_fit`` (per neighbourhood: income
        distribution, its origin, the quartile shares and the cuts used).

    Raises:
        InputError: for bad input files (see the readers), IRIS-table communes missing a usable
            ``nb_ls`` in RPLS, no usable income data, or bad ``households``/``quartile_cuts``.
    """
    fil = filosofi if isinstance(filosofi, pd.DataFrame) else read_filosofi_iris(filosofi)
    rp = rpls if isinstance(rpls, pd.DataFrame) else read_rpls_communes(rpls)
    it = read_iris_table(iris_table)
    _check_frames(fil, rp)
    rng = np.random.default_rng(seed)
    tenure = tenure_by_neighbourhood(it, rp, households)
    income = quartiles_by_neighbourhood(it, fil, tenure, quartile_cuts)
    types = None
    if household_types is not None:
        types = household_types.reindex(list(it.neighbourhood))[list(HH_TYPES)].fillna(0.0)
        types = types.to_numpy(float)
    pop = fit_population(list(it.neighbourhood), tenure.tenure, income.counts, rng, types)
    tables = {
        "communes": communes_table(it, fil, tenure),
        "neighbourhoods": neighbourhoods_table(it, fil, tenure, income),
        "dwellings": dwellings_table(list(it.neighbourhood), pop.counts),
        "social_stock": social_stock_table(it, tenure),
        "population": pop.population,
        "applicants": applicants_table(pop.counts),
    }
    validate(tables, {k: f"<built {k}>" for k in SCHEMA}, name="public data")
    tables.update(ipf_fit=pop.ipf_fit, ipf_margins=pop.ipf_margins,
                  income_fit=income_fit_table(it, income))
    return tables


_FINANCING_COLUMNS = (("nb_ls_plai",), ("nb_ls_plus_av_77", "nb_ls_plus_ap_77", "nb_ls_plus"),
                      ("nb_ls_pls",))
_ROOM_COLUMN = re.compile(r"^nb_ls_([1-5])_?pi[eè]ces?(_plus|_et_plus)?$")


def _rpls_shares(row: pd.Series, groups, default: np.ndarray) -> np.ndarray:
    """Shares from groups of RPLS count columns, or ``default`` if they are absent or empty."""
    vals = []
    for cols in groups:
        present = [row.get(c) for c in cols if c in row.index]
        vals.append(sum(float(v) for v in present if v is not None and np.isfinite(v)))
    arr = np.array(vals)
    return arr / arr.sum() if arr.sum() > 0 else default


def _rpls_room_shares(row: pd.Series) -> np.ndarray:
    counts = np.zeros(5)
    for col in row.index:
        m = _ROOM_COLUMN.match(str(col))
        if m and np.isfinite(row[col]):
            counts[int(m.group(1)) - 1] += float(row[col])
    return counts / counts.sum() if counts.sum() > 0 else np.array(ROOM_SHARES["social"])


# ============================================================================ command line


def write_tables(tables: Mapping[str, pd.DataFrame], out: str | Path) -> list[Path]:
    """Write each table as ``<name>.csv`` (comma-separated, ``.`` decimals) into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in tables.items():
        p = folder / f"{name}.csv"
        p.write_text(df.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Build a territory folder from public data files (the ``python -m`` entry point)."""
    ap = argparse.ArgumentParser(prog="python -m mixsim.calibration.importers",
                                 description=build_territory_from_public.__doc__.splitlines()[0])
    ap.add_argument("filosofi", help="Filosofi IRIS CSV (';' separated)")
    ap.add_argument("rpls", help="RPLS results per commune (CSV, or xlsx with openpyxl)")
    ap.add_argument("iris_table", help="CSV describing the EPCI's neighbourhoods")
    ap.add_argument("--out", required=True, help="territory folder to write (or --check)")
    ap.add_argument("--households", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cuts", default="national", choices=("national", "territory"))
    ap.add_argument("--check", action="store_true",
                    help="compare with the tables in --out instead of writing them")
    args = ap.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tables = build_territory_from_public(args.filosofi, args.rpls, args.iris_table,
                                                 households=args.households, seed=args.seed,
                                                 quartile_cuts=args.cuts)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        return _check_against(tables, out)
    write_tables(tables, out)
    fit = tables["ipf_fit"]
    print(f"wrote {len(tables)} tables to {out}; population of "
          f"{int(tables['population']['count'].sum())} households, margin error at most "
          f"{fit.max_abs_error.max():g} household(s)")
    return 0


def _check_against(tables: Mapping[str, pd.DataFrame], out: Path) -> int:
    """Compare the built tables with the CSV files in ``out``: 0 when all are the same, else 1."""
    bad = [n for n, df in tables.items()
           if not (out / f"{n}.csv").is_file()
           or (out / f"{n}.csv").read_text(encoding="utf-8")
           != df.to_csv(index=False, lineterminator="\n")]
    if bad:
        print(f"differs from the build: {', '.join(bad)}", file=sys.stderr)
        return 1
    print(f"{out}: tables reproduced exactly")
    return 0


#: The public names; the readers and the income model live in their own modules
#: (:mod:`~mixsim.calibration.filosofi`, :mod:`~mixsim.calibration.rpls`,
#: :mod:`~mixsim.calibration.iris_table`, :mod:`~mixsim.calibration.income`) and are
#: re-exported here, where the builder and its users have always found them.
__all__ = ["IRIS_TABLE_COLUMNS", "MISSING_CODES", "NATIONAL_LIVING_STANDARD", "REPORT_TABLES",
           "RPLS_REQUIRED", "IncomeSplit", "PopulationFit", "TenureSplit", "applicants_table",
           "build_territory_from_public", "communes_table", "dwellings_table", "fit_population",
           "income_fit_table", "main", "national_quartile_cuts", "neighbourhoods_table",
           "quartiles_by_neighbourhood", "read_filosofi_iris", "read_iris_table",
           "read_rpls_communes", "social_stock_table", "tenure_by_neighbourhood", "write_tables"]


if __name__ == "__main__":
    raise SystemExit(main())


"""Shared fixtures: a tiny hand-built territory and small model runs."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("MIXSIM_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


#: The tier of each test module (README, "Development"): ``unit`` (pure functions, file
#: validation, hand-built states), ``invariants`` (properties a whole run must hold),
#: ``regression`` (stored hashes of fixed runs), ``e2e`` (commands, notebooks, browser,
#: install). A test marked with a tier itself keeps it; a module missing here is an error.
TIERS = {
    "test_allocation_rules": "unit",
    "test_bad_inputs": "e2e",
    "test_baseline": "invariants",
    "test_calibration": "invariants",
    "test_ceilings": "unit",
    "test_cli": "e2e",
    "test_config": "unit",
    "test_demography": "unit",
    "test_evaluators": "unit",
    "test_experiments": "e2e",
    "test_explore": "e2e",
    "test_importers": "unit",
    "test_imports": "unit",
    "test_indicator_catalogue": "unit",
    "test_install": "e2e",
    "test_ipf": "unit",
    "test_lever_liveness": "invariants",
    "test_levers": "invariants",
    "test_lifecycle": "unit",
    "test_model": "invariants",
    "test_notebooks": "e2e",
    "test_processes": "unit",
    "test_ranges": "unit",
    "test_regression": "regression",
    "test_report": "e2e",
    "test_result_folder": "unit",
    "test_robustness": "e2e",
    "test_rules": "unit",
    "test_sales": "unit",
    "test_scans": "unit",
    "test_segregation_indices": "unit",
    "test_sensitivity": "unit",
    "test_sensitivity_cli": "e2e",
    "test_supply": "invariants",
    "test_territory": "unit",
    "test_territory_build": "e2e",
    "test_trajectories": "unit",
    "test_validate": "e2e",
}
TIER_NAMES = ("unit", "invariants", "regression", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test its module's tier (TIERS) unless it carries one."""
    missing = set()
    for item in items:
        if any(item.get_closest_marker(t) for t in TIER_NAMES):
            continue
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module not in TIERS:
            missing.add(module)
            continue
        item.add_marker(getattr(pytest.mark, TIERS[module]))
    if missing:
        raise pytest.UsageError(f"tests/conftest.py TIERS has no tier for {sorted(missing)}: "
                                f"add one of {', '.join(TIER_NAMES)}")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-regression``: rewrite tests/regression/*.json (tests/regression_cases.py)."""
    parser.addoption("--update-regression", action="store_true", default=False,
                     help="rewrite the stored regression records instead of comparing with them "
                          "(for a change meant to alter results; the commit says why)")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the model's kernels once, before any test starts worker processes.

    On a fresh machine numba compiles them on first use (about a minute) and caches them on
    disk; compiled here, the tests' worker processes (ensembles, sensitivity) load the cache
    instead of each compiling it again.
    """
    from mixsim.model.api import warm_up
    warm_up()


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two communes, four neighbourhoods (one QPV), a few hundred households."""
    communes = pd.DataFrame({"commune": ["A", "B"], "name": ["Alpha", "Beta"],
                             "sru_applies": [1, 0]})
    nbhds = pd.DataFrame({
        "neighbourhood": ["A1", "A2", "B1", "B2"], "commune": ["A", "A", "B", "B"],
        "name": ["A one", "A two", "B one", "B two"], "qpv": [1, 0, 0, 0],
        "x": [0.0, 1.0, 3.0, 4.0], "y": [0.0, 1.0, 0.0, 1.0],
        "base_attractiveness": [-1.0, 0.3, 0.5, 0.0], "private_rent_m2": [9.0, 12.0, 13.0, 11.0]})
    rows = []
    for nb in ("A1", "A2", "B1", "B2"):
        for sector in ("private", "owner"):
            for rooms, c in zip(range(1, 6), (12, 18, 22, 16, 10), strict=True):
                rows.append({"neighbourhood": nb, "sector": sector, "rooms": rooms, "count": c})
    dwellings = pd.DataFrame(rows)
    social = []
    for i, (nb, fin) in enumerate((("A1", "PLUS"), ("A1", "PLAI"), ("A2", "PLUS"),
                                   ("B1", "PLS"), ("B2", "PLUS"))):
        for rooms, c in zip(range(1, 6), (4, 8, 12, 8, 3), strict=True):
            social.append({"residence": f"R{i}", "neighbourhood": nb, "landlord": "L1",
                           "financing": fin, "rooms": rooms, "count": c, "rent_m2": 6.0})
    social_stock = pd.DataFrame(social)
    pop = []
    types = ("single", "couple", "couple_children", "single_parent", "other")
    for nb in ("A1", "A2", "B1", "B2"):
        q_social = (8, 4, 2, 1) if nb == "A1" else (4, 3, 2, 1)
        for tenure, per_q in (("social", q_social), ("private", (5, 5, 4, 3)),
                              ("owner", (2, 4, 6, 8)), ("hosted", (2, 1, 0, 0))):
            for q, n in enumerate(per_q, start=1):
                for t_i, t in enumerate(types):
                    cnt = max(0, n - t_i)
                    if cnt:
                        pop.append({"neighbourhood": nb, "tenure": tenure, "quartile": q,
                                    "hh_type": t, "count": cnt})
    population = pd.DataFrame(pop)
    applicants = pd.DataFrame({"tenure": ["social", "private", "hosted", "hosted"],
                               "quartile": [1, 1, 1, 2], "priority": [0, 0, 1, 0],
                               "count": [5, 6, 8, 3]})
    return {"communes": communes, "neighbourhoods": nbhds, "dwellings": dwellings,
            "social_stock": social_stock, "population": population, "applicants": applicants}


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return tiny_tables()


@pytest.fixture
def tiny_territory():
    from mixsim.model.territory import validate
    return validate({k: v.astype(str) for k, v in tiny_tables().items()}, name="tiny")


@pytest.fixture
def tiny_state(tiny_territory):
    from mixsim.model.population import build_state
    return build_state(tiny_territory, np.random.default_rng(0))


def write_tables(folder, tables) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, df in tables.items():
        df.to_csv(folder / f"{k}.csv", index=False)

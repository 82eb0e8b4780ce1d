"""Every lever of the catalogue acts, or is refused with a message saying why (issue #15).

For each lever that ``mixsim levers`` lists (:func:`mixsim.model.config.catalogue`), a
non-default value is run on a 20 % version of the embedded territory (the hand-built tiny
territory has too few applicants for some criteria to matter; below 20 % the default
territory's vacancy is too high to be comparable, docs/validation.md, and at 5 % no social
dwelling was built in three years, so the construction levers had nothing to act on) for a few
years with a fixed seed,
in the configuration where the lever applies (its *context*: e.g. the quota share under
``target`` enforcement, the rebuilding shares with demolitions), and the indicator tables
(allocation counters and composition) must differ from the same configuration without the
lever. A lever that has no meaning in a configuration is refused there, at validation, with an
:class:`~mixsim.model.errors.InputError` naming the field and the reason.

The test iterates the catalogue: a lever added without a probe here fails
:func:`test_every_lever_has_a_probe`.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pytest

from mixsim.model import Scenario, run_scenario
from mixsim.model.config import catalogue
from mixsim.model.errors import InputError

YEARS = 3
SEED = 7
SCALE = 0.2
RENEWAL = {"renewal.demolitions_per_year": 40.0}
LOSS = {"over_income.loss_enabled": True}

# lever -> (non-default value, context applied to both runs); bonus points are probed below
# their default: above it, the favoured group is already ranked first
PROBES: dict[str, tuple[object, dict[str, object]]] = {
    "quota_q1.share": (0.6, {"quota_q1.enforcement": "strict"}),
    "quota_q1.enforcement": ("strict", {}),
    "quota_q1.bonus_points": (5.0, {"quota_q1.enforcement": "target"}),
    "quota_qpv.share": (0.95, {"quota_qpv.enforcement": "target"}),
    "quota_qpv.enforcement": ("strict", {"quota_qpv.share": 0.9}),
    "quota_qpv.bonus_points": (5.0, {"quota_qpv.enforcement": "target", "quota_qpv.share": 0.9}),
    "priority.share": (0.8, {}),
    "priority.enforcement": ("strict", {}),
    "priority.bonus_points": (5.0, {}),
    "priority.lost_after_refusal": (False, {}),
    "reservation.management": ("flux", {}),
    "reservation.prefet": (0.1, {}),
    "reservation.prefet_agents": (0.0, {}),
    "reservation.action_logement": (0.5, {"reservation.commune": 0.05}),
    "reservation.commune": (0.35, {}),
    "reservation.local_preference": (0.0, {}),
    "reservation.handback_months": (6, {}),
    "cotation.per_month_waited": (5.0, {}),
    "cotation.priority": (400.0, {}),
    "cotation.homeless": (300.0, {}),
    "cotation.overcrowded": (300.0, {}),
    "cotation.excessive_cost": (300.0, {}),
    "cotation.separation": (300.0, {}),
    "cotation.transfer": (300.0, {}),
    "cotation.relocation": (0.0, RENEWAL),
    "cotation.refusal_penalty": (100.0, {}),
    "commission.candidates_per_dwelling": (1, {}),
    "information.wish_breadth": (1, {}),
    "information.level": (1.0, {}),
    "rent.modulation": (0.4, {}),
    # the RLS's net effect on a tenant is 5 % of its amount (€2.50 a month by default), too
    # little to change a decision of a small run: probed at the largest amount allowed
    "rent.rls": (False, {"rent.rls_amount": 200.0}),
    "rent.rls_amount": (200.0, {}),
    "over_income.sls_threshold": (1.0, {}),
    "over_income.sls_exit_multiplier": (10.0, {}),
    # with the default two years above the threshold and the notice, a 3-year run ends before
    # anybody loses the right to stay: probed with one year and no notice
    "over_income.loss_threshold": (1.0, {**LOSS, "over_income.loss_years": 1,
                                         "over_income.loss_notice_months": 0}),
    "over_income.loss_years": (1, {**LOSS, "over_income.loss_threshold": 1.0}),
    "over_income.loss_enabled": (True, {"over_income.loss_threshold": 1.0,
                                        "over_income.loss_years": 1}),
    "over_income.loss_notice_months": (0, {**LOSS, "over_income.loss_threshold": 1.0}),
    "over_income.qpv_exempt": (False, {}),
    "transfers.share": (0.8, {}),
    "transfers.bonus_points": (5.0, {"transfers.share": 0.8}),
    "construction.stock_share": (0.15, {}),
    "construction.units_per_year": (30.0, {}),
    "construction.share_outside_qpv": (0.0, {"construction.stock_share": 0.1}),
    "construction.plai_share": (1.0, {"construction.stock_share": 0.1,
                                      "construction.pls_share": 0.0}),
    "construction.pls_share": (0.7, {"construction.stock_share": 0.1}),
    "construction.sru_catchup": (True, {"construction.stock_share": 0.1}),
    "renewal.demolitions_per_year": (40.0, {}),
    "renewal.relocation_priority": (False, RENEWAL),
    "renewal.rebuild_outside_share": (1.0, RENEWAL),
    "renewal.rebuild_plai_share": (0.0, {**RENEWAL, "renewal.rebuild_outside_share": 1.0}),
    "renewal.diversification_per_year": (40.0, {}),
    "renovation.investment_per_qpv": (0.3, {}),
    "renovation.years": (1, {"renovation.investment_per_qpv": 0.3}),
    "sales.share_per_year": (0.05, {}),
    "sales.where": ("qpv", {}),
}

# configurations where a lever has no meaning and is refused: lever, value, context, words the
# message must contain
REFUSED = [
    ("reservation.handback_months", 3, {"reservation.management": "flux"}, "stock management"),
    ("reservation.prefet_agents", 0.05, {"reservation.prefet": 0.02}, "cannot exceed"),
]


def _levers(d: dict) -> dict:
    return {f"levers.{k}": v for k, v in d.items()}


@lru_cache(maxsize=None)
def _tables(overrides: tuple) -> pd.DataFrame:
    sc = Scenario(years=YEARS).with_overrides(_levers(dict(overrides)))
    res = run_scenario(sc, scale=SCALE, seed=SEED, keep_moves=False)
    return res.indicators.drop(columns="run_id")


def test_every_lever_has_a_probe():
    names = {row["name"] for row in catalogue()}
    assert names == set(PROBES), (f"levers without a liveness probe: {sorted(names - set(PROBES))}"
                                  f"; probes of no lever: {sorted(set(PROBES) - names)}")


@pytest.mark.parametrize("name", sorted(PROBES))
def test_lever_changes_the_tables(name):
    value, context = PROBES[name]
    default = next(r["default"] for r in catalogue() if r["name"] == name)
    assert value != default and name not in context
    ref = _tables(tuple(sorted(context.items())))
    lev = _tables(tuple(sorted({**context, name: value}.items())))
    assert not lev.equals(ref), f"{name} = {value!r} leaves the tables bit-identical"


@pytest.mark.parametrize(("name", "value", "context", "words"), REFUSED)
def test_lever_without_meaning_is_refused_with_the_reason(name, value, context, words):
    with pytest.raises(InputError) as err:
        Scenario().with_overrides(_levers({**context, name: value}))
    msg = str(err.value)
    assert name.split(".")[-1] in msg and words in msg

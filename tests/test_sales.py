"""Sales of social dwellings to their tenants (L443-7 ff. CCH; issue #15, docs/levers.md §14)."""

import numpy as np

from mixsim.model.moves import MoveLog
from mixsim.model.processes.policy import sell_to_tenants, sru_deficit_communes, sru_units
from mixsim.model.state import S_OWNER, S_SOCIAL


def occupied_social(st):
    dw = st.dw
    return np.flatnonzero((dw.sector == S_SOCIAL) & dw.active & (dw.occupant >= 0)
                          & ~dw.to_demolish)


def test_only_dwellings_over_ten_years_old_are_sold(tiny_state):
    """L443-7 CCH: a dwelling built less than ten years ago cannot be sold."""
    st = tiny_state
    dw = st.dw
    units = occupied_social(st)
    old = units[:5]
    dw.built_month[units] = st.month - 119  # nine years and eleven months
    dw.built_month[old] = st.month - 120
    k = sell_to_tenants(st, 50, np.random.default_rng(3), "all", MoveLog())
    assert k == len(old)
    assert (dw.sector[old] == S_OWNER).all()
    assert (dw.sector[np.setdiff1d(units, old)] == S_SOCIAL).all()


def test_sold_units_stay_in_the_sru_count_for_ten_years(tiny_state):
    """L302-5 CCH: a unit sold to its tenant counts in the SRU inventory ten years more."""
    st = tiny_state
    dw = st.dw
    act = np.flatnonzero(dw.active)
    before = sru_units(st).sum()
    deficit = sru_deficit_communes(st)
    k = sell_to_tenants(st, 20, np.random.default_rng(4), "all", MoveLog())
    assert k == 20
    sold = np.flatnonzero(dw.sold_month == st.month)
    assert len(sold) == 20
    assert sru_units(st).sum() == before  # still counted
    np.testing.assert_array_equal(sru_deficit_communes(st), deficit)
    st.month += 119
    assert sru_units(st)[np.searchsorted(act, sold)].all()
    st.month += 1  # ten years after the sale
    assert not sru_units(st)[np.searchsorted(act, sold)].any()
    assert sru_units(st).sum() == before - 20

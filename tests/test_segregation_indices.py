"""Tests for model.indicators.segregation: hand-computed cases and the PySAL reference."""

import math

import numpy as np
import pytest

from mixsim.model.indicators import (
    ShareSpread,
    dissimilarity,
    entropy,
    exposure,
    gini,
    isolation,
    share_spread,
    theil_h,
    transition_matrix,
)

# A small three-unit territory used by several hand-computed cases.
#   group g = [8, 2, 0], total t = [10, 10, 20]  ->  G = 10, T = 40
#   rest  r = t - g = [2, 8, 20]                 ->  R = 30
G3 = [8, 2, 0]
T3 = [10, 10, 20]


# --------------------------------------------------------------------------
# dissimilarity
# --------------------------------------------------------------------------


def test_dissimilarity_hand_computed():
    # g/G = [0.8, 0.2, 0]; r/R = [2/30, 8/30, 20/30] = [1/15, 4/15, 10/15]
    # |0.8 - 1/15| = 11/15, |0.2 - 4/15| = 1/15, |0 - 10/15| = 10/15
    # D = 0.5 * 22/15 = 11/15
    assert dissimilarity(G3, T3) == pytest.approx(11 / 15, abs=1e-12)


def test_dissimilarity_two_units():
    # g = [1, 2], t = [3, 3]: g/G = [1/3, 2/3], r/R = [2/3, 1/3]
    # D = 0.5 * (1/3 + 1/3) = 1/3
    assert dissimilarity([1, 2], [3, 3]) == pytest.approx(1 / 3, abs=1e-12)


def test_fully_segregated_territory():
    # unit 0 holds only the group, units 1-2 only the rest
    g, t = [30, 0, 0], [30, 50, 20]
    assert dissimilarity(g, t) == pytest.approx(1.0, abs=1e-12)
    assert isolation(g, t) == pytest.approx(1.0, abs=1e-12)
    assert exposure(g, np.subtract(t, g), t) == pytest.approx(0.0, abs=1e-12)
    counts = np.array([[30, 0, 0], [0, 50, 0], [0, 0, 20], [0, 5, 0]])
    assert theil_h(counts) == pytest.approx(1.0, abs=1e-12)


def test_perfectly_even_territory():
    # every unit has group share 1/4 -> D = 0, isolation = 1/4, H = 0
    g, t = [1, 5, 25], [4, 20, 100]
    assert dissimilarity(g, t) == pytest.approx(0.0, abs=1e-12)
    assert isolation(g, t) == pytest.approx(0.25, abs=1e-12)
    assert exposure(g, np.subtract(t, g), t) == pytest.approx(0.75, abs=1e-12)
    counts = np.array([[1, 2, 1], [5, 10, 5], [25, 50, 25]])
    assert theil_h(counts) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------
# isolation / exposure
# --------------------------------------------------------------------------


def test_isolation_hand_computed():
    # sum (g/G)(g/t) = 0.8*0.8 + 0.2*0.2 + 0*0 = 0.64 + 0.04 = 0.68
    assert isolation(G3, T3) == pytest.approx(0.68, abs=1e-12)


def test_exposure_hand_computed():
    # group vs rest: 0.8*(2/10) + 0.2*(8/10) + 0 = 0.16 + 0.16 = 0.32 = 1 - 0.68
    rest = np.subtract(T3, G3)
    assert exposure(G3, rest, T3) == pytest.approx(0.32, abs=1e-12)
    # a third group b = [1, 4, 10]: 0.8*(1/10) + 0.2*(4/10) + 0*(10/20) = 0.08 + 0.08 = 0.16
    assert exposure(G3, [1, 4, 10], T3) == pytest.approx(0.16, abs=1e-12)
    # exposure of a group to itself is its isolation
    assert exposure(G3, G3, T3) == pytest.approx(isolation(G3, T3), abs=1e-12)


def test_exposure_is_asymmetric():
    # a = [8, 2, 0], b = [1, 4, 10], t = [10, 10, 20]
    # bPa = (1/15)(8/10) + (4/15)(2/10) + (10/15)(0) = 8/150 + 8/150 = 16/150
    assert exposure([1, 4, 10], G3, T3) == pytest.approx(16 / 150, abs=1e-12)


# --------------------------------------------------------------------------
# entropy / Theil H
# --------------------------------------------------------------------------


def test_entropy_one_unit():
    # [1, 1]: p = [1/2, 1/2] -> ln 2
    assert entropy([1, 1]) == pytest.approx(math.log(2), abs=1e-12)
    # [2, 1, 1]: p = [1/2, 1/4, 1/4] -> 1/2 ln 2 + 2 * 1/4 ln 4 = 1.5 ln 2
    assert entropy([2, 1, 1]) == pytest.approx(1.5 * math.log(2), abs=1e-12)
    # a single group present -> 0 (0 ln 0 = 0)
    assert entropy([5, 0]) == pytest.approx(0.0, abs=1e-12)
    assert entropy([3, 3, 3, 3]) == pytest.approx(math.log(4), abs=1e-12)


def test_entropy_two_d_uses_overall_shares():
    # units [[2, 0], [0, 2]]: overall shares [1/2, 1/2] -> ln 2 (each unit has entropy 0)
    assert entropy([[2, 0], [0, 2]]) == pytest.approx(math.log(2), abs=1e-12)
    # [[3, 1], [1, 3], [0, 4]]: column sums [4, 8] -> p = [1/3, 2/3]
    # E = 1/3 ln 3 + 2/3 ln 3/2
    expected = math.log(3) / 3 + 2 / 3 * math.log(1.5)
    assert entropy([[3, 1], [1, 3], [0, 4]]) == pytest.approx(expected, abs=1e-12)


def test_theil_h_hand_computed():
    # [[3, 1], [1, 3]]: T = 8, E = ln 2, both units have E_i = -(3/4 ln 3/4 + 1/4 ln 1/4)
    #   = 2 ln 2 - 3/4 ln 3; t_i/T = 1/2 each
    # H = (E - E_1)/E = 1 - (2 ln 2 - 0.75 ln 3)/ln 2 = 0.75 log2(3) - 1 ~ 0.18872
    expected = 0.75 * math.log2(3) - 1
    assert theil_h([[3, 1], [1, 3]]) == pytest.approx(expected, abs=1e-12)


def test_theil_h_three_groups_hand_computed():
    # [[2, 0, 0], [0, 1, 1]]: T = 4, overall p = [1/2, 1/4, 1/4], E = 1.5 ln 2
    # E_0 = 0, E_1 = ln 2; H = [2 (1.5 ln 2 - 0) + 2 (1.5 ln 2 - ln 2)] / (4 * 1.5 ln 2)
    #   = (3 + 1) ln 2 / (6 ln 2) = 2/3
    assert theil_h([[2, 0, 0], [0, 1, 1]]) == pytest.approx(2 / 3, abs=1e-12)


def test_theil_h_ignores_absent_group():
    counts = np.array([[3, 1], [1, 3], [2, 5]])
    padded = np.column_stack([counts, np.zeros(3)])
    assert theil_h(padded) == pytest.approx(theil_h(counts), abs=1e-12)


# --------------------------------------------------------------------------
# spread and Gini
# --------------------------------------------------------------------------


def test_share_spread_hand_computed():
    # shares s = [0.1, 0.2, 0.4]: max/min = 4, max - min = 0.3
    # mean = 7/30, mean of squares = 0.21/3 = 0.07 = 63/900, var = 63/900 - 49/900 = 14/900
    # cv = (sqrt(14)/30) / (7/30) = sqrt(14)/7 ~ 0.5345
    s = share_spread([1, 2, 4], [10, 10, 10])
    assert isinstance(s, ShareSpread)
    assert s.n_units == 3
    assert s.min_share == pytest.approx(0.1)
    assert s.max_share == pytest.approx(0.4)
    assert s.ratio == pytest.approx(4.0, abs=1e-12)
    assert s.range == pytest.approx(0.3, abs=1e-12)
    assert s.cv == pytest.approx(math.sqrt(14) / 7, abs=1e-12)


def test_share_spread_zero_share_and_empty_units():
    # shares [0, 0.5] (third unit empty, dropped): ratio inf, range 0.5, cv = 0.25/0.25 = 1
    s = share_spread([0, 5, 0], [10, 10, 0])
    assert s.n_units == 2
    assert s.ratio == math.inf
    assert s.range == pytest.approx(0.5)
    assert s.cv == pytest.approx(1.0)
    # group absent: ratio 0/0 and cv (mean 0) undefined, range 0
    s = share_spread([0, 0], [10, 10])
    assert math.isnan(s.ratio) and math.isnan(s.cv) and s.range == 0.0
    # one non-empty unit: everything nan
    s = share_spread([1, 0], [10, 0])
    assert s.n_units == 1 and math.isnan(s.ratio) and math.isnan(s.range)


def test_gini_hand_computed():
    # [0, 1]: mean 1/2, sum_ij |x_i - x_j| = 2 -> 2 / (2 * 4 * 0.5) = 0.5
    assert gini([0, 1]) == pytest.approx(0.5, abs=1e-12)
    # [1, 2, 3, 4]: sum_{i<j} |diff| = 1+2+3+1+2+1 = 10, double 20, mean 2.5
    # G = 20 / (2 * 16 * 2.5) = 0.25
    assert gini([4, 1, 3, 2]) == pytest.approx(0.25, abs=1e-12)
    # equal values -> 0
    assert gini([0.3, 0.3, 0.3]) == pytest.approx(0.0, abs=1e-12)


def test_gini_weighted_hand_computed():
    # x = [0.1, 0.5], w = [3, 1]: W = 4, mean = (0.3 + 0.5)/4 = 0.2
    # sum_ij w_i w_j |x_i - x_j| = 2 * 3 * 1 * 0.4 = 2.4 -> 2.4 / (2 * 16 * 0.2) = 0.375
    assert gini([0.1, 0.5], weights=[3, 1]) == pytest.approx(0.375, abs=1e-12)
    # same as repeating the first value three times
    assert gini([0.1, 0.1, 0.1, 0.5]) == pytest.approx(0.375, abs=1e-12)
    # zero weight (empty unit) is dropped
    assert gini([0.1, 0.9, 0.5], weights=[3, 0, 1]) == pytest.approx(0.375, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gini_matches_pairwise_formula(seed):
    rng = np.random.default_rng(seed)
    x = rng.random(40)
    x[:5] = x[5]  # ties
    w = rng.integers(1, 100, size=40).astype(float)
    diff = np.abs(x[:, None] - x[None, :])
    W = w.sum()
    mean = (w * x).sum() / W
    expected = (w[:, None] * w[None, :] * diff).sum() / (2 * W**2 * mean)
    assert gini(x, w) == pytest.approx(expected, abs=1e-12)
    expected_unw = diff.sum() / (2 * x.size**2 * x.mean())
    assert gini(x) == pytest.approx(expected_unw, abs=1e-12)


def test_gini_weighted_by_totals_relates_to_segregation_gini():
    # Massey & Denton Gini = sum t_i t_j |p_i - p_j| / (2 T^2 P (1 - P)) = gini(p, t) / (1 - P)
    g, t = np.array([8.0, 2.0, 0.0]), np.array([10.0, 10.0, 20.0])
    # p = [0.8, 0.2, 0]; pairs: 100*0.6 + 200*0.8 + 200*0.2 = 60 + 160 + 40 = 260, double 520
    # T = 40, P = 1/4 -> M&D Gini = 520 / (2 * 1600 * 0.25 * 0.75) = 520/600 = 13/15
    P = g.sum() / t.sum()
    assert gini(g / t, t) / (1 - P) == pytest.approx(13 / 15, abs=1e-12)


def test_gini_undefined_cases():
    assert math.isnan(gini([0.4]))
    assert math.isnan(gini([]))
    assert math.isnan(gini([0, 0, 0]))
    assert math.isnan(gini([0.1, 0.5], weights=[0, 3]))


# --------------------------------------------------------------------------
# empty units, undefined cases, validation
# --------------------------------------------------------------------------


def test_empty_units_are_ignored():
    g0, t0 = np.array(G3), np.array(T3)
    g1, t1 = np.insert(g0, [0, 2, 3], 0), np.insert(t0, [0, 2, 3], 0)
    assert dissimilarity(g1, t1) == dissimilarity(g0, t0)
    assert isolation(g1, t1) == isolation(g0, t0)
    assert exposure(g1, t1 - g1, t1) == exposure(g0, t0 - g0, t0)
    assert share_spread(g1, t1) == share_spread(g0, t0)
    counts = np.array([[3, 1], [1, 3], [2, 5]])
    padded = np.vstack([counts[:1], [0, 0], counts[1:], [0, 0]])
    assert theil_h(padded) == pytest.approx(theil_h(counts), abs=1e-15)
    assert entropy(padded) == pytest.approx(entropy(counts), abs=1e-15)


@pytest.mark.parametrize(
    ("group", "total"),
    [
        ([], []),  # empty territory
        ([0, 0], [0, 0]),  # only empty units
        ([3, 0], [5, 0]),  # single non-empty unit
        ([0, 0, 0], [5, 3, 2]),  # group absent
        ([5, 3, 0], [5, 3, 0]),  # whole population in the group
    ],
)
def test_undefined_single_group_cases_return_nan(group, total):
    assert math.isnan(dissimilarity(group, total))
    assert math.isnan(isolation(group, total))
    assert math.isnan(exposure(group, np.subtract(total, group), total))


@pytest.mark.parametrize(
    "counts",
    [
        np.zeros((0, 3)),  # empty territory
        np.zeros((3, 2)),  # only empty units
        [[3, 2], [0, 0]],  # single non-empty unit
        [[3, 0], [4, 0]],  # a single group present: E = 0
    ],
)
def test_undefined_theil_cases_return_nan(counts):
    assert math.isnan(theil_h(counts))


def test_entropy_of_nothing_is_nan():
    assert math.isnan(entropy([0, 0]))
    assert math.isnan(entropy(np.zeros((2, 3))))
    assert math.isnan(entropy([]))


def test_float_and_list_inputs_accepted():
    a = dissimilarity(np.array(G3, dtype=np.int32), tuple(T3))
    b = dissimilarity([8.0, 2.0, 0.0], np.array(T3, dtype=float))
    assert a == b


@pytest.mark.parametrize(
    ("call", "argname"),
    [
        (lambda: dissimilarity([1, 2], [3, 3, 3]), "group"),
        (lambda: dissimilarity([1, -1], [3, 3]), "group"),
        (lambda: dissimilarity([1, 1], [3, -3]), "total"),
        (lambda: dissimilarity([4, 1], [3, 3]), "group"),
        (lambda: dissimilarity([[1, 1]], [[3, 3]]), "total"),
        (lambda: dissimilarity([1, np.nan], [3, 3]), "group"),
        (lambda: dissimilarity(["a", "b"], [3, 3]), "group"),
        (lambda: isolation([1, 4], [3, 3]), "group"),
        (lambda: isolation([1, 2], [3, np.inf]), "total"),
        (lambda: exposure([1, 1], [1, 4], [3, 3]), "group_b"),
        (lambda: exposure([1, 4], [1, 1], [3, 3]), "group_a"),
        (lambda: exposure([1], [1, 1], [3, 3]), "group_a"),
        (lambda: share_spread([1, 4], [3, 3]), "group"),
        (lambda: entropy([1, -1]), "counts"),
        (lambda: entropy(np.ones((2, 2, 2))), "counts"),
        (lambda: entropy([[1, 2], [3]]), "counts"),
        (lambda: theil_h([1, 2, 3]), "counts"),
        (lambda: theil_h([[1, -2], [3, 4]]), "counts"),
        (lambda: gini([0.1, -0.2]), "values"),
        (lambda: gini([0.1, 0.2], weights=[1, 2, 3]), "weights"),
        (lambda: gini([0.1, 0.2], weights=[1, -2]), "weights"),
    ],
)
def test_bad_input_raises_value_error_naming_argument(call, argname):
    with pytest.raises(ValueError, match=argname):
        call()


# --------------------------------------------------------------------------
# transition matrix
# --------------------------------------------------------------------------


def test_transition_matrix_known_case():
    # observed pairs (start, end): (0,0) (0,1) (1,1) (1,1) (1,0);
    # member 5 has no start class, member 6 no end class: both dropped
    #   -> counts row 0 = [1, 1, 0], row 1 = [1, 2, 0], row 2 = [0, 0, 0]
    start = [0, 0, 1, 1, 1, -1, 2]
    end = [0, 1, 1, 1, 0, 2, -1]
    shares, counts = transition_matrix(start, end, 3, return_counts=True)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [1, 2, 0], [0, 0, 0]])
    assert counts.dtype == np.int64
    np.testing.assert_allclose(shares[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(shares[1], [1 / 3, 2 / 3, 0.0])
    assert np.all(np.isnan(shares[2]))  # nobody observed starting in class 2
    np.testing.assert_array_equal(transition_matrix(start, end, 3), shares)


def test_transition_matrix_rows_sum_to_one():
    rng = np.random.default_rng(7)
    start = rng.integers(-1, 5, size=500)
    end = rng.integers(-2, 5, size=500)
    shares, counts = transition_matrix(start, end, 5, return_counts=True)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-12)
    observed = (start >= 0) & (end >= 0)
    assert counts.sum() == observed.sum()


def test_transition_matrix_unobserved_dropped_and_nan_labels():
    # float labels with nan count as unobserved, like negative labels
    shares, counts = transition_matrix(
        [0.0, 1.0, np.nan, 1.0], [1.0, np.nan, 0.0, 1.0], 2, return_counts=True
    )
    np.testing.assert_array_equal(counts, [[0, 1], [0, 1]])
    np.testing.assert_array_equal(shares, [[0.0, 1.0], [0.0, 1.0]])
    # nobody observed: all-nan matrix, zero counts
    shares, counts = transition_matrix([-1, -1], [0, 1], 2, return_counts=True)
    assert np.all(np.isnan(shares)) and counts.sum() == 0


@pytest.mark.parametrize(
    ("args", "argname"),
    [
        (([0, 3], [0, 1], 3), "start_class"),
        (([0, 1], [0, 5], 3), "end_class"),
        (([0, 1], [0, 1, 1], 3), "same length"),
        (([0.5, 1], [0, 1], 3), "start_class"),
        (([0, 1], [0, 1], 0), "n_classes"),
        (([0, 1], [0, 1], 2.0), "n_classes"),
        (([[0, 1]], [[0, 1]], 2), "start_class"),
    ],
)
def test_transition_matrix_bad_input(args, argname):
    with pytest.raises(ValueError, match=argname):
        transition_matrix(*args)


# --------------------------------------------------------------------------
# agreement with the PySAL `segregation` reference implementation
# --------------------------------------------------------------------------
#
# What the reference computes (segregation 2.5.x):
#   singlegroup.Dissim       D = sum t_i |p_i - P| / (2 T P (1 - P))   (same as Duncan's D)
#   singlegroup.Isolation    xPx = sum (x_i/X)(x_i/t_i)
#   singlegroup.Interaction  xPy = sum (x_i/X)((t_i - x_i)/t_i): exposure of the group to its
#                            complement (there is no class named Exposure)
#   singlegroup.Entropy      two-group Theil H of the group vs the rest
#   multigroup.MultiInfoTheory  multigroup Theil H (the class is not called
#                            MultiInformationTheory)
#   multigroup.MultiDiversity   entropy of the overall group shares, natural log
#                            (normalized=False); there is no MultiGroupEntropy
#
# These tests are marked slow only because importing `segregation` (geopandas, libpysal,
# matplotlib) takes about 3 s; the comparisons themselves take milliseconds.


@pytest.fixture(scope="module")
def ref():
    pd = pytest.importorskip("pandas")
    seg_single = pytest.importorskip("segregation.singlegroup")
    seg_multi = pytest.importorskip("segregation.multigroup")
    return pd, seg_single, seg_multi


def _random_counts(seed, n_units=60, n_groups=4):
    rng = np.random.default_rng(seed)
    # unit-specific composition so that indices are far from 0 and 1
    shares = rng.dirichlet(np.ones(n_groups), size=n_units)
    sizes = rng.integers(0, 400, size=n_units)
    counts = np.array([rng.multinomial(n, p) for n, p in zip(sizes, shares, strict=True)])
    counts[rng.choice(n_units, size=3, replace=False)] = 0  # some empty units
    return counts


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_single_group_indices_match_reference(ref, seed):
    pd, seg_single, _ = ref
    counts = _random_counts(seed)
    group, total = counts[:, 0], counts.sum(axis=1)
    df = pd.DataFrame({"g": group, "t": total})
    with np.errstate(all="ignore"):
        ref_d = seg_single.Dissim(df, "g", "t").statistic
        ref_iso = seg_single.Isolation(df, "g", "t").statistic
        ref_int = seg_single.Interaction(df, "g", "t").statistic
        ref_h2 = seg_single.Entropy(df, "g", "t").statistic
    assert dissimilarity(group, total) == pytest.approx(ref_d, abs=1e-9)
    assert isolation(group, total) == pytest.approx(ref_iso, abs=1e-9)
    assert exposure(group, total - group, total) == pytest.approx(ref_int, abs=1e-9)
    two_groups = np.column_stack([group, total - group])
    assert theil_h(two_groups) == pytest.approx(ref_h2, abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_multigroup_indices_match_reference(ref, seed):
    pd, _, seg_multi = ref
    counts = _random_counts(seed)
    cols = [f"q{k + 1}" for k in range(counts.shape[1])]
    df = pd.DataFrame(counts, columns=cols)
    with np.errstate(all="ignore"):
        ref_h = seg_multi.MultiInfoTheory(df, cols).statistic
        ref_e = seg_multi.MultiDiversity(df, cols).statistic
    assert theil_h(counts) == pytest.approx(ref_h, abs=1e-9)
    assert entropy(counts) == pytest.approx(ref_e, abs=1e-9)


# --------------------------------------------------------------------------
# D under random allocation
# --------------------------------------------------------------------------


def test_dissimilarity_random_matches_permutations():
    from mixsim.model.indicators.segregation import dissimilarity, dissimilarity_random
    total = np.array([12, 30, 7, 25, 40, 16])
    group = np.array([6, 3, 5, 2, 8, 6])  # G = 30 of T = 130
    rng = np.random.default_rng(7)
    labels = np.repeat(np.arange(len(total)), total)
    draws = []
    for _ in range(4000):
        members = rng.choice(total.sum(), size=group.sum(), replace=False)
        draws.append(dissimilarity(np.bincount(labels[members], minlength=len(total)), total))
    # 4,000 permutations: the standard error of their mean is sd/sqrt(4000) ≈ 0.0013 here;
    # 0.005 is about 4 standard errors
    assert dissimilarity_random(group, total) == pytest.approx(np.mean(draws), abs=0.005)


def test_dissimilarity_random_falls_with_unit_size():
    from mixsim.model.indicators.segregation import dissimilarity_random
    # the same 25 % group share in 10 units of 20 households, then of 2,000: counting noise
    # shrinks about as 1/sqrt(unit size)
    small = dissimilarity_random([5] * 10, [20] * 10)
    large = dissimilarity_random([500] * 10, [2000] * 10)
    assert 0.1 < small < 0.3 and large < 0.03 and small / large > 5


def test_dissimilarity_random_edge_cases():
    from mixsim.model.indicators.segregation import dissimilarity_random
    assert np.isnan(dissimilarity_random([0, 0], [5, 5]))      # absent group
    assert np.isnan(dissimilarity_random([5], [5]))            # one unit
    assert dissimilarity_random([1, 0, 0], [1, 0, 9]) == pytest.approx(  # empty unit ignored
        dissimilarity_random([1, 0], [1, 9]))
    with pytest.raises(ValueError):
        dissimilarity_random([1.5, 0], [3, 3])

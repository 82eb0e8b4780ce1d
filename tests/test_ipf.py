"""Tests for calibration.ipf: margins reproduced, hand-computed cases, errors, integer rounding."""

import math

import numpy as np
import pytest

from mixsim.calibration.ipf import integerise, ipf, largest_remainder, margin_error


def _margin(x, axes):
    other = tuple(a for a in range(x.ndim) if a not in axes)
    return x.sum(axis=other)


# --------------------------------------------------------------------------
# ipf: margins reproduced
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(4, 6), (3, 4, 5)])
def test_ipf_reproduces_one_dimensional_margins(seed, shape):
    rng = np.random.default_rng(seed)
    truth = rng.gamma(2.0, 50.0, size=shape)
    start = rng.uniform(0.2, 3.0, size=shape)
    margins = [((a,), _margin(truth, (a,))) for a in range(len(shape))]
    res = ipf(start, margins)
    assert res.converged
    for (axes, target), fit in zip(margins, res.margins, strict=True):
        np.testing.assert_allclose(_margin(res.fitted, axes), target, rtol=0, atol=1e-6)
        assert fit.max_abs_error <= 1e-6
        assert fit.axes == axes
    assert res.max_abs_error <= 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ipf_reproduces_two_dimensional_margins_of_a_3d_table(seed):
    rng = np.random.default_rng(seed)
    truth = rng.gamma(1.5, 20.0, size=(5, 4, 3))
    margins = [((0, 1), truth.sum(2)), ((1, 2), truth.sum(0)), ((0, 2), truth.sum(1))]
    res = ipf(np.ones(truth.shape), margins, tol=1e-12, max_iter=5000)
    assert res.converged
    for axes, target in margins:
        np.testing.assert_allclose(_margin(res.fitted, axes), target, atol=1e-6)


def test_reported_errors_match_the_fitted_table():
    rng = np.random.default_rng(7)
    truth = rng.gamma(2.0, 10.0, size=(6, 5))
    margins = [((0,), truth.sum(1)), ((1,), truth.sum(0))]
    start = rng.uniform(0.2, 3.0, size=(6, 5))
    res = ipf(start, margins, max_iter=1)  # one cycle: the first margin is off
    assert not res.converged
    for (axes, target), fit in zip(margins, res.margins, strict=True):
        diff = np.abs(_margin(res.fitted, axes) - target)
        assert fit.max_abs_error == pytest.approx(diff.max(), abs=1e-12)
        assert fit.max_rel_error == pytest.approx((diff / target).max(), abs=1e-12)
    assert res.margins[1].max_abs_error < 1e-9  # the last margin fitted is exact


def test_target_axes_may_be_given_in_any_order():
    rng = np.random.default_rng(3)
    truth = rng.uniform(1, 5, size=(3, 4, 5))
    res = ipf(np.ones(truth.shape), [((2, 0), truth.sum(1).T), (1, truth.sum((0, 2)))])
    assert res.converged
    np.testing.assert_allclose(res.fitted.sum(1), truth.sum(1), atol=1e-9)


# --------------------------------------------------------------------------
# ipf: hand-computed cases
# --------------------------------------------------------------------------


def test_uniform_seed_gives_the_independence_table():
    # x_ij = r_i c_j / T with r = [3, 7], c = [4, 6], T = 10
    res = ipf(np.ones((2, 2)), [(0, [3.0, 7.0]), (1, [4.0, 6.0])])
    np.testing.assert_allclose(res.fitted, [[1.2, 1.8], [2.8, 4.2]], atol=1e-12)
    assert res.iterations <= 2


def test_seed_odds_ratio_is_kept():
    # seed odds ratio (1*4)/(2*3) = 2/3; with all margins 10 the solution is [[a, 10-a], [10-a, a]]
    # with a^2/(10-a)^2 = 2/3, i.e. a = 10 r / (1 + r), r = sqrt(2/3)
    r = math.sqrt(2 / 3)
    a = 10 * r / (1 + r)
    res = ipf([[1.0, 2.0], [3.0, 4.0]], [(0, [10.0, 10.0]), (1, [10.0, 10.0])], tol=1e-14)
    np.testing.assert_allclose(res.fitted, [[a, 10 - a], [10 - a, a]], atol=1e-9)


def test_structural_zeros_stay_zero():
    seed = np.array([[1.0, 0.0], [1.0, 1.0]])
    res = ipf(seed, [(0, [2.0, 4.0]), (1, [3.0, 3.0])])
    assert res.fitted[0, 1] == 0.0
    # forced solution: row 0 = [2, 0], column 0 = 3 -> [1, 3] in row 1
    np.testing.assert_allclose(res.fitted, [[2.0, 0.0], [1.0, 3.0]], atol=1e-8)


def test_zero_targets_are_reached_exactly():
    res = ipf(np.ones((2, 3)), [(0, [0.0, 6.0]), (1, [1.0, 2.0, 3.0])])
    assert (res.fitted[0] == 0).all()
    assert res.margins[0].max_rel_error == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------
# ipf: errors
# --------------------------------------------------------------------------


def test_inconsistent_totals_raise():
    with pytest.raises(ValueError, match="inconsistent margin totals.*tolerance"):
        ipf(np.ones((2, 2)), [(0, [3.0, 7.0]), (1, [4.0, 7.0])])


def test_totals_within_the_tolerance_are_accepted():
    res = ipf(np.ones((2, 2)), [(0, [3.0, 7.0]), (1, [4.0, 6.0 + 1e-9])])
    assert res.fitted.sum() == pytest.approx(10.0)


def test_inconsistent_overlapping_margins_raise():
    # both margins contain axis 0 but disagree on its sums
    with pytest.raises(ValueError, match=r"inconsistent margins.*common axes \(0,\)"):
        ipf(np.ones((2, 2, 2)), [((0, 1), [[1.0, 1.0], [2.0, 2.0]]),
                                 ((0, 2), [[2.0, 1.0], [1.0, 2.0]])])


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"margin 1 .*shape \(3,\), expected \(4,\)"):
        ipf(np.ones((2, 4)), [(0, [1.0, 1.0]), (1, [1.0, 0.5, 0.5])])


def test_negative_values_raise():
    with pytest.raises(ValueError, match="seed has a negative value at cell"):
        ipf([[1.0, -1.0], [1.0, 1.0]], [(0, [1.0, 1.0])])
    with pytest.raises(ValueError, match="margin 0 .*negative target"):
        ipf(np.ones((2, 2)), [(0, [3.0, -1.0])])


def test_seed_without_mass_where_a_margin_needs_some_raises():
    seed = np.array([[1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"margin 1 \(axes \(1,\)\): cell \(1,\) needs 2"):
        ipf(seed, [(0, [1.0, 1.0]), (1, [0.0, 2.0])])


def test_bad_axes_raise():
    with pytest.raises(ValueError, match="axis out of range"):
        ipf(np.ones((2, 2)), [(2, [1.0, 1.0])])
    with pytest.raises(ValueError, match="repeated"):
        ipf(np.ones((2, 2)), [((0, 0), np.ones((2, 2)))])


def test_margin_error_helper():
    fit = margin_error([[1, 2], [3, 4]], (0,), [3.0, 8.0])
    assert fit.max_abs_error == 1.0
    assert fit.max_rel_error == pytest.approx(1 / 8)


# --------------------------------------------------------------------------
# integerise
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", [(7,), (5, 6), (4, 3, 5), (6, 4, 4, 5)])
def test_integerise_keeps_the_total_and_moves_cells_by_less_than_one(seed, shape):
    rng = np.random.default_rng(seed)
    x = rng.gamma(1.0, 3.0, size=shape)
    y = integerise(x, np.random.default_rng(seed))
    assert y.dtype == np.int64 and y.shape == x.shape
    assert y.sum() == round(x.sum())
    assert (np.abs(y - x) < 1).all()
    for a in range(x.ndim):  # each 1-D margin within one unit of the real one
        assert np.abs(_margin(y, (a,)) - _margin(x, (a,))).max() < 1 + 1e-9


def test_integerise_keeps_integer_margins_of_an_ipf_fit():
    rng = np.random.default_rng(11)
    truth = rng.integers(0, 30, size=(8, 4, 5))
    margins = [((0, 1), truth.sum(2)), ((0, 2), truth.sum(1)), ((1, 2), truth.sum(0))]
    fitted = ipf(np.ones(truth.shape), margins, max_iter=5000).fitted
    y = integerise(fitted, np.random.default_rng(0), margins=[m[0] for m in margins],
                   weights=(3, 1, 1))
    assert y.sum() == truth.sum()
    np.testing.assert_array_equal(y.sum(2), truth.sum(2))  # the dominant margin is exact
    for axes, target in margins[1:]:
        assert margin_error(y, axes, target).max_abs_error <= 2


def test_integerise_is_reproducible_and_handles_edge_cases():
    x = np.random.default_rng(5).uniform(0, 2, size=(6, 6))
    a = integerise(x, np.random.default_rng(42))
    b = integerise(x, np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(integerise(np.zeros((2, 3)), np.random.default_rng(0)),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(integerise([[1.0, 2.0]], np.random.default_rng(0)), [[1, 2]])
    with pytest.raises(ValueError, match="negative"):
        integerise([1.0, -0.5], np.random.default_rng(0))
    with pytest.raises(ValueError, match="weights"):
        integerise(np.ones((2, 2)), np.random.default_rng(0), weights=(1, 0))


@pytest.mark.parametrize("seed", range(5))
def test_largest_remainder_sums_to_the_total_within_one_unit_of_each_share(seed):
    rng = np.random.default_rng(seed)
    x = rng.gamma(0.7, 3.0, size=17)
    total = int(rng.integers(1, 200))
    got = largest_remainder(x, total)
    assert got.dtype == np.int64 and got.sum() == total
    exact = x * total / x.sum()
    assert (np.abs(got - exact) < 1).all()
    # the units go to the largest fractional parts: every rounded-up cell's remainder is at
    # least every rounded-down cell's
    up = got > np.floor(exact)
    frac = exact - np.floor(exact)
    if up.any() and (~up).any():
        assert frac[up].min() >= frac[~up].max() - 1e-12
    assert largest_remainder(x).sum() == round(x.sum())  # default: the rounded sum


def test_largest_remainder_by_hand():
    assert list(largest_remainder([1, 1, 1], 2)) == [1, 1, 0]  # ties go to the first
    assert list(largest_remainder([0.0, 0.0], 0)) == [0, 0]
    assert largest_remainder([], 0).size == 0
    assert list(largest_remainder([0.2, 0.7, 2.1])) == [0, 1, 2]


def test_bad_array_names_the_cell():
    with pytest.raises(ValueError, match=r"array has a negative value at cell \(1, 0\)"):
        integerise(np.array([[1.0, 2.0], [-1.0, 0.0]]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="seed has values that are not finite"):
        ipf(np.array([1.0, np.nan]), [(0, [1.0, 1.0])])

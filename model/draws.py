"""Random draws on numpy's generator: weighted choice, sampling without replacement, wishes.

Every function takes the run's ``numpy.random.Generator`` and makes the same draws, in the same
order, as the numpy call it stands for (tested): :func:`weighted_choice` is
``rng.choice(len(p), size, p=p)`` without its checks, :func:`sample_without_replacement` is
``rng.choice(n, size=k, replace=False)`` compiled on the generator's own bit stream.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .jit import njit


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

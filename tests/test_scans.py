"""The bit-packed group scans (model.scans) against plain loops over the rows, on random tables.

Each oracle below is the definition of a group written row by row in Python; the kernels read
eight rows a word and must list, count and rank the same rows. Table lengths that are not a
multiple of 8 exercise the rows after the last whole word.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixsim.model import scans
from mixsim.model.codes import (
    APP_FIRST,
    APP_NONE,
    APP_TRANSFER,
    HOSTED,
    OWNER,
    PRIVATE,
    SEEK_NONE,
    SEEK_OWN,
    SEEK_RENT,
    SOCIAL,
)

SIZES = (0, 1, 7, 8, 9, 64, 203)
TENURES = (SOCIAL, PRIVATE, OWNER, HOSTED, 4, 5)  # with gone and never (ended rows)


def random_columns(rng: np.random.Generator, n: int, p_alive: float = 0.8):
    """Household columns with the model's dtypes and codes, some rows ended."""
    alive = rng.random(n) < p_alive
    tenure = rng.choice(TENURES, n).astype(np.int8)
    app = rng.choice((APP_NONE, APP_FIRST, APP_TRANSFER), n).astype(np.int8)
    seek = rng.choice((SEEK_NONE, SEEK_RENT, SEEK_OWN), n).astype(np.int8)
    relocation = rng.random(n) < 0.2
    return alive, tenure, app, seek, relocation


def in_group(i, alive, tenure, x, relocation, of_tenure, x_mode, settled) -> bool:
    """The group's definition for one row (see the module docstring of model.scans)."""
    if not alive[i]:
        return False
    if of_tenure >= 0 and tenure[i] != of_tenure:
        return False
    if of_tenure == scans.NOT_HOSTED and tenure[i] == HOSTED:
        return False
    if x_mode == scans.ZERO and x[i] != 0:
        return False
    if x_mode == scans.NONZERO and x[i] == 0:
        return False
    return not (settled and relocation[i])


def oracle_members(alive, tenure, x, relocation, of_tenure, x_mode, settled) -> list[int]:
    """Members of a group in row order, by a plain loop."""
    return [i for i in range(len(alive))
            if in_group(i, alive, tenure, x, relocation, of_tenure, x_mode, settled)]


GROUPS = list(itertools.product((SOCIAL, PRIVATE, OWNER, HOSTED, scans.ANY, scans.NOT_HOSTED),
                                (scans.ZERO, scans.NONZERO, scans.ANY), (False, True)))


@pytest.mark.parametrize("n", SIZES)
def test_group_count_members_and_ranks_equal_plain_loops(n):
    """Every group (tenure × column mode × settled), on the app and seek columns, 3 seeds."""
    for seed in range(3):
        rng = np.random.default_rng(seed * 1000 + n)
        alive, tenure, app, seek, reloc = random_columns(rng, n)
        for x in (app, seek):
            for g in GROUPS:
                want = oracle_members(alive, tenure, x, reloc, *g)
                got = scans.group_members(alive, tenure, x, reloc, *g)
                assert got.tolist() == want, g
                assert scans.group_count(alive, tenure, x, reloc, *g) == len(want)
                if want:
                    k = int(rng.integers(1, len(want) + 1))
                    ranks = rng.choice(len(want), k, replace=False)  # unsorted, distinct
                    got = scans.group_ranks(alive, tenure, x, reloc, *g, ranks.astype(np.int64))
                    assert got.tolist() == [want[r] for r in np.sort(ranks)]


@pytest.mark.parametrize("n", SIZES)
def test_tenure_members_equal_a_plain_loop(n):
    """Living households of each tenure code, in row order."""
    rng = np.random.default_rng(n)
    alive, tenure, *_ = random_columns(rng, n)
    for code in TENURES:
        want = [i for i in range(n) if alive[i] and tenure[i] == code]
        assert scans.tenure_members(alive, tenure, code).tolist() == want


@pytest.mark.parametrize("n", SIZES)
def test_intention_group_sizes_equal_plain_counts(n):
    """The six group sizes of the move intentions, counted in one pass."""
    rng = np.random.default_rng(n + 5)
    alive, tenure, app, seek, reloc = random_columns(rng, n)

    def count(of_tenure, x, x_mode, settled):
        return len(oracle_members(alive, tenure, x, reloc, of_tenure, x_mode, settled))

    want = (count(SOCIAL, app, scans.ANY, True), count(PRIVATE, app, scans.ANY, True),
            count(OWNER, app, scans.ANY, True), count(PRIVATE, seek, scans.ZERO, False),
            count(PRIVATE, app, scans.ZERO, False), count(OWNER, seek, scans.ZERO, False))
    assert scans.intention_group_sizes(alive, tenure, app, seek, reloc) == want


@pytest.mark.parametrize("n", SIZES)
def test_social_groups_equal_plain_loops(n):
    """Social tenants without an application and social tenants not looking."""
    rng = np.random.default_rng(n + 9)
    alive, tenure, app, seek, reloc = random_columns(rng, n)
    tr, idle = scans.social_groups(alive, tenure, app, seek)
    assert tr.tolist() == oracle_members(alive, tenure, app, reloc, SOCIAL, scans.ZERO, False)
    assert idle.tolist() == oracle_members(alive, tenure, seek, reloc, SOCIAL, scans.ZERO, False)


@pytest.mark.parametrize("n", SIZES)
def test_departure_members_equal_a_plain_selection_by_rank(n):
    """Members drawn by rank in five groups, with ``gone``, sorted and each once."""
    for seed in range(4):
        rng = np.random.default_rng(seed * 100 + n)
        alive, tenure, app, seek, reloc = random_columns(rng, n)
        groups = [oracle_members(alive, tenure, app, reloc, t, m, True)
                  for t, m in ((SOCIAL, scans.ANY), (OWNER, scans.ANY), (PRIVATE, scans.ANY),
                               (HOSTED, scans.ZERO), (HOSTED, scans.NONZERO))]
        ranks = [rng.choice(len(g), int(rng.integers(0, len(g) + 1)), replace=False)
                 .astype(np.int64) for g in groups]
        hosted = oracle_members(alive, tenure, app, reloc, HOSTED, scans.ANY, False)
        gone = np.asarray(sorted(rng.choice(hosted, min(3, len(hosted)), replace=False))
                          if hosted else [], np.int64)
        want = set(gone.tolist())
        for g, r in zip(groups, ranks, strict=True):
            want.update(g[k] for k in r)
        got = scans.departure_members(alive, tenure, app, reloc, *ranks, gone)
        assert got.tolist() == sorted(want)

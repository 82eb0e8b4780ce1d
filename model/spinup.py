"""Spin-up (ODD §5, Initialization): the initial state at the model's own equilibrium.

The synthetic population drawn from the territory's tables (:func:`~model.population.build_state`)
matches the tables' margins but not the model's own dynamics: who applies, who waits, who
lives where are those of the tables, not of the rules. Left as drawn, a run under today's rules
spends its first years relaxing towards its own equilibrium, and every comparison reads that
relaxation. The spin-up runs the model for ``years`` years *before* year 0 (months −12·years to
−1, not recorded) under today's rules and the scenario's behaviour, with the stock held
fixed (no growth of the number of households, no construction, no sales), so that the
population settles into the territory's observed stock. Year 0 is the state it ends in, its
households renumbered from 0 (the starting cohort) and its counters cleared.

The spin-up runs the scenario's *behaviour* (the parameters of the world: rates, propensities,
the commission's practice), not its levers: levers act from year 0, behaviour is what the
territory has been. The population is drawn and spun up with a generator of its own, seeded
from the territory (:func:`spin_up_seed`), so that every seed of an ensemble starts from the
same equilibrium population and a run's own seed drives its years from 0 on (common initial
state, as in paired comparisons). A spun-up state therefore depends only on the territory, the
build options, the behaviour, the number of years and the code; it is built once and kept on
disk in the per-user cache folder (``<cache>/spinup``, see :func:`mixsim.model.jit.cache_dir`),
keyed by a hash of all of these: a later run of any seed reads the file instead of spinning up
again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .applications import commune_weights, update_q1_threshold
from .config import Behaviour, Levers
from .moves import MoveLog, compact_households
from .state import State, update_quartiles
from .territory import Territory

log = logging.getLogger(__name__)

# years of spin-up: with 15, the Q1 share of leases outside QPV still rose by 4 points and deaths
# fell by 1 per 1,000 over the next 20 years; with 35 both are flat (scale 0.3, seeds 1-3)
SPIN_UP_YEARS = 35
# The spun-up states least recently written or read are deleted beyond this number of files
# or this many bytes in all (a state is 35 MB at scale 2; a calibration, or a sensitivity
# analysis in "point" mode, stores one per behaviour it tries)
# (the test suite alone writes over 200 states at scale 0.1, about 0.8 MB each: with a cap of
# 200 it evicted states a later test read again, and rebuilt them under another numpy)
CACHE_FILES_KEPT = 1000
CACHE_BYTES_KEPT = 2 * 1024**3


def spin_up_rules(behaviour: Behaviour | None = None) -> tuple[Levers, Behaviour]:
    """Today's rules and the scenario's behaviour with the stock held fixed (see the module).

    ``behaviour``: the scenario's behaviour parameters (default: :class:`Behaviour`'s
    defaults). Its ``growth``, ``income_growth`` and ``private_vacancy_target`` are set to 0
    (year 0 has the territory's stock and incomes); the rest apply, so
    that a territory with other behaviour (a calibration candidate, a point of a sensitivity
    analysis over uncertainties) starts from its own equilibrium, not from the default's.
    """
    lev = Levers()
    lev = dataclasses.replace(
        lev, construction=dataclasses.replace(lev.construction, stock_share=0.0,
                                              units_per_year=0.0),
        sales=dataclasses.replace(lev.sales, share_per_year=0.0))
    # no growth, no real income growth (year 0 has the territory's incomes), and no private
    # construction answering vacancy (a target of 0 builds nothing)
    return lev, dataclasses.replace(behaviour or Behaviour(), growth=0.0, income_growth=0.0,
                                    private_vacancy_target=0.0)


def today_options() -> dict:
    """Build options of today's rules (reservation shares, breadth of wishes)."""
    lev = Levers()
    return {"holder_shares": lev.reservation.shares(),
            "wish_breadth": lev.information.wish_breadth}


def apply_options(state: State, rng: np.random.Generator, territory: Territory, *,
                  holder_shares, wish_breadth: int) -> None:
    """Apply a scenario's build options to a state spun up with today's (:func:`today_options`).

    Reservation shares other than today's re-draw the holders of the social dwellings (unless
    the territory gives them), as :func:`~model.population.build_state` draws them; a breadth of
    wishes other than today's re-draws the wishes of the pending applicants. With today's
    options nothing is drawn, so the baseline's stream is that of the spun-up state.
    """
    from .draws import draw_wishes
    from .state import APP_NONE, S_SOCIAL

    today = today_options()
    dw, hh = state.dw, state.hh
    if (tuple(np.asarray(holder_shares, float)) != tuple(np.asarray(today["holder_shares"], float))
            and "holder" not in territory.social_stock.columns):
        soc = np.flatnonzero(dw.sector == S_SOCIAL)
        shares = np.asarray(holder_shares, float)
        counts = np.floor(shares * len(soc)).astype(int)
        counts[-1] = len(soc) - counts[:-1].sum()
        dw.holder[soc] = rng.permutation(np.repeat(np.arange(4), counts))
    if int(wish_breadth) != int(today["wish_breadth"]):
        apps = np.flatnonzero(hh.alive & (hh.app != APP_NONE))
        hh.wishes[apps] = draw_wishes(rng, state.nb.commune[hh.nbhd[apps]], int(wish_breadth),
                                      state.commune_w)


def spin_up(state: State, rng: np.random.Generator, years: int, scale: float,
            behaviour: Behaviour | None = None) -> State:
    """Run ``years`` years before year 0 on ``state`` (in place) and return it at year 0.

    ``behaviour``: the scenario's behaviour (see :func:`spin_up_rules`).
    """
    from .processes.attractiveness import anchor_base
    from .schedule import advance_month, new_year

    if years <= 0:
        return state
    lev, beh = spin_up_rules(behaviour)
    hh = state.hh
    shift = 12 * int(years)
    hh.move_in = hh.move_in - shift
    hh.app_month = hh.app_month - shift
    state.month = -shift
    anchor_base(state, beh)
    moves = MoveLog()
    moves.bind(hh)
    first = state.month
    while state.month < 0:
        advance_month(state, lev, beh, rng, moves, scale, first)
        if state.month % 12 == 0 and state.month < 0:
            moves = MoveLog()  # (nothing reads the spin-up's moves)
            moves.bind(hh)
    new_year(state, beh, rng)
    compact_households(state)
    hh = state.hh
    hh.hid = np.arange(hh.n)
    hh.__dict__["next_id"] = hh.n
    hh.cohort = hh.alive
    state.counters.clear()
    state.initial_households = hh.n
    state.start_households = int((hh.dwelling >= 0).sum())
    state.arrivals = state.formations = state.departures = 0
    state.commune_w = commune_weights(state)
    update_quartiles(state)
    update_q1_threshold(state)
    state.nb.attractiveness_year_start = state.nb.attractiveness.copy()
    return state


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """Hash of the model package's source files (a spun-up state depends on the code)."""
    h = hashlib.sha256()
    root = Path(__file__).parent
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def territory_hash(territory: Territory) -> str:
    """Hash of a territory's tables and scale."""
    h = hashlib.sha256(repr((territory.name, territory.scale)).encode())
    for name in ("communes", "neighbourhoods", "dwellings", "social_stock", "population",
                 "applicants"):
        df = getattr(territory, name)
        h.update(name.encode())
        h.update(",".join(map(str, df.columns)).encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def cache_folder() -> Path:
    """Folder of the spun-up states (``<cache>/spinup``)."""
    from .jit import cache_dir
    return cache_dir() / "spinup"


def spin_up_seed(territory: Territory) -> np.random.SeedSequence:
    """Seed of the generator that draws and spins up a territory's initial state.

    Derived from the territory's tables and scale (:func:`territory_hash`): every run of a
    territory starts from the same equilibrium population, whatever its own seed.
    """
    return np.random.SeedSequence(int(territory_hash(territory), 16))


def cache_key(territory: Territory, years: int, options: dict,
              behaviour: Behaviour | None = None) -> str:
    """File name of a spun-up state."""
    beh = repr(spin_up_rules(behaviour)[1])
    h = hashlib.sha256(repr((territory_hash(territory), int(years),
                             repr(sorted(options.items())), beh, code_hash())).encode())
    return f"s{h.hexdigest()[:32]}.pkl"


def load_cached(key: str):
    """Return the spun-up state of the disk cache, or None."""
    path = cache_folder() / key
    try:
        with open(path, "rb") as f:
            state = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or stale file: rebuilt
        log.warning("ignoring unreadable spun-up state %s (%s)", path, exc)
        return None
    try:  # read: the last to be pruned (store_cached deletes the least recently used)
        os.utime(path)
    except OSError:
        pass
    return state


def store_cached(key: str, state: State) -> None:
    """Write a spun-up state to the disk cache (atomically); warn if it cannot."""
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, folder / key)
        # another process may be storing or pruning at the same time: a file that vanished
        # between the listing and its stat is simply skipped
        stats = []
        for f in folder.glob("[st]*.pkl"):
            try:
                st = f.stat()
            except FileNotFoundError:
                continue
            stats.append((st.st_mtime, st.st_size, f))
        # the most recently written or read first; the one just written is always kept
        stats.sort(key=lambda x: (x[2].name != key, -x[0]))
        kept_bytes = 0
        for k, (_, size, f) in enumerate(stats):
            kept_bytes += size
            if k > 0 and (k >= CACHE_FILES_KEPT or kept_bytes > CACHE_BYTES_KEPT):
                f.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not cache the spun-up state in %s (%s)", folder, exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

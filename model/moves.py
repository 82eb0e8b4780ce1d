"""Move log and the state changes every move shares (vacating, moving in, leaving)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .jit import njit
from .state import GONE, S_SOCIAL, SEEK_NONE, State

MOVE_KINDS = ("transfer", "first_letting", "relocation", "private_move", "exit_ownership",
              "exit_private_rental", "arrival", "departure", "death", "sale_to_tenant", "union")
KIND = {k: i for i, k in enumerate(MOVE_KINDS)}


class MoveLog:
    """Append-only log of moves: household, month, from (dwelling, neighbourhood), to, kind.

    The household is its stable id (the ``hid`` column of the household table the log is bound
    to, see :meth:`bind`), which stays valid when dead rows are compacted away
    (:func:`compact_households`); an unbound log records the row indices themselves.
    """

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._table = None

    def bind(self, table) -> None:
        """Record households by the ``hid`` column of ``table`` (a household Table)."""
        self._table = table

    def add(self, hh: np.ndarray, month: int, from_dw: np.ndarray, from_nb: np.ndarray,
            to_dw: np.ndarray, to_nb: np.ndarray, kind: str | np.ndarray) -> None:
        """Record moves (arrays of equal length; ``kind`` a name or an array of kind codes)."""
        n = len(hh)
        if n == 0:
            return
        chunk = np.empty((7, n), np.int64)
        if self._table is not None:
            hh = self._table.hid[np.asarray(hh, np.int64)]
        chunk[0], chunk[1], chunk[2], chunk[3] = hh, month, from_dw, from_nb
        chunk[4], chunk[5], chunk[6] = to_dw, to_nb, KIND[kind] if isinstance(kind, str) else kind
        self._chunks.append(chunk)

    def __len__(self) -> int:
        return sum(c.shape[1] for c in self._chunks)

    def array(self, start: int = 0) -> np.ndarray:
        """Log entries from position ``start`` on, as a (7, n) integer array."""
        if not self._chunks:
            return np.zeros((7, 0), np.int64)
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks, axis=1)]
        return self._chunks[0][:, start:]

    def count(self, kind: str) -> int:
        """Count the logged moves of one kind."""
        return int(sum((c[6] == KIND[kind]).sum() for c in self._chunks))

    def to_frame(self, nb_ids: list[str] | None = None) -> pd.DataFrame:
        """Return the log as a DataFrame (neighbourhood ids as strings with ``nb_ids``)."""
        cols = ["household", "month", "from_dwelling", "from_nbhd", "to_dwelling", "to_nbhd",
                "kind"]
        if not self._chunks:
            data = np.zeros((7, 0), np.int64)
        else:
            data = np.concatenate(self._chunks, axis=1)
        df = pd.DataFrame(data.T, columns=cols)
        df["kind"] = pd.Categorical.from_codes(df["kind"].to_numpy(), MOVE_KINDS)
        if nb_ids is not None:
            lab = np.array(list(nb_ids) + [""], dtype=object)
            for c in ("from_nbhd", "to_nbhd"):
                df[c] = pd.array(lab[df[c].to_numpy()], dtype="string").fillna("")
                df[c] = df[c].replace("", pd.NA)
        return df


def vacate(state: State, hh_idx: np.ndarray) -> None:
    """Households leave their dwelling (if any); dwellings to demolish are closed when emptied."""
    hh, dw = state.hh, state.dw
    n = _vacate(hh.dwelling, dw.occupant, dw.months_vacant, dw.to_demolish, dw.active,
                np.asarray(hh_idx, np.int64))
    if n:
        state.counters["demolished"] = state.counters.get("demolished", 0) + n


@njit
def _vacate(dwelling, occupant, months_vacant, to_demolish, active, hh_idx):
    """Vacate the dwellings of ``hh_idx``; return how many dwellings to demolish were closed."""
    closed = 0
    for h in hh_idx:
        d = dwelling[h]
        if d >= 0:
            occupant[d] = -1
            months_vacant[d] = 0
            if to_demolish[d]:
                active[d] = False
                closed += 1
    for h in hh_idx:
        dwelling[h] = -1
    return closed


def move_into(state: State, hh_idx: np.ndarray, dw_idx: np.ndarray, tenure: np.ndarray | int,
              ) -> None:
    """Households move into vacant dwellings (after :func:`vacate` of their old home)."""
    hh, dw = state.hh, state.dw
    hh_idx = np.asarray(hh_idx, np.int64)
    vacate(state, hh_idx)
    tenure = np.broadcast_to(np.asarray(tenure, np.int8), hh_idx.shape)
    _move_in(hh.dwelling, hh.nbhd, hh.tenure, hh.move_in, hh.seek, hh.months_over,
             hh.months_over_loss, dw.occupant, dw.months_vacant, dw.new, dw.nbhd, dw.sector,
             hh_idx, np.asarray(dw_idx, np.int64), tenure, state.month)


@njit
def _move_in(dwelling, nbhd, tenure, move_in, seek, months_over, months_over_loss, occupant,
             months_vacant, new, dw_nbhd, sector, hh_idx, dw_idx, new_tenure, month):
    """Move households ``hh_idx`` into dwellings ``dw_idx``.

    In a social dwelling, the months counted above the income thresholds start again.
    """
    for j in range(len(hh_idx)):
        h, d = hh_idx[j], dw_idx[j]
        dwelling[h] = d
        nbhd[h] = dw_nbhd[d]
        tenure[h] = new_tenure[j]
        move_in[h] = month
        seek[h] = SEEK_NONE
        occupant[d] = h
        months_vacant[d] = 0
        new[d] = False
        if sector[d] == S_SOCIAL:
            months_over[h] = 0
            months_over_loss[h] = 0


def remove(state: State, hh_idx: np.ndarray, log: MoveLog, kind: str) -> None:
    """Households leave the territory or die: their dwelling is vacated, the row kept."""
    hh = state.hh
    if len(hh_idx) == 0:
        return
    from_dw = hh.dwelling[hh_idx].copy()
    from_nb = hh.nbhd[hh_idx].copy()
    vacate(state, hh_idx)
    hh.alive[hh_idx] = False
    hh.tenure[hh_idx] = GONE
    hh.app[hh_idx] = 0
    hh.seek[hh_idx] = SEEK_NONE
    state.departures += len(hh_idx)
    minus = np.full(len(hh_idx), -1)
    log.add(hh_idx, state.month, from_dw, from_nb, minus, minus, kind)


def join(state: State, joiner: np.ndarray, host: np.ndarray, log: MoveLog) -> None:
    """Households ``joiner`` move into the homes of ``host`` (a union): their rows end.

    Logged as ``union`` moves from the joiner's home to the host's (dwelling −1 when hosted).
    """
    hh = state.hh
    joiner = np.asarray(joiner, np.int64)
    if len(joiner) == 0:
        return
    host = np.asarray(host, np.int64)
    from_dw = hh.dwelling[joiner].copy()
    from_nb = hh.nbhd[joiner].copy()
    vacate(state, joiner)
    hh.alive[joiner] = False
    hh.tenure[joiner] = GONE
    hh.app[joiner] = 0
    hh.seek[joiner] = SEEK_NONE
    state.departures += len(joiner)  # (households that ended, for the accounting)
    log.add(joiner, state.month, from_dw, from_nb, hh.dwelling[host], hh.nbhd[host], "union")


def compact_households(state: State, extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Drop the rows of households that ended (died, left, joined another, never came).

    Rows keep their order and their stable id ``hid``; the dwellings' ``occupant`` column and the
    household rows held in ``state.pending_arrivals`` and in the arrays of ``extra`` are
    remapped (−1 for a dropped row). Call it between months: it is cheap (a copy of the living
    rows) and keeps a month's cost proportional to the living households, not to all the
    households ever created.

    Returns:
        The new row of each old row (−1 for the dropped ones).
    """
    hh, dw = state.hh, state.dw
    keep = hh.alive.copy()
    if len(state.pending_arrivals):
        keep[state.pending_arrivals] = True
    new = hh.compact(keep)
    occ = dw.occupant
    dw.occupant = np.where(occ >= 0, new[np.maximum(occ, 0)], -1)
    if len(state.pending_arrivals):
        state.pending_arrivals = new[state.pending_arrivals]
    for arr in (extra or {}).values():
        arr[:] = np.where(arr >= 0, new[np.maximum(arr, 0)], -1)
    return new


def rows_of(state: State, hid: np.ndarray) -> np.ndarray:
    """Return the rows of the households of stable ids ``hid`` (−1 for a household dropped)."""
    ids = state.hh.hid
    hid = np.asarray(hid, np.int64)
    pos = np.minimum(np.searchsorted(ids, hid), max(len(ids) - 1, 0))
    if len(ids) == 0:
        return np.full(len(hid), -1, np.int64)
    return np.where(ids[pos] == hid, pos, -1)



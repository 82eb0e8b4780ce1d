"""Move log and the state changes every move shares (vacating, moving in, leaving)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .jit import njit
from .state import GONE, HOSTED, S_SOCIAL, SEEK_NONE, State

MOVE_KINDS = ("transfer", "first_letting", "relocation", "private_move", "exit_ownership",
              "exit_private_rental", "arrival", "departure", "death", "sale_to_tenant")
KIND = {k: i for i, k in enumerate(MOVE_KINDS)}


class MoveLog:
    """Append-only log of moves: household, month, from (dwelling, neighbourhood), to, kind."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    def add(self, hh: np.ndarray, month: int, from_dw: np.ndarray, from_nb: np.ndarray,
            to_dw: np.ndarray, to_nb: np.ndarray, kind: str | np.ndarray) -> None:
        """Record moves (arrays of equal length; ``kind`` a name or an array of kind codes)."""
        n = len(hh)
        if n == 0:
            return
        chunk = np.empty((7, n), np.int64)
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


def is_hosted(state: State, idx) -> np.ndarray:
    """Whether households have no dwelling of their own."""
    return state.hh.tenure[idx] == HOSTED

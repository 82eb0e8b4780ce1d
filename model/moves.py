"""Move log and the state changes every move shares (vacating, moving in, leaving)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
        k = np.full(n, KIND[kind]) if isinstance(kind, str) else np.asarray(kind)
        self._chunks.append(np.stack([np.asarray(hh), np.full(n, month), from_dw, from_nb, to_dw,
                                      to_nb, k]).astype(np.int64))

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
    d = hh.dwelling[hh_idx]
    d = d[d >= 0]
    dw.occupant[d] = -1
    dw.months_vacant[d] = 0
    demolish = d[dw.to_demolish[d]]
    dw.active[demolish] = False
    if len(demolish):
        state.counters["demolished"] = state.counters.get("demolished", 0) + len(demolish)
    hh.dwelling[hh_idx] = -1


def move_into(state: State, hh_idx: np.ndarray, dw_idx: np.ndarray, tenure: np.ndarray | int,
              ) -> None:
    """Households move into vacant dwellings (after :func:`vacate` of their old home)."""
    hh, dw = state.hh, state.dw
    vacate(state, hh_idx)
    hh.dwelling[hh_idx] = dw_idx
    hh.nbhd[hh_idx] = dw.nbhd[dw_idx]
    hh.tenure[hh_idx] = tenure
    hh.move_in[hh_idx] = state.month
    hh.seek[hh_idx] = SEEK_NONE
    dw.occupant[dw_idx] = hh_idx
    dw.months_vacant[dw_idx] = 0
    dw.new[dw_idx] = False
    soc = dw.sector[dw_idx] == S_SOCIAL
    hh.months_over[hh_idx[soc]] = 0
    hh.months_over_loss[hh_idx[soc]] = 0


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

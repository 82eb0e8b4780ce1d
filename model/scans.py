"""Scans of the household table by groups, a machine word (eight rows) at a time.

A *group* is the living households of a tenure (``of_tenure`` a tenure code, :data:`ANY` for any
tenure, :data:`NOT_HOSTED` for any but hosted), whose column ``x`` (their application or their
search) is zero (``x_mode`` = :data:`ZERO`), not zero (:data:`NONZERO`) or either (:data:`ANY`),
and, if ``settled``, not relocated by urban renewal. The one-byte columns (bool, int8) are read
eight rows at a time as one uint64 (:func:`words`): a row's membership is bit 0 of its byte
(:func:`word_flags`); the rows after the last whole word are tested one by one
(:func:`row_flag`). Members are always listed in row order, and :func:`group_ranks` finds the
members of given ranks without listing the group (the move intentions draw ranks, then rows).

The results are those of plain loops over the rows (tests check them against such loops on
random tables). The arguments ``alive, tenure, x, relocation`` are the household columns
``alive``, ``tenure``, the application or search column, ``relocation``.
"""

from __future__ import annotations

import numpy as np

from .codes import APP_NONE, HOSTED, OWNER, PRIVATE, SEEK_NONE, SOCIAL
from .jit import njit

# group selectors: any tenure (or either value of x), any tenure but hosted; x zero, not zero
ANY, NOT_HOSTED = -1, -2
ZERO, NONZERO = 0, 1
# word-at-a-time scanning: eight one-byte columns (bool, int8) are read as one uint64
_LO = np.uint64(0x0101010101010101)
_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_PAIRS = np.uint64(0x0303030303030303)
_ONE = np.uint64(1)


@njit
def nonzero_bytes(x):
    """Set bit 0 of each byte of the uint64 ``x`` where that byte is not zero (others 0)."""
    x = (x & _NIBBLES) | ((x >> np.uint64(4)) & _NIBBLES)
    x = (x & _PAIRS) | ((x >> np.uint64(2)) & _PAIRS)
    return (x | (x >> _ONE)) & _LO


@njit
def words(col, nw):
    """View the first ``nw`` × 8 entries of a one-byte column as ``nw`` uint64 words."""
    return col[: nw * 8].view(np.uint64)


@njit
def word_flags(alive, tenure, x, relocation, of_tenure, x_mode, settled):
    """Group membership (bit 0 of each byte) of eight rows (see the module docstring).

    ``alive``, ``tenure``, ``x``, ``relocation``: eight rows of the columns as one word each
    (:func:`words`).
    """
    f = alive
    if of_tenure >= 0:
        f &= nonzero_bytes(tenure ^ (np.uint64(of_tenure) * _LO)) ^ _LO
    elif of_tenure == NOT_HOSTED:
        f &= nonzero_bytes(tenure ^ (np.uint64(HOSTED) * _LO))
    if x_mode == ZERO:
        f &= nonzero_bytes(x) ^ _LO
    elif x_mode == NONZERO:
        f &= nonzero_bytes(x)
    if settled:
        f &= relocation ^ _LO
    return f


@njit
def row_flag(i, alive, tenure, x, relocation, of_tenure, x_mode, settled):
    """Whether row ``i`` is in the group (see the module docstring)."""
    if not alive[i]:
        return False
    if (of_tenure >= 0 and tenure[i] != of_tenure) or (of_tenure == NOT_HOSTED
                                                       and tenure[i] == HOSTED):
        return False
    if (x_mode == ZERO and x[i] != 0) or (x_mode == NONZERO and x[i] == 0):
        return False
    return not (settled and relocation[i])


@njit
def popcount(f):
    """Count the bytes of ``f`` with bit 0 set (the other bits being 0)."""
    return np.int64((f * _LO) >> np.uint64(56))


@njit
def group_count(alive, tenure, x, relocation, of_tenure, x_mode, settled):
    """Size of a group of households (see the module docstring)."""
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = words(alive, nw), words(tenure, nw), words(x, nw), words(relocation, nw)
    c = 0
    for w in range(nw):
        c += popcount(word_flags(aw[w], tw[w], xw[w], rw[w], of_tenure, x_mode, settled))
    for i in range(nw * 8, n):
        c += row_flag(i, alive, tenure, x, relocation, of_tenure, x_mode, settled)
    return c


@njit
def group_ranks(alive, tenure, x, relocation, of_tenure, x_mode, settled, ranks):
    """Members of a group (see the module docstring) of the given distinct ranks, in row order."""
    ranks = np.sort(ranks)
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = words(alive, nw), words(tenure, nw), words(x, nw), words(relocation, nw)
    k = len(ranks)
    out = np.empty(k, np.int64)
    j = 0
    cum = 0
    for w in range(nw):
        if j == k:
            break
        f = word_flags(aw[w], tw[w], xw[w], rw[w], of_tenure, x_mode, settled)
        c = popcount(f)
        while j < k and ranks[j] < cum + c:
            r = ranks[j] - cum
            for b in range(8):
                if (f >> np.uint64(8 * b)) & _ONE:
                    if r == 0:
                        out[j] = w * 8 + b
                        break
                    r -= 1
            j += 1
        cum += c
    for i in range(nw * 8, n):
        if j < k and row_flag(i, alive, tenure, x, relocation, of_tenure, x_mode, settled):
            if ranks[j] == cum:
                out[j] = i
                j += 1
            cum += 1
    return out


@njit
def group_members(alive, tenure, x, relocation, of_tenure, x_mode, settled):
    """Members of a group (see the module docstring) in row order."""
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = words(alive, nw), words(tenure, nw), words(x, nw), words(relocation, nw)
    size = group_count(alive, tenure, x, relocation, of_tenure, x_mode, settled)
    out = np.empty(size + 8, np.int64)
    m = 0
    for w in range(nw):
        f = word_flags(aw[w], tw[w], xw[w], rw[w], of_tenure, x_mode, settled)
        if f == 0:
            continue
        for b in range(8):  # no branch: written at m, kept by moving m past it
            out[m] = w * 8 + b
            m += np.int64((f >> np.uint64(8 * b)) & _ONE)
    for i in range(nw * 8, n):
        out[m] = i
        m += row_flag(i, alive, tenure, x, relocation, of_tenure, x_mode, settled)
    return out[:m]


@njit
def intention_group_sizes(alive, tenure, app, seek, relocation):
    """Sizes of the groups drawn from after the social tenants' draws (one pass).

    Social, private and owner households not relocated, private tenants not looking, private
    tenants without an application, owners not looking.
    """
    n = len(alive)
    nw = n >> 3
    aw, tw = words(alive, nw), words(tenure, nw)
    apw, sw, rw = words(app, nw), words(seek, nw), words(relocation, nw)
    c0 = c1 = c2 = c3 = c4 = c5 = 0
    for w in range(nw):
        a = aw[w]
        t = tw[w]
        soc = a & (nonzero_bytes(t ^ (np.uint64(SOCIAL) * _LO)) ^ _LO)
        priv = a & (nonzero_bytes(t ^ (np.uint64(PRIVATE) * _LO)) ^ _LO)
        own = a & (nonzero_bytes(t ^ (np.uint64(OWNER) * _LO)) ^ _LO)
        stay = rw[w] ^ _LO
        idle = nonzero_bytes(sw[w]) ^ _LO
        c0 += popcount(soc & stay)
        c1 += popcount(priv & stay)
        c2 += popcount(own & stay)
        c3 += popcount(priv & idle)
        c4 += popcount(priv & (nonzero_bytes(apw[w]) ^ _LO))
        c5 += popcount(own & idle)
    for i in range(nw * 8, n):
        if alive[i]:
            ti = tenure[i]
            settled = not relocation[i]
            c0 += ti == SOCIAL and settled
            c1 += ti == PRIVATE and settled
            c2 += ti == OWNER and settled
            c3 += ti == PRIVATE and seek[i] == SEEK_NONE
            c4 += ti == PRIVATE and app[i] == APP_NONE
            c5 += ti == OWNER and seek[i] == SEEK_NONE
    return c0, c1, c2, c3, c4, c5


@njit
def social_groups(alive, tenure, app, seek):
    """Social tenants without an application and social tenants not looking (one scan each).

    A scan counts both, the other lists both.
    """
    n = len(alive)
    nw = n >> 3
    aw, tw, apw, sw = words(alive, nw), words(tenure, nw), words(app, nw), words(seek, nw)
    n_tr = n_idle = 0
    for w in range(nw):
        soc = aw[w] & (nonzero_bytes(tw[w] ^ (np.uint64(SOCIAL) * _LO)) ^ _LO)
        n_tr += popcount(soc & (nonzero_bytes(apw[w]) ^ _LO))
        n_idle += popcount(soc & (nonzero_bytes(sw[w]) ^ _LO))
    for i in range(nw * 8, n):
        n_tr += alive[i] and tenure[i] == SOCIAL and app[i] == APP_NONE
        n_idle += alive[i] and tenure[i] == SOCIAL and seek[i] == SEEK_NONE
    tr = np.empty(n_tr + 8, np.int64)
    idle = np.empty(n_idle + 8, np.int64)
    m_tr = m_idle = 0
    for w in range(nw):
        soc = aw[w] & (nonzero_bytes(tw[w] ^ (np.uint64(SOCIAL) * _LO)) ^ _LO)
        if soc == 0:
            continue
        f_tr = soc & (nonzero_bytes(apw[w]) ^ _LO)
        f_idle = soc & (nonzero_bytes(sw[w]) ^ _LO)
        for b in range(8):  # no branch: written at m, kept by moving m past it
            tr[m_tr] = w * 8 + b
            m_tr += np.int64((f_tr >> np.uint64(8 * b)) & _ONE)
            idle[m_idle] = w * 8 + b
            m_idle += np.int64((f_idle >> np.uint64(8 * b)) & _ONE)
    for i in range(nw * 8, n):
        soc = alive[i] and tenure[i] == SOCIAL
        tr[m_tr] = i
        m_tr += soc and app[i] == APP_NONE
        idle[m_idle] = i
        m_idle += soc and seek[i] == SEEK_NONE
    return tr[:m_tr], idle[:m_idle]


@njit
def take_ranks(f, w, ranks, j, cum, out, m):
    """Append to ``out`` (from ``m``) the members of word ``w`` (flags ``f``) drawn by rank.

    ``ranks`` ascending, ``j`` the next one to find, ``cum`` the group members before the word;
    returns the updated ``j``, ``cum`` and ``m``.
    """
    c = popcount(f)
    while j < len(ranks) and ranks[j] < cum + c:
        q = ranks[j] - cum
        for b in range(8):
            if (f >> np.uint64(8 * b)) & _ONE:
                if q == 0:
                    out[m] = w * 8 + b
                    m += 1
                    break
                q -= 1
        j += 1
    return j, cum + c, m


@njit
def departure_members(alive, tenure, app, relocation, r_soc, r_own, r_priv, r_free, r_applying,
                      gone):
    """Households leaving the territory, ascending: ``gone`` and the members drawn by rank.

    Groups (living, not relocated): social tenants, owners, private tenants, hosted households
    without and with an application; ``r_*`` the drawn ranks in each (in any order).
    """
    r0, r1, r2 = np.sort(r_soc), np.sort(r_own), np.sort(r_priv)
    r3, r4 = np.sort(r_free), np.sort(r_applying)
    drawn = len(r0) + len(r1) + len(r2) + len(r3) + len(r4)
    out = np.empty(len(gone) + drawn, np.int64)
    out[: len(gone)] = gone
    m = len(gone)
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = words(alive, nw), words(tenure, nw), words(app, nw), words(relocation, nw)
    j0 = j1 = j2 = j3 = j4 = 0
    c0 = c1 = c2 = c3 = c4 = 0
    for w in range(nw):
        if m == len(out):
            break
        here = aw[w] & (rw[w] ^ _LO)
        t = tw[w]
        hosted = here & (nonzero_bytes(t ^ (np.uint64(HOSTED) * _LO)) ^ _LO)
        applying = nonzero_bytes(xw[w])
        j0, c0, m = take_ranks(here & (nonzero_bytes(t ^ (np.uint64(SOCIAL) * _LO)) ^ _LO), w, r0,
                          j0, c0, out, m)
        j1, c1, m = take_ranks(here & (nonzero_bytes(t ^ (np.uint64(OWNER) * _LO)) ^ _LO), w, r1,
                          j1, c1, out, m)
        j2, c2, m = take_ranks(here & (nonzero_bytes(t ^ (np.uint64(PRIVATE) * _LO)) ^ _LO), w, r2,
                          j2, c2, out, m)
        j3, c3, m = take_ranks(hosted & (applying ^ _LO), w, r3, j3, c3, out, m)
        j4, c4, m = take_ranks(hosted & applying, w, r4, j4, c4, out, m)
    for i in range(nw * 8, n):
        if not alive[i] or relocation[i]:
            continue
        ti = tenure[i]
        if ti == SOCIAL:
            if j0 < len(r0) and r0[j0] == c0:
                out[m] = i
                m += 1
                j0 += 1
            c0 += 1
        elif ti == OWNER:
            if j1 < len(r1) and r1[j1] == c1:
                out[m] = i
                m += 1
                j1 += 1
            c1 += 1
        elif ti == PRIVATE:
            if j2 < len(r2) and r2[j2] == c2:
                out[m] = i
                m += 1
                j2 += 1
            c2 += 1
        elif ti == HOSTED and app[i] == APP_NONE:
            if j3 < len(r3) and r3[j3] == c3:
                out[m] = i
                m += 1
                j3 += 1
            c3 += 1
        elif ti == HOSTED:
            if j4 < len(r4) and r4[j4] == c4:
                out[m] = i
                m += 1
                j4 += 1
            c4 += 1
    # np.union1d: sorted, each once (a cancelled hosted household may also be drawn)
    out.sort()
    keep = np.empty(len(out), np.int64)
    m = 0
    for k in range(len(out)):
        if k == 0 or out[k] != out[k - 1]:
            keep[m] = out[k]
            m += 1
    return keep[:m].copy()


@njit
def tenure_members(alive, tenure, of_tenure):
    """Living households of tenure code ``of_tenure``, in row order."""
    n = len(alive)
    nw = n >> 3
    aw, tw = words(alive, nw), words(tenure, nw)
    code = np.uint64(of_tenure) * _LO
    c = 0
    for w in range(nw):
        c += popcount(aw[w] & (nonzero_bytes(tw[w] ^ code) ^ _LO))
    for i in range(nw * 8, n):
        c += alive[i] and tenure[i] == of_tenure
    out = np.empty(c + 8, np.int64)
    m = 0
    for w in range(nw):
        f = aw[w] & (nonzero_bytes(tw[w] ^ code) ^ _LO)
        if f == 0:
            continue
        for b in range(8):  # no branch: written at m, kept by moving m past it
            out[m] = w * 8 + b
            m += np.int64((f >> np.uint64(8 * b)) & _ONE)
    for i in range(nw * 8, n):
        out[m] = i
        m += alive[i] and tenure[i] == of_tenure
    return out[:m]

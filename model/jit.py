"""Compiled kernels: :func:`njit` is numba's ``njit`` with the settings every kernel shares.

A month of the model is a few thousand array operations on columns of 10⁴–10⁵ rows. At the
scales of ensembles and sensitivity analyses (0.1 and below) their cost is mostly numpy's fixed
cost per call, not the arrays; kernels fuse such sequences into one compiled loop.

Rules for kernels (they keep runs identical to the numpy code they replace):

* every random draw stays in numpy, in the caller, in the same order and with the same sizes;
  kernels only compute between draws;
* the arithmetic follows the numpy expression it replaces, including its types (numpy keeps a
  float32 column times a Python float in float32; numba would widen it to float64);
* ``error_model="numpy"``: a division by zero gives inf or nan as in numpy instead of raising.

Compiled code is cached on disk (``cache=True``, next to the sources or in numba's cache
directory), so a process pays the compilation once per machine, then about 0.1 s to load.
``NUMBA_DISABLE_JIT=1`` runs the kernels as plain Python (for debugging; much slower).
"""

from __future__ import annotations

from collections.abc import Callable

import numba


def njit(fn: Callable) -> Callable:
    """Compile ``fn`` with numba (no Python objects, cached, numpy's error model)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)

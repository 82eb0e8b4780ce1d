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

Compiled code is cached on disk (``cache=True``) in a per-user folder, never inside the
installed package: ``$MIXSIM_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/mixsim/numba`` (by
default ``~/.cache/mixsim/numba``); a ``NUMBA_CACHE_DIR`` set by the user is honoured as numba
documents. The folder is created private to the user (mode 0700). A process pays the
compilation once per machine (about a minute), then about 1 s to load the kernels.
``NUMBA_DISABLE_JIT=1`` runs the kernels as plain Python (for debugging; much slower).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numba


def cache_dir() -> Path:
    """Return the folder holding the compiled kernels of this user (see the module docstring)."""
    if os.environ.get("MIXSIM_CACHE_DIR"):
        return Path(os.environ["MIXSIM_CACHE_DIR"]).expanduser()
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "mixsim" / "numba"


def _set_cache_dir() -> Path:
    """Point numba's cache at :func:`cache_dir` (or a private temporary folder if unwritable)."""
    uid = getattr(os, "getuid", lambda: 0)()
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"mixsim-numba-{uid}"):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()
        except OSError:
            continue
        numba.config.CACHE_DIR = str(folder)
        return folder
    return Path(numba.config.CACHE_DIR or ".")


#: Where this process reads and writes compiled kernels.
CACHE_DIR = _set_cache_dir()


def kernels_cached() -> bool:
    """Whether this installation's kernels are compiled in the cache for this Python version.

    Every source file of the package that defines kernels (``@njit``) must have numba's index
    files in the cache, newer than the source: an edited or upgraded module recompiles.
    """
    from numba.core.caching import _CacheLocator

    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    root = Path(__file__).parent
    for source in root.rglob("*.py"):
        if source.name == "jit.py" or "@njit" not in source.read_text(encoding="utf-8"):
            continue
        folder = CACHE_DIR / _CacheLocator.get_suitable_cache_subpath(str(source))
        index = list(folder.glob(f"{source.stem}.*.{tag}*.nbi")) if folder.is_dir() else []
        if not index or max(f.stat().st_mtime for f in index) < source.stat().st_mtime:
            return False
    return True


def njit(fn: Callable) -> Callable:
    """Compile ``fn`` with numba (no Python objects, cached, numpy's error model)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)

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
documents. The folder is created private to the user (mode 0700). numba's own index checks
each kernel's file but not the files of the kernels it calls, so an edited callee would leave
its callers' cached copies stale: the kernels therefore live in a sub-folder named after the
fingerprint of all the package's sources (``k<stamp>``), and any change compiles afresh (the
three most recent sub-folders are kept). A process pays the compilation once per machine and
version (about a minute), then about 1 s to load the kernels.
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
    """Point numba's cache at :func:`cache_dir` (or a private temporary folder if unwritable).

    Returns the folder; numba writes in its sub-folder ``k<stamp>`` (see the module).
    """
    uid = getattr(os, "getuid", lambda: 0)()
    stamp = _kernel_stamp()
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"mixsim-numba-{uid}"):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            kernels = folder / f"k{stamp}"
            kernels.mkdir(mode=0o700, exist_ok=True)
            tempfile.TemporaryFile(dir=kernels).close()
        except OSError:
            continue
        numba.config.CACHE_DIR = str(kernels)
        _prune(folder, keep=kernels)
        return folder
    return Path(numba.config.CACHE_DIR or ".")


def _prune(folder: Path, keep: Path, kept: int = 3) -> None:
    """Delete all but the ``kept`` most recent kernel sub-folders (never ``keep``)."""
    import shutil

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return -1.0
    subs = sorted((p for p in folder.glob("k*") if p.is_dir() and p != keep), key=mtime)
    for old in subs[:max(0, len(subs) - (kept - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def _kernel_stamp() -> str:
    """Fingerprint of the package's sources, Python and numba (what compiled code depends on)."""
    import hashlib

    h = hashlib.sha256(f"{sys.version}|{numba.__version__}".encode())
    for source in sorted(Path(__file__).parent.rglob("*.py")):
        st = source.stat()
        h.update(f"{source}|{st.st_mtime_ns}|{st.st_size}".encode())
    return h.hexdigest()[:16]


#: Where this process reads and writes compiled kernels (the user's folder) and their sub-folder
#: for the current sources.
CACHE_DIR = _set_cache_dir()
KERNEL_DIR = Path(numba.config.CACHE_DIR)


def kernels_cached() -> bool:
    """Whether this installation's kernels were compiled into the cache since its last change.

    :func:`mark_compiled` (called once the kernels have run, by
    :func:`mixsim.model.api.warm_up`) leaves a marker named after the package's sources, Python
    and numba: an edited or upgraded installation compiles again, with its notice.
    """
    return (KERNEL_DIR / "compiled").exists()


def mark_compiled() -> None:
    """Record that the kernels of this installation are in the cache (:func:`kernels_cached`)."""
    try:
        (KERNEL_DIR / "compiled").touch()
    except OSError:  # a read-only cache: the notice shows again next time, nothing else
        pass


def njit(fn: Callable) -> Callable:
    """Compile ``fn`` with numba (no Python objects, cached, numpy's error model)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)

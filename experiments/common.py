"""Helpers shared by the commands and the libraries behind them (no command-line parsing).

Argument types (:func:`positive_float`, :func:`positive_int`, :func:`seed_int`), provenance
(:func:`versions`), atomic file writes (:func:`write_atomic`, :func:`file_mode`), the progress bar
on stderr (:func:`progress_bar`), the one-time kernel compilation notice
(:func:`compile_kernels_once`) and the output-folder check (:func:`check_out_dir`, from
:mod:`mixsim.experiments.outdir`). Library modules import these from here, never from
:mod:`mixsim.experiments.cli` (tests/test_imports.py checks it).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mixsim.experiments.outdir import check_out_dir

__all__ = ["check_out_dir", "compile_kernels_once", "file_mode", "positive_float", "positive_int",
           "progress_bar", "seed_int", "versions", "write_atomic"]


def positive_float(text: str) -> float:
    """Argument type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def positive_int(text: str) -> int:
    """Argument type: a whole number ≥ 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return v


def seed_int(text: str) -> int:
    """Argument type: a seed, a whole number ≥ 0."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text!r}")
    return v


def versions() -> dict[str, str]:
    """Versions of mixsim, Python and the core libraries (provenance)."""
    import mesa
    import numpy
    import pandas

    from mixsim.model import __version__
    return {"mixsim": __version__, "python": platform.python_version(),
            "mesa": mesa.__version__, "numpy": numpy.__version__, "pandas": pandas.__version__}


def file_mode() -> int:
    """Return the mode a new file gets under the user's umask (0644 under the usual 022).

    ``tempfile.mkstemp`` creates files 0600 whatever the umask; files renamed into place from it
    get this mode instead, so that colleagues on a shared server can read a report.
    """
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, writer: Callable[[Path], None]) -> None:
    """Write a file through a temporary name in the same folder, then rename it into place.

    The file gets the user's usual mode (:func:`file_mode`), not ``mkstemp``'s 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def compile_kernels_once(command: str) -> None:
    """On a machine where the model's kernels are not compiled yet, compile them with a notice.

    Without it the first month of the first run takes the whole compilation (about a minute)
    and the progress bar shows a misleading estimate. Later runs load the cache in about 1 s.
    """
    import time

    from mixsim.model import jit
    if jit.kernels_cached():
        return
    print(f"mixsim {command}: compiling the model's kernels once for this machine (about a "
          f"minute; cached in {jit.CACHE_DIR})...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    from mixsim.model.api import warm_up
    warm_up()
    print(f"mixsim {command}: kernels compiled in {time.perf_counter() - start:.0f} s",
          file=sys.stderr, flush=True)


def progress_bar(total: int, desc: str, unit: str = "month"):
    """Return a tqdm progress bar on stderr (silent when ``MIXSIM_NO_PROGRESS`` is set)."""
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=bool(os.environ.get("MIXSIM_NO_PROGRESS")), dynamic_ncols=True)

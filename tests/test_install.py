"""Installation hygiene: one `mixsim` namespace, the kernel cache outside the package, the umask."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mixsim.model
from mixsim.experiments.cli import compile_kernels_once, file_mode, write_atomic
from mixsim.model import jit

PACKAGE_ROOT = Path(mixsim.model.__file__).resolve().parent.parent  # .../mixsim (or the repo)


def test_kernel_cache_is_outside_the_package():
    cache = jit.CACHE_DIR.resolve()
    for pkg in ("model", "experiments", "calibration"):
        folder = Path(__import__(f"mixsim.{pkg}", fromlist=["x"]).__file__).resolve().parent
        assert folder not in cache.parents and cache != folder
    # the session's warm-up (conftest) compiled the kernels: they are in the user cache
    assert jit.kernels_cached()


def test_a_run_leaves_no_file_under_the_package(tmp_path):
    from mixsim.model import Scenario, run_scenario
    model_dir = Path(mixsim.model.__file__).resolve().parent
    start = time.time() - 1
    run_scenario(Scenario(years=1), scale=0.02, seed=3, keep_moves=False)
    written = [p for p in model_dir.rglob("*") if p.is_file() and p.stat().st_mtime >= start]
    assert written == []
    stale = [p for p in model_dir.rglob("*.nb[ic]")]
    assert stale == [], f"numba cache files under the package: {stale[:3]}"


@pytest.mark.slow
def test_cache_dir_follows_the_environment(tmp_path):
    code = ("from mixsim.model import jit; print(jit.CACHE_DIR); "
            "import numba; print(numba.config.CACHE_DIR)")
    env = {**os.environ, "MIXSIM_CACHE_DIR": str(tmp_path / "kc")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True).stdout.split()
    assert out[0] == str(tmp_path / "kc")
    # numba writes in the sub-folder of the current sources (stale callers never reused)
    assert Path(out[1]).parent == tmp_path / "kc" and Path(out[1]).name.startswith("k")
    assert (tmp_path / "kc").stat().st_mode & 0o777 == 0o700  # private to the user


def test_compile_notice_only_when_not_cached(capsys, monkeypatch):
    compile_kernels_once("run")  # compiled at session start: silent
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(jit, "kernels_cached", lambda: False)
    compile_kernels_once("run")
    err = capsys.readouterr().err
    assert "compiling the model's kernels once" in err and "kernels compiled in" in err


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_atomic_writes_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert file_mode() == mode
        write_atomic(tmp_path / "a.txt", lambda p: p.write_text("x"))
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == mode


@pytest.mark.slow
def test_no_generic_top_level_packages_and_user_folders_do_not_shadow(tmp_path):
    # a user's working folder with its own model/ and experiments/ packages
    for name in ("model", "experiments", "calibration"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('user folder used')\n")
    code = ("import importlib.util, mixsim.model, mixsim.experiments.cli, mixsim.calibration; "
            "print(mixsim.model.__version__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == mixsim.model.__version__
    # outside any repository, no top-level `model`, `experiments` or `calibration` is installed
    empty = tmp_path / "empty"
    empty.mkdir()
    code = ("import importlib.util, sys; "
            "print([n for n in ('model', 'experiments', 'calibration') "
            "if importlib.util.find_spec(n) is not None])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=empty,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_version_in_one_place():
    from importlib.metadata import version
    assert version("mixsim") == mixsim.model.__version__
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in text and "mixsim.model.__version__" in text


def test_every_package_folder_is_installed():
    """A non-editable install (the README's first command) ships only the packages pyproject
    lists: a sub-package left out imports in the editable install the tests use, and fails for
    every user (it happened to ``mixsim.experiments.commands``)."""
    import tomllib
    root = Path(__file__).parent.parent
    conf = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    folders = {name: root / path for name, path in conf["package-dir"].items()}
    found = set()
    for name, folder in folders.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert found - listed == set(), f"packages missing from pyproject.toml: {found - listed}"
    assert listed - found == set(), f"listed packages without a folder: {listed - found}"

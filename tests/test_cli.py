"""The `mixsim run` and `mixsim levers` commands."""

import subprocess
import sys

import pandas as pd
import pytest

from mixsim.experiments.cli import main


@pytest.mark.slow
def test_run_writes_tables_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["run", "experiments/scenarios/baseline.toml", "--scale", "0.03", "--years", "2",
               "--seed", "4", "--out", str(out), "--csv"])
    assert rc == 0
    for name in ("indicators", "moves", "neighbourhoods", "cohort", "yearly"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
    ind = pd.read_parquet(out / "indicators.parquet")
    assert list(ind.columns) == ["run_id", "year", "month", "scale", "unit", "register",
                                 "indicator", "value"]
    assert set(ind.year) == {0, 1, 2}
    text = capsys.readouterr().out
    assert "Q1 share of leases outside QPV" in text and "(year 2)" in text
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.slow
def test_run_same_seed_same_tables(tmp_path):
    for k in ("a", "b"):
        assert main(["run", "--scale", "0.03", "--years", "1", "--seed", "9",
                     "--out", str(tmp_path / k)]) == 0
    a = pd.read_parquet(tmp_path / "a" / "indicators.parquet")
    b = pd.read_parquet(tmp_path / "b" / "indicators.parquet")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("content, words", [
    ('[levers.quota_q1]\nshare = 2\n', "levers.quota_q1.share: got 2"),
    ('[territory]\nsource = "no/such/folder"\n', "territory folder not found"),
    ('[levers.bogus]\nx = 1\n', "unknown key 'bogus'"),
])
def test_bad_scenario_exit_2_and_nothing_written(tmp_path, capsys, content, words):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    out = tmp_path / "out"
    assert main(["run", str(f), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_out_pointing_at_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["run", "--out", str(f), "--scale", "0.03", "--years", "1"]) == 2
    assert "not a folder" in capsys.readouterr().err


@pytest.mark.slow
def test_bad_arguments_exit_2():
    r = subprocess.run([sys.executable, "-m", "mixsim.experiments.cli", "run", "--scale", "-1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "expected a positive number" in r.stderr


def test_levers_catalogue(capsys):
    assert main(["levers"]) == 0
    text = capsys.readouterr().out
    for name in ("levers.quota_q1.share", "levers.reservation.management",
                 "levers.rent.modulation", "levers.sales.share_per_year"):
        assert name in text


def test_main_leaves_sigpipe_alone_and_a_closed_stdout_ends_quietly(capsys):
    """A process that calls main() (a test session, a notebook) keeps Python's SIGPIPE handling:
    with the default action, its next write to the pipe of a worker that had just ended killed
    it without a word (a CI test session ended that way). The command itself still ends
    quietly when its reader goes away, with the status of a process ended by SIGPIPE."""
    import signal
    before = signal.getsignal(signal.SIGPIPE)
    assert main(["levers"]) == 0
    assert signal.getsignal(signal.SIGPIPE) == before
    capsys.readouterr()
    # `mixsim levers | head -1` once head has left: a pipe whose reader is already closed
    # (with a real `head` the outcome would depend on who is faster)
    import os
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([sys.executable, "-m", "mixsim.experiments.cli", "levers"],
                              stdout=w, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 141
    # a command writing to a file or a terminal is not taken for that case
    assert main(["levers"]) == 0


def test_every_help_text_renders_its_percent_signs():
    """argparse %-formats help strings but prints descriptions as written: a ``%%`` written in
    a description (or a lone ``%`` in a help string) shows up wrong in ``mixsim CMD --help``."""
    import argparse

    from mixsim.experiments.cli import build_parser
    parser = build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert subs, "mixsim has sub-commands"
    commands = subs[0].choices
    assert {"run", "validate", "calibrate"} <= set(commands)
    for name, sub in commands.items():
        text = sub.format_help()  # raises on a lone % in a help string
        assert "%%" not in text, f"mixsim {name} --help prints a literal %%"

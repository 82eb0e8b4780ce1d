"""Tests of the experiment runner (issue 5): files, seeds, parallel backends, resume, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixsim.experiments import load_experiment, run_experiment, summarise
from mixsim.experiments.cli import main
from mixsim.experiments.runner import RunTask, execute_run, write_run_files
from mixsim.experiments.spec import UNCERTAINTY_KEY, experiment_from_dict
from mixsim.model import InputError, run_scenario

# 2 scenarios × 4 replicates of 2 years on a 3 % default territory: about 0.3 s a run
TINY = """\
name = "tiny"
years = 2
replicates = 4
seed = 7
reference = "ref"

[territory]
scale = 0.03

[[scenarios]]
name = "ref"

[[scenarios]]
name = "strict"
levers.quota_q1.enforcement = "strict"
levers.quota_qpv.enforcement = "strict"

[uncertainties]
"behaviour.upward_exit_rate" = [0.03, 0.04]

[outputs]
years = [1, 2]
"""
KEY = ["run_id", "year", "month", "scale", "unit", "indicator"]


def sorted_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def reference(tiny_file, tmp_path_factory):
    """The tiny experiment run once, uninterrupted, in this process."""
    out = tmp_path_factory.mktemp("ref")
    res = run_experiment(tiny_file, out, jobs=1, progress=False)
    assert res.ok and res.n_ran == 8
    return res


# ------------------------------------------------------------------------------------------------
# The experiment file
# ------------------------------------------------------------------------------------------------


def test_grid_and_list_expand_to_named_scenarios():
    exp = experiment_from_dict({
        "replicates": 2,
        "scenarios": [{"name": "today"}],
        "grid": {"levers": {"quota_q1": {"enforcement": ["none", "strict"]}},
                 "levers.reservation.management": ["stock", "flux"]},
    })
    assert exp.scenario_names == ("today", "enforcement=none,management=stock",
                                  "enforcement=none,management=flux",
                                  "enforcement=strict,management=stock",
                                  "enforcement=strict,management=flux")
    assert exp.reference == "today"  # the first scenario by default
    last = exp.scenarios[-1].scenario.levers
    assert (last.quota_q1.enforcement, last.reservation.management) == ("strict", "flux")
    assert len(exp.runs()) == 10


def test_replicates_share_seeds_and_uncertainty_draws_across_scenarios(tiny_file):
    exp = load_experiment(tiny_file)
    plans = exp.runs()
    by = {(p.scenario_name, p.replicate): p for p in plans}
    for r in range(exp.replicates):
        a, b = by["ref", r], by["strict", r]
        assert (a.seed_entropy, a.spawn_key) == (b.seed_entropy, b.spawn_key) == (7, (r,))
        assert a.uncertain == b.uncertain
        assert a.scenario.behaviour.upward_exit_rate == a.uncertain["behaviour.upward_exit_rate"]
    draws = sorted(by["ref", r].uncertain["behaviour.upward_exit_rate"] for r in range(4))
    # a Latin hypercube: one draw in each quarter of [0.03, 0.04]
    assert [int((d - 0.03) / 0.0025) for d in draws] == [0, 1, 2, 3]
    assert np.random.SeedSequence(7, spawn_key=(UNCERTAINTY_KEY,)).spawn_key != (0,)


def test_resolved_experiment_reads_back_to_the_same_runs(tiny_file, tmp_path):
    exp = load_experiment(tiny_file).with_settings(replicates=2, years=1)
    assert exp.summary_years == (1,)  # year 2 dropped with the shorter horizon
    path = tmp_path / "resolved.toml"
    path.write_text(exp.to_toml())
    again = load_experiment(path)
    assert again.fingerprint() == exp.fingerprint()
    assert [p.config_hash for p in again.runs()] == [p.config_hash for p in exp.runs()]


BAD_FILES = [
    ('[[scenarios]]\nname = "a"\nlevers.quota_q1.sahre = 0.3\n',
     ["scenarios[0] (a).levers.quota_q1.sahre", "did you mean 'share'"]),
    ('[[scenarios]]\nname = "a"\n[grid]\n', ["grid", "empty grid"]),
    ('[grid]\n"levers.quota_q1.share" = []\n', ["grid.levers.quota_q1.share", "empty list"]),
    ('replicates = 0\n[[scenarios]]\nname = "a"\n', ["replicates", "≥ 1"]),
    ('replicate = 3\n[[scenarios]]\nname = "a"\n', ["did you mean 'replicates'"]),
    ('reference = "b"\n[[scenarios]]\nname = "a"\n', ["reference", "unknown scenario 'b'"]),
    ('[grid]\n"quota_q1.share" = [0.3]\n', ["grid.quota_q1.share", "levers."]),
    ('[[scenarios]]\nname = "a"\n[uncertainties]\n"behaviour.leave_rate" = [0.1, 0.9]\n',
     ["uncertainties.behaviour.leave_rate", "allowed"]),
    ('[[scenarios]]\nname = "a"\n[outputs]\nindicators = ["q1_share_in_qpvv"]\n',
     ["outputs.indicators", "did you mean 'q1_share_in_qpv'"]),
    ('[[scenarios]]\nname = "a b"\n', ["scenarios[0].name", "letters, digits"]),
    ("", ["no scenario"]),
]


@pytest.mark.parametrize("text, words", BAD_FILES)
def test_bad_experiment_files_exit_2_with_one_clear_line(tmp_path, capsys, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["experiment", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("mixsim experiment: error: ") and str(path) in err
    for w in words:
        assert w in err, err
    assert not (tmp_path / "out").exists()  # nothing written


def test_out_pointing_at_a_file_exits_2(tiny_file, tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert main(["experiment", str(tiny_file), "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a folder" in err and str(target) in err


def test_api_raises_input_error_naming_the_field():
    with pytest.raises(InputError) as e:
        experiment_from_dict({"scenarios": [{"name": "a", "levers": {"quota_q": {}}}]},
                             source="notebook")
    assert "notebook" in str(e.value) and "did you mean 'quota_q1'" in str(e.value)


# ------------------------------------------------------------------------------------------------
# Outputs, seeds and summary
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_outputs_and_stored_seeds_reproduce_a_run(reference):
    out = reference.out
    for name in ("runs.parquet", "indicators.parquet", "summary.csv", "experiment.toml"):
        assert (out / name).is_file()
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["run_id"]) == [f"{s}-r{r:03d}" for s in ("ref", "strict") for r in range(4)]
    assert set(runs["status"]) == {"ok"} and (runs["wall_time_s"] > 0).all()
    assert {"levers.quota_q1.enforcement", "behaviour.upward_exit_rate",
            "version_mixsim"} <= set(runs.columns)
    row = runs.set_index("run_id").loc["strict-r002"]
    seq = np.random.SeedSequence(int(row["seed_entropy"]), spawn_key=tuple(row["spawn_key"]))
    exp = load_experiment(out / "experiment.toml")
    scenario = exp.scenarios[1].scenario.with_overrides(
        {"behaviour.upward_exit_rate": row["behaviour.upward_exit_rate"]})
    again = run_scenario(scenario, seed=seq, run_id="strict-r002").indicators
    again = again[again["scale"] == "epci"]
    stored = reference.indicators(filters=[("run_id", "==", "strict-r002")])
    np.testing.assert_array_equal(stored["value"].to_numpy(), again["value"].to_numpy())


@pytest.mark.slow
def test_summary_reports_paired_differences(reference):
    s = pd.read_csv(reference.out / "summary.csv")
    assert set(s["year"]) == {1, 2} and set(s["scenario"]) == {"ref", "strict"}
    assert (s.loc[s["scenario"] == "ref", "diff_mean"].fillna(0) == 0).all()
    ind = reference.indicators()
    q = ind[(ind["indicator"] == "q1_share_leases_outside_qpv") & (ind["year"] == 2)]
    wide = q.pivot(index="replicate", columns="scenario", values="value")
    row = s[(s["scenario"] == "strict") & (s["indicator"] == "q1_share_leases_outside_qpv")
            & (s["year"] == 2)].iloc[0]
    d = wide["strict"] - wide["ref"]
    assert row["n_paired"] == 4
    assert row["diff_mean"] == pytest.approx(d.mean())
    assert row["diff_p05"] == pytest.approx(np.percentile(d, 5))
    assert row["mean"] == pytest.approx(wide["strict"].mean())


def test_summarise_by_hand():
    df = pd.DataFrame({
        "scenario": ["a"] * 3 + ["b"] * 3, "replicate": [0, 1, 2] * 2, "scale": "epci",
        "unit": "EPCI", "indicator": "x", "year": 1,
        "value": [1.0, 2.0, 3.0, 2.0, 4.0, np.nan]})
    s = summarise(df, reference="a").set_index("scenario")
    assert s.loc["a", "mean"] == 2.0 and s.loc["a", "p05"] == pytest.approx(1.1)
    assert s.loc["b", "n"] == 2 and s.loc["b", "mean"] == 3.0  # the nan is left out
    assert s.loc["b", "n_paired"] == 2 and s.loc["b", "diff_mean"] == 1.5  # diffs 1 and 2
    half = 6.313751514675043 * np.std([1.0, 2.0], ddof=1) / np.sqrt(2)  # t(0.95, 1)
    assert s.loc["b", "diff_ci90_low"] == pytest.approx(1.5 - half)


# ------------------------------------------------------------------------------------------------
# Parallel backends
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_give_the_same_tables(reference, tiny_file, tmp_path):
    res = run_experiment(tiny_file, tmp_path, jobs=2, progress=False)
    assert res.ok
    pd.testing.assert_frame_equal(sorted_rows(res.indicators()),
                                  sorted_rows(reference.indicators()))
    pd.testing.assert_frame_equal(res.summary, reference.summary)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_tables(reference, tiny_file, tmp_path):
    pytest.importorskip("distributed")
    res = run_experiment(tiny_file, tmp_path, backend="dask", jobs=2, progress=False)
    assert res.ok and res.n_ran == 8
    pd.testing.assert_frame_equal(sorted_rows(res.indicators()),
                                  sorted_rows(reference.indicators()))
    pd.testing.assert_frame_equal(res.summary, reference.summary)


@pytest.mark.slow
def test_dask_scheduler_address_gives_the_same_tables(reference, tiny_file, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        # with a scheduler address the workers send their tables back to this process
        res = run_experiment(tiny_file, tmp_path, scheduler=cluster.scheduler_address,
                             replicates=2, progress=False)
    assert res.ok and res.n_ran == 4
    want = run_experiment(tiny_file, tmp_path / "loky", replicates=2, progress=False)
    pd.testing.assert_frame_equal(sorted_rows(res.indicators()), sorted_rows(want.indicators()))


@pytest.mark.slow
def test_workers_without_the_out_folder_send_their_tables_back(reference, tmp_path):
    """What a remote Dask cluster does (``--scheduler``): the parent writes the run's files."""
    exp = reference.experiment
    plan = exp.runs()[3]
    task = RunTask(plan=plan, fingerprint=exp.fingerprint(), indicators=(), scales=("epci",),
                   moves=False, out_dir=None)
    res = execute_run(task)
    assert res["meta"]["status"] == "ok" and set(res["tables"]) == {"indicators"}
    write_run_files(tmp_path, res["meta"], res["tables"])
    name = f"{plan.run_id}.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / name),
                                  pd.read_parquet(reference.out / "runs" / name))


# ------------------------------------------------------------------------------------------------
# Interruption, resume, failures, changed files
# ------------------------------------------------------------------------------------------------


def _finished(runs_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in runs_dir.glob("*.json")}


@pytest.mark.slow
def test_killed_ensemble_resumes_without_recomputing(reference, tiny_file, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}
    cmd = [sys.executable, "-m", "mixsim.experiments.cli", "experiment", str(tiny_file), "--out",
           str(out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(_finished(out / "runs")) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = _finished(out / "runs")
    assert 2 <= len(before) < 8, "the ensemble should be killed mid-way"
    (out / "runs" / ".strict-r003.parquet.abc.tmp").write_bytes(b"half a file")

    assert main(["experiment", str(tiny_file), "--out", str(out)]) == 0
    after = _finished(out / "runs")
    assert len(after) == 8
    assert {k: after[k] for k in before} == before  # finished runs were not run again
    assert not list((out / "runs").glob(".*.tmp"))
    runs = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(sorted_rows(pd.read_parquet(out / "indicators.parquet")),
                                  sorted_rows(reference.indicators()))
    assert list(runs["run_id"]) == list(reference.runs["run_id"])
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"),
                                  pd.read_csv(reference.out / "summary.csv"))


@pytest.mark.slow
@pytest.mark.parametrize("to_group", [False, True], ids=["parent", "process-group"])
def test_interrupt_keeps_finished_runs_and_says_how_to_resume(tiny_file, tmp_path, to_group):
    """SIGINT to the command (``kill -INT``) or to its process group (a terminal's Ctrl-C).

    32 runs (16 replicates) of about 0.3 s on 2 processes take some 5 s after the first run
    has finished, so the interrupt lands mid-way even on a loaded machine (with 8 runs, all
    sometimes finished first).
    """
    out = tmp_path / "out"
    env = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}
    cmd = [sys.executable, "-m", "mixsim.experiments.cli", "experiment", str(tiny_file), "--out",
           str(out), "--jobs", "2", "--replicates", "16"]
    # a child started in the background may inherit an ignored SIGINT: restore the default
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=to_group,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while len(_finished(out / "runs")) < 1 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.01)
    if to_group:  # the workers get the SIGINT too, as from a terminal
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    finished = len(_finished(out / "runs"))
    assert 1 <= finished < 32, "the ensemble should be interrupted mid-way"
    assert proc.returncode == 130, err.decode()
    assert f"interrupted; {finished} finished runs are kept" in err.decode()
    assert "Traceback" not in err.decode()
    res = run_experiment(tiny_file, out, replicates=16, progress=False)
    assert res.ok and res.n_skipped == finished and res.n_ran == 32 - finished


@pytest.mark.slow
def test_a_crashing_replicate_leaves_the_others_complete(reference, tiny_file, tmp_path,
                                                         monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setenv("MIXSIM_FAIL_RUN", "strict-r001")
    assert main(["experiment", str(tiny_file), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "1 run(s) failed" in err and "strict-r001: RuntimeError" in err
    runs = pd.read_parquet(out / "runs.parquet").set_index("run_id")
    assert runs.loc["strict-r001", "status"] == "failed"
    assert "MIXSIM_FAIL_RUN" in runs.loc["strict-r001", "traceback"]
    assert (runs.drop(index="strict-r001")["status"] == "ok").all()
    got = pd.read_parquet(out / "indicators.parquet")
    want = reference.indicators()
    pd.testing.assert_frame_equal(sorted_rows(got),
                                  sorted_rows(want[want["run_id"] != "strict-r001"]))
    summary = pd.read_csv(out / "summary.csv")
    strict = summary[summary["scenario"] == "strict"]
    # the failed replicate is left out: 3 values (fewer for indicators some runs leave empty,
    # such as the waits of Q4 leases at this scale)
    assert set(strict.loc[strict["indicator"] == "leases", "n"]) == {3}
    assert strict["n"].max() == 3

    monkeypatch.delenv("MIXSIM_FAIL_RUN")
    res = run_experiment(tiny_file, out, progress=False)  # retries the failed run only
    assert res.ok and res.n_ran == 1 and res.n_skipped == 7


def test_changed_file_is_refused_unless_forced(tiny_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["experiment", str(tiny_file), "--out", str(out), "--replicates", "1",
                 "--years", "1"]) == 0
    changed = tmp_path / "changed.toml"
    changed.write_text(TINY.replace('enforcement = "strict"\nlevers.quota_qpv',
                                    'enforcement = "target"\nlevers.quota_qpv'))
    args = ["experiment", str(changed), "--out", str(out), "--replicates", "1", "--years", "1"]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "different experiment" in err and "scenarios changed strict" in err
    assert "--force" in err
    assert main([*args, "--force"]) == 0
    assert "(0 done before, 2 run now)" in capsys.readouterr().out
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["levers.quota_q1.enforcement"]) == {"none", "target"}
    info = json.loads((out / "experiment.json").read_text())
    assert info["fingerprint"] == load_experiment(changed).with_settings(
        replicates=1, years=1).fingerprint()


def test_documented_example_compares_at_least_four_lever_combinations():
    root = Path(__file__).resolve().parents[1]
    example = root / "experiments" / "compare_levers.toml"
    assert example.read_text() in (root / "docs" / "experiments.md").read_text()
    exp = load_experiment(example)
    assert len(exp.scenarios) >= 4 and exp.reference == "today"
    assert len({s.scenario.config_hash() for s in exp.scenarios}) == len(exp.scenarios)

"""Bad inputs across the commands (issue 22): exit 2, a message naming the problem, --out untouched.

Each case is a command line (placeholders: ``{out}`` the output folder, ``{data}`` a copy of the
default territory's tables, ``{big}`` a territory of 9.9 million households, ``{tmp}`` the test's
folder), an optional change to a file of ``{data}``, and the words the one-line message must
hold. After the command, ``{out}`` must not exist (when it did not before) or be exactly as it
was (same files, sizes and modification times).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from mixsim.experiments.cli import main

DEFAULT = Path(str(resources.files("mixsim.model") / "data" / "default"))
EXPERIMENT = """\
name = "bad"
years = 1
replicates = 1
[territory]
scale = 0.02
[[scenarios]]
name = "ref"
"""
SENSITIVITY = """\
years = 1
[territory]
scale = 0.02
[sensitivity]
method = "sobol"
n = 2
convergence = false
[sensitivity.parameters]
"behaviour.beta_poverty" = [1.0, 5.0]
[sensitivity.outcomes]
indicators = ["q1_share_in_qpv"]
years = [1]
"""


@dataclass(frozen=True)
class Case:
    """One bad input: the command line, a change to the data, the expected message."""

    id: str
    argv: tuple[str, ...]
    words: tuple[str, ...]
    edit: Callable[[Path], None] | None = None
    out_kind: str | None = None  # a folder of that kind already at --out (must stay untouched)
    files: dict[str, str] = field(default_factory=dict)  # extra files in {tmp}
    code: int = 2


def _set(table: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        df.loc[row, column] = value
        df.to_csv(folder / f"{table}.csv", index=False)
    return edit


def _write(table: str, content: bytes) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / f"{table}.csv").write_bytes(content)
    return edit


def _frame(table: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        change(df).to_csv(folder / f"{table}.csv", index=False)
    return edit


def _remove(table: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / f"{table}.csv").unlink()
    return edit


def _latin1(folder: Path) -> None:
    path = folder / "communes.csv"
    path.write_bytes(path.read_text(encoding="utf-8").replace("a", "é").encode("latin-1"))


RUN = ("run", "{tmp}/scenario.toml", "--out", "{out}", "--years", "1")
SCENARIO = {"scenario.toml": '[territory]\nsource = "{data}"\nscale = 0.05\n'}


def run_data(id: str, edit: Callable[[Path], None], *words: str) -> Case:
    """A territory table made bad, read by ``mixsim run``."""
    return Case(id, RUN, words, edit=edit, files=SCENARIO)


CASES = [
    # -- territory tables (model/territory.py) ----------------------------------------------------
    run_data("csv-empty", _write("applicants", b""), "applicants.csv", "is empty", "tenure"),
    run_data("csv-blank-lines", _write("applicants", b"\n \n"), "applicants.csv", "is empty"),
    run_data("csv-count-1e12", _set("population", 3, "count", "1000000000000"),
             "population.csv", "row 5", "'count'", "at most 10,000,000"),
    run_data("csv-count-1e30", _set("dwellings", 0, "count", "1e30"), "dwellings.csv",
             "at most 10,000,000"),
    run_data("csv-total-too-large", _frame("population", lambda d: d.assign(count="9000")),
             "population.csv", "add up to", "at most 10,000,000"),
    run_data("csv-x-inf", _set("neighbourhoods", 2, "x", "inf"), "neighbourhoods.csv",
             "'x'", "finite"),
    run_data("csv-y-minus-inf", _set("neighbourhoods", 0, "y", "-inf"), "neighbourhoods.csv",
             "'y'", "finite"),
    run_data("csv-attractiveness-inf", _set("neighbourhoods", 1, "base_attractiveness",
                                            "Infinity"), "base_attractiveness", "finite"),
    run_data("csv-count-inf", _set("applicants", 0, "count", "inf"), "applicants.csv",
             "finite"),
    run_data("csv-x-nan", _set("neighbourhoods", 0, "x", "nan"), "neighbourhoods.csv",
             "expected a number"),
    run_data("csv-count-text", _set("population", 0, "count", "many"), "population.csv",
             "'many'", "expected a number"),
    run_data("csv-count-negative", _set("social_stock", 0, "count", "-3"), "social_stock.csv",
             "non-negative"),
    run_data("csv-count-fraction", _set("dwellings", 0, "count", "2.5"), "dwellings.csv",
             "whole number"),
    run_data("csv-rooms-9", _set("dwellings", 0, "rooms", "9"), "'rooms'", "from 1 to 5"),
    run_data("csv-sector-social", _set("dwellings", 0, "sector", "social"), "dwellings.csv",
             "private, owner"),
    run_data("csv-financing", _set("social_stock", 0, "financing", "PLX"), "social_stock.csv",
             "PLAI, PLUS, PLS"),
    run_data("csv-holder", _frame("social_stock", lambda d: d.assign(holder="mayor")),
             "'holder'", "prefet"),
    run_data("csv-quartile-5", _set("population", 0, "quartile", "5"), "population.csv",
             "from 1 to 4"),
    run_data("csv-tenure", _set("population", 0, "tenure", "renter"), "'renter'", "social"),
    run_data("csv-hh-type", _set("population", 0, "hh_type", "family"), "'family'",
             "couple_children"),
    run_data("csv-qpv-2", _set("neighbourhoods", 0, "qpv", "2"), "'qpv'", "from 0 to 1"),
    run_data("csv-rent-100", _set("social_stock", 0, "rent_m2", "100"), "'rent_m2'",
             "from 1.0 to 30.0"),
    run_data("csv-missing-column", _frame("neighbourhoods", lambda d: d.drop(columns="commune")),
             "neighbourhoods.csv", "missing column(s) commune"),
    run_data("csv-unknown-column", _frame("communes", lambda d: d.assign(mayor="x")),
             "communes.csv", "unknown column(s) mayor"),
    run_data("csv-empty-value", _set("communes", 0, "name", ""), "communes.csv", "empty value"),
    run_data("csv-duplicate-id", _set("neighbourhoods", 1, "neighbourhood",
                                      pd.read_csv(DEFAULT / "neighbourhoods.csv")
                                      .neighbourhood[0]), "duplicate id"),
    run_data("csv-unknown-neighbourhood", _set("dwellings", 0, "neighbourhood", "nowhere"),
             "'nowhere'", "is not in"),
    run_data("csv-not-utf8", _latin1, "communes.csv", "not UTF-8"),
    run_data("csv-binary", _write("communes", bytes(range(256))), "communes.csv", "not UTF-8"),
    run_data("csv-missing-table", _remove("applicants"), "missing table applicants.csv"),
    run_data("csv-empty-population", _frame("population", lambda d: d.assign(count="0")),
             "population is empty"),
    run_data("csv-applicants-exceed", _frame("applicants", lambda d: d.assign(count="99999")),
             "applicants.csv", "inconsistent totals"),
    # -- where the outputs go ---------------------------------------------------------------------
    Case("run-out-is-file", ("run", "--out", "{tmp}/afile", "--years", "1"),
         ("afile", "not a folder"), files={"afile": "x"}),
    Case("run-out-under-file", ("run", "--out", "{tmp}/afile/sub", "--years", "1"),
         ("afile", "is a file"), files={"afile": "x"}),
    Case("run-out-in-proc", ("run", "--out", "/proc/mixsim-test/x", "--years", "1"),
         ("/proc", "cannot be written")),
    Case("run-into-experiment", ("run", "--out", "{out}", "--years", "1"),
         ("holds the outputs of a mixsim experiment",), out_kind="experiment"),
    Case("run-into-sensitivity", ("run", "--out", "{out}", "--years", "1"),
         ("mixsim sensitivity",), out_kind="sensitivity"),
    Case("run-into-calibration", ("run", "--out", "{out}", "--years", "1"),
         ("mixsim calibration",), out_kind="calibration"),
    Case("experiment-into-run", ("experiment", "{tmp}/e.toml", "--out", "{out}"),
         ("holds the outputs of a mixsim run",), out_kind="run", files={"e.toml": EXPERIMENT}),
    Case("experiment-into-sensitivity", ("experiment", "{tmp}/e.toml", "--out", "{out}"),
         ("mixsim sensitivity",), out_kind="sensitivity", files={"e.toml": EXPERIMENT}),
    Case("sensitivity-into-experiment", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("mixsim experiment",), out_kind="experiment", files={"s.toml": SENSITIVITY}),
    Case("calibrate-into-experiment", ("calibrate", "default", "--out", "{out}", "--budget",
                                       "8"), ("mixsim experiment",), out_kind="experiment"),
    Case("experiment-out-is-file", ("experiment", "{tmp}/e.toml", "--out", "{tmp}/afile"),
         ("not a folder",), files={"e.toml": EXPERIMENT, "afile": "x"}),
    Case("sensitivity-out-under-file", ("sensitivity", "{tmp}/s.toml", "--out",
                                        "{tmp}/afile/o"), ("is a file",),
         files={"s.toml": SENSITIVITY, "afile": "x"}),
    Case("calibrate-out-in-proc", ("calibrate", "default", "--out", "/proc/mixsim-test"),
         ("/proc", "cannot be written")),
    Case("report-on-a-file", ("report", "{tmp}/afile"), ("afile",), files={"afile": "x"}),
    Case("report-on-a-run", ("report", "{out}"), ("experiment",), out_kind="run"),
    # -- --jobs -----------------------------------------------------------------------------------
    Case("experiment-jobs-999", ("experiment", "{tmp}/e.toml", "--out", "{out}", "--jobs",
                                 "999"), ("--jobs", "999", "at most", "CPU"),
         files={"e.toml": EXPERIMENT}),
    Case("experiment-jobs-0", ("experiment", "{tmp}/e.toml", "--out", "{out}", "--jobs", "0"),
         ("--jobs", "≥ 1"), files={"e.toml": EXPERIMENT}),
    Case("experiment-jobs-minus-2", ("experiment", "{tmp}/e.toml", "--out", "{out}", "--jobs",
                                     "-2"), ("--jobs", "-1"), files={"e.toml": EXPERIMENT}),
    Case("experiment-jobs-text", ("experiment", "{tmp}/e.toml", "--out", "{out}", "--jobs",
                                  "two"), ("--jobs", "'two'"), files={"e.toml": EXPERIMENT}),
    Case("experiment-jobs-fraction", ("experiment", "{tmp}/e.toml", "--out", "{out}", "--jobs",
                                      "1.5"), ("--jobs", "'1.5'"), files={"e.toml": EXPERIMENT}),
    Case("sensitivity-jobs-999", ("sensitivity", "{tmp}/s.toml", "--out", "{out}", "--jobs",
                                  "999"), ("--jobs", "at most"), files={"s.toml": SENSITIVITY}),
    Case("calibrate-jobs-999", ("calibrate", "default", "--out", "{out}", "--jobs", "999"),
         ("--jobs", "at most")),
    # -- the Dask backend -------------------------------------------------------------------------
    Case("scheduler-not-an-address", ("experiment", "{tmp}/e.toml", "--out", "{out}",
                                      "--scheduler", "not an address"),
         ("scheduler", "expected an address"), files={"e.toml": EXPERIMENT}),
    Case("scheduler-unreachable", ("experiment", "{tmp}/e.toml", "--out", "{out}",
                                   "--scheduler", "tcp://127.0.0.1:9"),
         ("cannot reach the Dask scheduler", "127.0.0.1:9"), files={"e.toml": EXPERIMENT}),
    Case("scheduler-bad-port", ("experiment", "{tmp}/e.toml", "--out", "{out}",
                                "--scheduler", "tcp://localhost:port"),
         ("expected an address",), files={"e.toml": EXPERIMENT}),
    Case("scheduler-bad-scheme", ("experiment", "{tmp}/e.toml", "--out", "{out}",
                                  "--scheduler", "udp://localhost:8786"),
         ("expected an address",), files={"e.toml": EXPERIMENT}),
    Case("scheduler-with-loky", ("experiment", "{tmp}/e.toml", "--out", "{out}",
                                 "--scheduler", "tcp://localhost:8786", "--backend", "loky"),
         ("needs the dask backend",), files={"e.toml": EXPERIMENT}),
    Case("dask-not-installed", ("experiment", "{tmp}/e.toml", "--out", "{out}", "--backend",
                                "dask"), ("distributed",), files={"e.toml": EXPERIMENT}),
    # -- the memory a territory needs -------------------------------------------------------------
    Case("run-big-territory", ("run", "{tmp}/big.toml", "--out", "{out}", "--years", "1"),
         ("households", "GiB", "lower the scale"),
         files={"big.toml": '[territory]\nsource = "{big}"\nscale = 20\n'}),
    Case("experiment-big-territory", ("experiment", "{tmp}/e.toml", "--out", "{out}"),
         ("households", "GiB"),
         files={"e.toml": EXPERIMENT.replace("scale = 0.02", 'source = "{big}"\nscale = 20')}),
    Case("sensitivity-big-territory", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("households", "GiB"),
         files={"s.toml": SENSITIVITY.replace("scale = 0.02", 'source = "{big}"\nscale = 20')}),
    # -- sensitivity specifications ---------------------------------------------------------------
    Case("sensitivity-unknown-indicator", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("unknown indicator 'nope'", "docs/indicators.md"),
         files={"s.toml": SENSITIVITY.replace('["q1_share_in_qpv"]', '["nope"]')}),
    Case("sensitivity-indicator-typo", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("did you mean 'q1_share_in_qpv'",),
         files={"s.toml": SENSITIVITY.replace('["q1_share_in_qpv"]', '["q1_share_in_qvp"]')}),
    Case("sensitivity-unknown-parameter", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("unknown parameter",),
         files={"s.toml": SENSITIVITY.replace("beta_poverty", "beta_povrety")}),
    Case("sensitivity-n-not-power-of-two", ("sensitivity", "{tmp}/s.toml", "--out", "{out}",
                                            "--n", "3"), ("power of two",),
         files={"s.toml": SENSITIVITY}),
    Case("sensitivity-range-reversed", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("must be below",), files={"s.toml": SENSITIVITY.replace("[1.0, 5.0]", "[5.0, 1.0]")}),
    Case("sensitivity-outcome-year", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("sensitivity.outcomes.years",),
         files={"s.toml": SENSITIVITY.replace("years = [1]", "years = [7]")}),
    Case("sensitivity-no-table", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("missing [sensitivity]",), files={"s.toml": "years = 1\n"}),
    Case("sensitivity-method", ("sensitivity", "{tmp}/s.toml", "--out", "{out}"),
         ("'fast'", "sobol, morris"),
         files={"s.toml": SENSITIVITY.replace('"sobol"', '"fast"')}),
    # -- experiment files and run arguments -------------------------------------------------------
    Case("experiment-unknown-key", ("experiment", "{tmp}/e.toml", "--out", "{out}"),
         ("replicats",), files={"e.toml": EXPERIMENT.replace("replicates", "replicats")}),
    Case("experiment-seed-string", ("experiment", "{tmp}/e.toml", "--out", "{out}"),
         ("seed", "'seven'"), files={"e.toml": 'seed = "seven"\n' + EXPERIMENT}),
    Case("experiment-file-missing", ("experiment", "{tmp}/none.toml", "--out", "{out}"),
         ("none.toml",)),
    Case("run-years-0", ("run", "--out", "{out}", "--years", "0"), ("--years", "≥ 1")),
    Case("run-scale-negative", ("run", "--out", "{out}", "--scale", "-1"), ("--scale",)),
    Case("run-scale-too-large", ("run", "--out", "{out}", "--scale", "1000"), ("scale", "20")),
    Case("calibrate-data-missing", ("calibrate", "{tmp}/nodata", "--out", "{out}"),
         ("nodata", "not a folder")),
]


@pytest.fixture(scope="module")
def big_territory(tmp_path_factory) -> Path:
    """The default territory with every count × 100: 9.9 million households (valid tables)."""
    folder = tmp_path_factory.mktemp("big")
    for f in DEFAULT.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "count" in df.columns:
            df["count"] = (df["count"].astype(int) * 100).astype(str)
        df.to_csv(folder / f.name, index=False)
    return folder


def _snapshot(folder: Path) -> dict[str, tuple[int, int]] | None:
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}


MARKERS = {"experiment": "experiment.json", "sensitivity": "sensitivity.toml",
           "calibration": "calibration.json", "run": "run.json"}


def test_at_least_60_bad_inputs_across_the_commands():
    commands = {c.argv[0] for c in CASES}
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)
    assert {"run", "experiment", "sensitivity", "calibrate", "report"} <= commands


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_with_a_named_message_and_writes_nothing(case, tmp_path, capsys,
                                                                   big_territory, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(DEFAULT, data)
    if case.edit is not None:
        case.edit(data)
    out = tmp_path / "out"
    subs = {"{tmp}": str(tmp_path), "{out}": str(out), "{data}": str(data),
            "{big}": str(big_territory)}

    def fill(text: str) -> str:
        for k, v in subs.items():
            text = text.replace(k, v)
        return text

    for name, text in case.files.items():
        (tmp_path / name).write_text(fill(text), encoding="utf-8")
    if case.out_kind:
        out.mkdir()
        (out / MARKERS[case.out_kind]).write_text("{}\n")
        (out / "indicators.parquet").write_bytes(b"not to be overwritten")
    if case.id == "dask-not-installed":
        monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    before = _snapshot(out)
    try:
        code = main([fill(a) for a in case.argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == case.code, err
    assert "Traceback" not in err
    message = " ".join(err.split())
    for word in case.words:
        assert fill(word) in message, message
    assert _snapshot(out) == before, "--out must be left as it was"
    assert not (out / ".mixsim.lock").exists()


def test_spreadsheet_csv_utf8_with_bom_and_semicolons_reads_like_the_original(tmp_path):
    """What spreadsheet software writes ("CSV UTF-8", often ``;``-separated) is read as is."""
    from mixsim.model.territory import default_territory, load_folder
    for f in DEFAULT.glob("*.csv"):
        text = f.read_text(encoding="utf-8")
        if f.stem in ("communes", "population"):
            text = text.replace(",", ";")  # no field of these tables holds a comma
        (tmp_path / f.name).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    got, want = load_folder(tmp_path), default_territory()
    for name in ("communes", "neighbourhoods", "dwellings", "social_stock", "population",
                 "applicants"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name))

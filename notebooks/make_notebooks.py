"""Write the notebooks from their cell sources (run: ``python notebooks/make_notebooks.py``).

Keeping the cells here makes the notebooks easy to review in diffs; the ``.ipynb`` files are
written without outputs. The test suite executes them on small settings.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

SETTINGS = '''import os
# small settings when the test suite runs the notebook; change them freely
SCALE = float(os.environ.get("MIXSIM_NOTEBOOK_SCALE", "0.1"))
YEARS = int(os.environ.get("MIXSIM_NOTEBOOK_YEARS", "10"))
'''

NOTEBOOKS = {
    "01_quickstart.ipynb": [
        new_markdown_cell("""# 01 — Quickstart: one run, read the tables

This notebook runs today's allocation rules on the embedded default agglomeration, then reads
the tables a run produces. The model is described in `docs/ODD.md`, and the indicators in
`docs/indicators.md`."""),
        new_code_cell(SETTINGS),
        new_code_cell('''from mixsim.model import Scenario, load_scenario, run_scenario, default_territory

territory = default_territory()
territory.summary()'''),
        new_markdown_cell("""A scenario is a validated set of levers and behavioural parameters. The baseline
file describes today's rules."""),
        new_code_cell('''scenario = load_scenario("../experiments/scenarios/baseline.toml")
result = run_scenario(scenario, years=YEARS, scale=SCALE, seed=1)
print(f"{result.wall_time:.1f} s, config hash {result.config_hash}")'''),
        new_markdown_cell("""`result.yearly()` has one row per year and one column per EPCI-level indicator.
Allocation indicators start at year 1, because they count a year of leases."""),
        new_code_cell('''yearly = result.yearly()
yearly[["dissimilarity_q1_by_neighbourhoods", "q1_share_in_qpv", "q1_share_leases_outside_qpv",
        "turnover", "vacancy", "applicants_per_allocation", "mean_wait_days"]].round(3)'''),
        new_markdown_cell("""The tidy table `result.indicators` holds every indicator at every scale: EPCI,
communes, neighbourhoods and reservation holders."""),
        new_code_cell('''ind = result.indicators
ind[(ind.scale == "neighbourhood") & (ind.indicator == "q1_share")].pivot_table(
    index="unit", columns="year", values="value", observed=True).round(2).head(10)'''),
        new_markdown_cell("The move log records every move: household, month, from, to and kind."),
        new_code_cell('''result.moves["kind"].value_counts()'''),
        new_code_cell('''from mixsim.model.indicators.trajectories import household_paths
household_paths(result.moves).head()'''),
        new_code_cell('''yearly[["dissimilarity_q1_by_neighbourhoods", "q1_share_in_qpv"]].plot(
    title="Polarisation of Q1 households", xlabel="year");'''),
    ],
    "02_comparing_levers.ipynb": [
        new_markdown_cell("""# 02 — Comparing lever combinations

An experiment runs several scenarios on the same replicate seeds (a paired comparison), in
parallel and resumably. This notebook runs the commented example `experiments/compare_levers.toml`
with a few overrides, then reads the summary against the reference scenario."""),
        new_code_cell(SETTINGS + 'REPLICATES = int(os.environ.get("MIXSIM_NOTEBOOK_REPLICATES", "3"))\n'),
        new_code_cell('''import tempfile
from mixsim.experiments import run_experiment

out = tempfile.mkdtemp(prefix="mixsim-nb02-")
res = run_experiment("../experiments/compare_levers.toml", out, jobs=2, scale=SCALE,
                     years=YEARS, replicates=REPLICATES, progress=False)
res'''),
        new_code_cell('''import pandas as pd
summary = pd.read_csv(f"{out}/summary.csv")
summary.head()'''),
        new_code_cell('''key = summary[summary.indicator.isin(["q1_share_leases_outside_qpv",
                                       "dissimilarity_q1_by_neighbourhoods"])]
key.pivot_table(index="scenario", columns="indicator", values="mean").round(3)'''),
        new_markdown_cell("""The indicator table stacks every run. Here are the trajectories of one indicator,
one line per scenario."""),
        new_code_cell('''ind = pd.read_parquet(f"{out}/indicators.parquet")  # one row per run, year and indicator
d = ind[(ind.indicator == "q1_share_leases_outside_qpv") & (ind.unit == "EPCI")]
d.groupby(["year", "scenario"])["value"].mean().unstack().plot(
    title="Q1 share of leases outside QPV", xlabel="year");'''),
    ],
    "03_sensitivity.ipynb": [
        new_markdown_cell("""# 03 — Global sensitivity analysis

Which levers and which uncertainties drive the outcomes? This notebook runs Sobol' indices on a
model-agnostic core (`mixsim.experiments.sensitivity.analyze`). It first checks the core on the Ishigami
test function, whose indices are known analytically, then runs it on mixsim itself."""),
        new_code_cell(SETTINGS + 'N = int(os.environ.get("MIXSIM_NOTEBOOK_N", "16"))\n'),
        new_code_cell('''import numpy as np
from mixsim.experiments.sensitivity import analyze, plot_indices
from mixsim.experiments.testfunctions import ishigami, ishigami_indices

box = {"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)}
df = analyze(ishigami, box, method="sobol", n=1024, seed=1)
df[["parameter", "S1", "ST"]].assign(S1_exact=ishigami_indices().S1,
                                     ST_exact=ishigami_indices().ST).round(3)'''),
        new_markdown_cell("""Now the model. Each point of the Sobol' design is a scenario; every point runs on
the same replicate seeds (common random numbers). The specification is the same as
`mixsim sensitivity` reads from a file."""),
        new_code_cell('''import dataclasses
from mixsim.experiments.sensitivity_cli import load_spec, run_sensitivity
import tempfile, pathlib

spec = load_spec("../experiments/sensitivity_example.toml")
spec = dataclasses.replace(spec, n=N, replicates=1, convergence=False, years=(min(YEARS, 8),),
                           windows=(),
                           scenario=dataclasses.replace(spec.scenario, years=min(YEARS, 8)))
spec = dataclasses.replace(spec, scenario=dataclasses.replace(
    spec.scenario, territory=dataclasses.replace(spec.scenario.territory, scale=SCALE)))
out = pathlib.Path(tempfile.mkdtemp(prefix="mixsim-nb03-"))
res = run_sensitivity(spec, out, jobs=2, progress=False)
res["indices"][["outcome", "parameter", "S1", "ST"]].round(3)'''),
        new_code_cell('''outcome = res["indices"]["outcome"].iloc[0]
plot_indices(res["indices"], outcome)'''),
        new_markdown_cell("""Read the indices with their confidence intervals. With a small `N` they are wide.
`docs/sensitivity.md` interprets a larger run."""),
    ],
    "04_calibration.ipynb": [
        new_markdown_cell("""# 04 — Calibration on the example local data

A CIL's territory is not the default agglomeration. This notebook loads the example data folder
`calibration/example_data`, rebuilds it from the public-format samples (Filosofi IRIS, RPLS), and
calibrates two behavioural parameters to the folder's targets with a tiny budget."""),
        new_code_cell(SETTINGS + 'BUDGET = int(os.environ.get("MIXSIM_NOTEBOOK_BUDGET", "8"))\n'),
        new_code_cell('''from mixsim.model import load_folder
territory = load_folder("../calibration/example_data")
territory.summary()'''),
        new_code_cell('''from mixsim.calibration.importers import build_territory_from_public
ex = "../calibration/example_data/"
tables = build_territory_from_public(ex + "filosofi_iris_sample.csv",
                                     ex + "rpls_communes_sample.csv", ex + "iris_table.csv")
tables["ipf_fit"]'''),
        new_code_cell('''import tempfile
from mixsim.experiments.cli import main
out = tempfile.mkdtemp(prefix="mixsim-nb04-")
main(["calibrate", "../calibration/example_data", "--out", out, "--method", "abc",
      "--budget", str(BUDGET), "--years", "2", "--replicates", "1"])'''),
        new_code_cell('''import pandas as pd
pd.read_csv(f"{out}/fit.csv")'''),
    ],
}


def main() -> None:
    """Write every notebook."""
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}})
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()

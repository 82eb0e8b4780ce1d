"""`mixsim report`: a self-contained HTML page from an experiment's output folder."""

import re
import shutil
import subprocess
import tempfile

import pandas as pd
import pytest

from mixsim.experiments import run_experiment
from mixsim.experiments.cli import main
from mixsim.experiments.report_i18n import LABELS, TEXT, fmt_number, fmt_percent

SPEC = """
name = "tiny"
description = "report test"
years = 2
replicates = 2
seed = 5
reference = "today"
[territory]
source = "default"
scale = 0.03
[[scenarios]]
name = "today"
[[scenarios]]
name = "strict"
levers.quota_q1.enforcement = "strict"
[outputs]
scales = ["epci", "neighbourhood"]
years = [2]
"""


@pytest.fixture(scope="module")
def experiment_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    spec = root / "e.toml"
    spec.write_text(SPEC)
    run_experiment(spec, root / "out", jobs=1, progress=False)
    return root / "out"


def test_french_number_formats():
    assert fmt_percent(0.253, "fr") == "25,3\u202f%" and fmt_percent(0.253, "en") == "25.3%"
    assert fmt_number(1234.5, "fr", 1) == "1\u202f234,5" and fmt_number(1234.5, "en", 1) == \
        "1,234.5"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_report_is_self_contained_with_figures(experiment_dir, lang):
    assert main(["report", str(experiment_dir), "--lang", lang]) == 0
    page = (experiment_dir / "report.html").read_text()
    assert "http://" not in page and "https://" not in page  # no network needed
    assert page.count("data:image/png;base64,") == 3  # trajectories, map, cohort
    for name in ("trajectories", "map_q1_share", "cohort_transitions"):
        assert (experiment_dir / "figures" / f"{name}.png").stat().st_size > 5000
        assert (experiment_dir / "figures" / f"{name}.svg").is_file()
    assert TEXT[lang]["comparison"] in page and "strict" in page


def test_french_report_has_no_english_labels(experiment_dir):
    main(["report", str(experiment_dir), "--lang", "fr"])
    page = (experiment_dir / "report.html").read_text()
    text = re.sub(r"<[^>]+>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", page)
    for lab in LABELS.values():
        assert lab["en"] not in text
    for key, en in TEXT["en"].items():
        if len(en) > 6 and en != TEXT["fr"][key]:
            assert en not in text, key
    assert re.search(r"\d,\d\u202f%", text)  # decimal comma in French


def test_report_opens_in_headless_chromium_without_errors(experiment_dir, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's package)")
    main(["report", str(experiment_dir), "--lang", "fr"])
    url = (experiment_dir / "report.html").as_uri()
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}", "--enable-logging=stderr",
             "--v=0", "--window-size=1300,3000"]
    shot = tmp_path / "report.png"
    r = subprocess.run(flags + [f"--screenshot={shot}", url], capture_output=True, text=True,
                       timeout=120)
    assert shot.stat().st_size > 50_000
    dom = subprocess.run(flags + ["--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    m = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) == 3  # every image loaded
    logs = r.stderr + dom.stderr
    assert "CONSOLE" not in logs or not re.search(r"CONSOLE.*(Uncaught|Error)", logs)


def test_incomplete_or_foreign_folder_says_what_is_missing(tmp_path, capsys, experiment_dir):
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("x")
    assert main(["report", str(tmp_path / "foreign")]) == 2
    err = capsys.readouterr().err
    assert "missing runs.parquet, indicators.parquet" in err and "notes.txt" in err
    # experiment outputs without neighbourhood rows: the map section explains, the rest is there
    part = tmp_path / "part"
    part.mkdir()
    ind = pd.read_parquet(experiment_dir / "indicators.parquet")
    ind[ind.scale == "epci"].to_parquet(part / "indicators.parquet")
    shutil.copy(experiment_dir / "runs.parquet", part / "runs.parquet")
    assert main(["report", str(part), "--lang", "en"]) == 0
    page = (part / "report.html").read_text()
    assert "add \"neighbourhood\" to [outputs] scales" in page.replace("&quot;", '"')
    assert TEXT["en"]["trajectories"] in page


def test_unknown_reference_is_refused(experiment_dir, capsys):
    assert main(["report", str(experiment_dir), "--reference", "nope"]) == 2
    assert "reference scenario 'nope' not in this experiment" in capsys.readouterr().err

"""`mixsim report`: a self-contained HTML page (and PDF) a CIL member can read, print and trust."""

import datetime as dt
import re
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixsim.experiments import load_experiment, run_experiment
from mixsim.experiments.cli import main
from mixsim.experiments.report import (
    KEY_INDICATORS,
    Page,
    chromium_flags,
    find_chromium,
    key_messages,
)
from mixsim.experiments.report_charts import unit_formatter
from mixsim.experiments.report_data import ReportData, horizon_stats, load_folder_data
from mixsim.experiments.report_i18n import (
    LABELS,
    TEXT,
    fmt_date,
    fmt_number,
    fmt_percent,
    fmt_points,
    french_typography,
)

pytestmark = pytest.mark.slow  # each builds an experiment folder and renders a report

REPO = Path(__file__).resolve().parents[1]
NNBSP = "\u202f"

SPEC = """
name = "tiny"
description = "report test"
title_fr = "Essai de rapport"
title_en = "Report trial"
question_fr = "Les quotas stricts changent-ils la mixité ?"
question_en = "Do strict quotas change social mixing?"
years = 2
replicates = 2
seed = 5
reference = "today"
[territory]
source = "default"
scale = 0.03
[[scenarios]]
name = "today"
title_fr = "Pratiques actuelles"
title_en = "Today's practice"
[[scenarios]]
name = "strict"
title_fr = "Quotas appliqués strictement"
title_en = "Quotas strictly enforced"
description_fr = "Les deux quotas légaux tenus"
description_en = "Both legal quotas kept"
levers.quota_q1.enforcement = "strict"
levers.quota_qpv.enforcement = "strict"
[[scenarios]]
name = "flux"
levers.reservation.management = "flux"
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


@pytest.fixture(scope="module")
def reports(experiment_dir):
    """Both languages built once (tests that rebuild use their own copy)."""
    for lang in ("fr", "en"):
        assert main(["report", str(experiment_dir), "--lang", lang]) == 0
    return {lang: (experiment_dir / f"report.{lang}.html").read_text() for lang in ("fr", "en")}


def visible_text(page: str) -> str:
    """The page's text without tags, embedded images, scripts, styles and code identifiers."""
    page = re.sub(r"<(script|style|code)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


# ------------------------------------------------------------------------------------------------
# formats


def test_french_and_english_number_formats():
    assert fmt_percent(0.253, "fr") == f"25,3{NNBSP}%" and fmt_percent(0.253, "en") == "25.3%"
    assert fmt_number(1234.5, "fr", 1) == f"1{NNBSP}234,5"
    assert fmt_number(1234.5, "en", 1) == "1,234.5"
    assert fmt_number(-0.75, "fr", 2) == "\u22120,75"  # true minus sign
    assert fmt_number(-0.0001, "fr", 2) == "0,00"  # no "−0,00"
    assert fmt_points(0.012, "fr") == "+1,2\u00a0pt"
    assert fmt_points(-0.012, "en") == "\u22121.2\u00a0pp"
    assert fmt_date(dt.date(2026, 12, 2), "fr") == "2 décembre 2026"
    assert fmt_date(dt.date(2026, 5, 1), "fr") == "1er mai 2026"
    assert fmt_date(dt.date(2026, 5, 1), "en") == "1 May 2026"
    assert french_typography("Objectif : 25 % ; « oui » ?") == (
        f"Objectif{NNBSP}: 25{NNBSP}%{NNBSP}; «{NNBSP}oui{NNBSP}»{NNBSP}?")


def test_axis_formats_follow_the_unit():
    counts = unit_formatter("count", "fr").format_ticks([0.0, 50.0, 100.0, 150.0])
    assert counts == ["0", "50", "100", "150"]  # never "140,00"
    shares = unit_formatter("share", "fr").format_ticks([0.25, 0.275, 0.30])
    assert shares == [f"25,0{NNBSP}%", f"27,5{NNBSP}%", f"30,0{NNBSP}%"]
    assert unit_formatter("share", "en").format_ticks([0.1, 0.2]) == ["10%", "20%"]
    months = unit_formatter("months", "fr", diff=True).format_ticks([-1.0, 0.0, 1.0])
    assert months == ["\u22121", "0", "+1"]


# ------------------------------------------------------------------------------------------------
# key messages and rescaled counts, on hand-made tables with known answers


def synthetic(scale=0.1, n_rep=5):
    """Three scenarios: "good" reaches the Q1 goal and lowers D beyond the noise, at a cost in
    waits; "same" differs from the reference by noise of both signs only."""
    rng = np.random.default_rng(3)
    rows = []
    for sc, q1, d_shift, wait in (("ref", 0.15, 0.0, 0.0), ("good", 0.27, -0.02, 2.0),
                                  ("same", 0.15, 0.0, 0.0)):
        for r in range(n_rep):
            noise = rng.normal(0, 0.003) if sc == "same" else 0.0
            base_d = 0.30 + 0.01 * r  # replicate effect shared by every scenario (paired)
            vals = {"q1_share_leases_outside_qpv": q1 + 0.01 * r / n_rep,
                    "q234_share_leases_inside_qpv": 0.40,
                    "dissimilarity_q1_by_neighbourhoods": base_d + d_shift + noise,
                    "q1_share_in_qpv": 0.5 + 0.01 * r,
                    "exits_to_ownership": 10.0 + r,
                    "median_wait_months": 12.0 + r + wait + (noise * 100 if sc == "same"
                                                             else 0.0),
                    "vacancy": 0.01}
            for name, v in vals.items():
                rows.append({"run_id": f"{sc}-r{r}", "scenario": sc, "replicate": r, "year": 3,
                             "scale": "epci", "unit": "EPCI", "indicator": name, "value": v})
    ind = pd.DataFrame(rows)
    runs = ind[["run_id", "scenario", "replicate"]].drop_duplicates().assign(status="ok")
    exp = {"scenarios": [{"name": "ref", "title_fr": "Référence"},
                         {"name": "good", "title_fr": "Bon", "title_en": "Good"},
                         {"name": "same", "title_fr": "Pareil", "title_en": "Same"}],
           "territory": {"scale": scale}}
    return ReportData(Path("."), runs, ind, exp, "ref", scale=scale,
                      scenarios=["ref", "good", "same"])


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_key_messages_follow_the_paired_differences(lang):
    data = synthetic()
    stats = horizon_stats(data, KEY_INDICATORS + ("vacancy",))
    msgs = key_messages(Page(data, lang), stats)
    assert 3 <= len(msgs) <= 6
    good = "Bon" if lang == "fr" else "Good"
    same = "Pareil" if lang == "fr" else "Same"
    goal_q1, goal_qpv, polar, _upward, cost = msgs[:5]
    assert good in goal_q1 and same not in goal_q1  # only "good" reaches 25 %
    assert ("aucun scénario" if lang == "fr" else "no scenario") in goal_qpv  # 40 % < 50 %
    assert good in polar and same not in polar  # D lower in every replicate pair
    assert ("réduit" if lang == "fr" else "lowers") in polar
    assert good in cost and same not in cost  # waits longer by 2 months in every pair
    assert ("2,0 mois" if lang == "fr" else "2.0 months") in cost


def test_counts_are_rescaled_to_the_whole_territory():
    data = synthetic(scale=0.1)
    st = horizon_stats(data, ("exits_to_ownership", "q1_share_in_qpv")).set_index(
        ["scenario", "indicator"])
    # 10 + r exits at scale 0.1 over r = 0..4: mean 12 → 120 for the whole territory
    assert st.loc[("ref", "exits_to_ownership"), "mean"] == pytest.approx(120.0)
    assert st.loc[("ref", "q1_share_in_qpv"), "mean"] == pytest.approx(0.52)  # shares unscaled


# ------------------------------------------------------------------------------------------------
# the experiment file carries titles, questions and descriptions in both languages


def test_experiment_texts_are_validated_and_carried_to_the_outputs(tmp_path):
    spec = tmp_path / "e.toml"
    spec.write_text(SPEC)
    exp = load_experiment(spec)
    assert dict(exp.texts)["question_en"] == "Do strict quotas change social mixing?"
    assert dict(exp.scenarios[1].texts) == {"title_fr": "Quotas appliqués strictement",
                                            "title_en": "Quotas strictly enforced",
                                            "description_fr": "Les deux quotas légaux tenus",
                                            "description_en": "Both legal quotas kept"}
    again = tmp_path / "again.toml"
    again.write_text(exp.to_toml())
    assert load_experiment(again).scenarios[1].texts == exp.scenarios[1].texts
    assert load_experiment(again).fingerprint() == exp.fingerprint()  # texts are not identity
    spec.write_text(SPEC.replace('title_en = "Report trial"', "title_en = 3"))
    from mixsim.model.errors import InputError
    with pytest.raises(InputError, match="title_en"):
        load_experiment(spec)


def test_example_experiment_keeps_what_every_section_needs():
    exp = load_experiment(REPO / "experiments" / "compare_levers.toml")
    assert "neighbourhood" in exp.outputs.scales
    kept = set(exp.outputs.indicators)
    assert {"q1_share", "households", "transition_qpv_qpv_to_non_qpv",
            "transition_qpv_non_qpv_to_qpv", "mean_wait_days", "transfer_share"} <= kept
    assert set(KEY_INDICATORS) <= kept
    for s in exp.scenarios:
        if s.origin == "list":
            assert {"title_fr", "title_en", "description_fr"} <= dict(s.texts).keys(), s.name


# ------------------------------------------------------------------------------------------------
# the report on a real (tiny) experiment


def test_one_file_per_language_self_contained(experiment_dir, reports):
    fr, en = reports["fr"], reports["en"]
    assert "http://" not in fr and "https://" not in fr  # no network needed
    assert "<html lang='fr'>" in fr and "<html lang='en'>" in en  # --lang en kept the French
    for lang in ("fr", "en"):
        figs = experiment_dir / "figures" / lang
        for name in ("paired_differences", "map_q1_share", "map_differences",
                     "cohort_transitions", "trajectories_0"):
            assert (figs / f"{name}.png").stat().st_size > 5000, (lang, name)
            assert (figs / f"{name}.svg").is_file()
    assert "Essai de rapport" in fr and "Report trial" in en
    assert "Quotas appliqués strictement" in fr and "Quotas strictly enforced" in en
    assert "Les deux quotas légaux tenus" in fr and "Both legal quotas kept" in en
    assert "Les quotas stricts changent-ils la mixité" in fr
    # a scenario without a title gets one generated from its lever, in each language
    assert "Gestion des réservations (gestion)" in fr and "Reservation management" in en


def test_first_page_and_every_section(reports):
    fr = reports["fr"]
    msgs = re.search(r"id='key-messages'>(.*?)</div>", fr, re.S).group(1)
    assert 3 <= msgs.count("<li>") <= 6
    assert "Objectif de 25" in msgs and "Objectif de 50" in msgs
    for anchor in ("scenarios", "comparison", "differences", "trajectories", "maps", "cohort",
                   "monitoring", "annex"):
        assert f"id='{anchor}'" in fr, anchor
    assert "class='missing'" not in fr  # every section has its data
    # every scenario is in the difference maps and the cohort matrices (small multiples)
    assert fr.count("<span class='code'>") >= 3
    # the per-commune table flags SRU communes; the validation annex has simulated values
    assert "Villeneuve-Centre" in fr and ">oui<" in fr
    annex = fr[fr.index("id='annex'"):]
    assert "Taux de rotation" in annex and re.search(r"<td class='(ok|ko)'>\d", annex)
    assert "Glossaire" in annex and "Indice D" in annex and "legifrance" in annex
    # counts labelled as rescaled
    assert "ramenés au territoire entier" in fr


def test_french_page_has_no_english_label(reports):
    text = visible_text(reports["fr"])
    for lab in LABELS.values():
        assert lab["en"] not in text
    for key, en in TEXT["en"].items():
        if len(en) > 6 and en != TEXT["fr"][key] and "{" not in en:
            assert en not in text, key
    for word in ("Scenario", "Reference", "Goals", "households", "Leases", "Turnover",
                 "Vacancy", "Start", "year", "the", "interval", "Glossary", "Table",
                 "Key messages", "Today's practice", "percentage", "flow", "per", "and", "of"):
        assert not re.search(rf"\b{word}\b", text), word
    assert re.search(rf"\d,\d{NNBSP}%", text)  # decimal comma, narrow space before %
    assert not re.search(r"\d %", text)  # never a plain space before %
    assert not re.search(r"(?<![\w\]])-\d", text)  # negatives take the true minus sign
    assert re.search(r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
                     r"octobre|novembre|décembre) \d{4}", text)  # the date in words


def test_calibration_and_sensitivity_show_values_in_both_languages(experiment_dir, tmp_path):
    folder = tmp_path / "out"
    shutil.copytree(experiment_dir, folder, ignore=shutil.ignore_patterns("report.*",
                                                                          "figures"))
    ind = pd.read_parquet(folder / "indicators.parquet")  # EPCI rows only: no maps, faster
    ind[ind.scale == "epci"].to_parquet(folder / "indicators.parquet")
    pd.DataFrame({"target": ["turnover", "applicants_per_allocation"],
                  "observed": [0.088, 4.3], "simulated": [0.0912, 3.94],
                  "simulated_p05": [0.0851, 3.5], "simulated_p95": [0.0973, 4.4],
                  "tolerance": [0.01, 0.6], "within_tolerance": [True, True]}
                 ).to_csv(folder / "fit.csv", index=False)
    (folder / "sensitivity").mkdir()
    pd.DataFrame({"outcome": ["q1_share_in_qpv"] * 2, "parameter": ["behaviour.apply_rate",
                                                                    "levers.rent.modulation"],
                  "S1": [0.42, 0.31], "S1_conf": [0.05, 0.04], "ST": [0.55, 0.37],
                  "ST_conf": [0.06, 0.05]}).to_csv(folder / "sensitivity" / "indices.csv",
                                                   index=False)
    for lang, sim, s1, words, foreign in (
            ("fr", f"9,1{NNBSP}%", "0,42", "premier ordre", "first order"),
            ("en", "9.1%", "0.42", "first order", "premier ordre")):
        assert main(["report", str(folder), "--lang", lang]) == 0
        page = (folder / f"report.{lang}.html").read_text()
        cal = page[page.index("id='calibration'"):page.index("id='annex'")]
        assert sim in cal and (f"8,5{NNBSP}%" if lang == "fr" else "8.5%") in cal
        assert ("3,9" if lang == "fr" else "3.9") in cal
        sens = page[page.index("id='sensitivity'"):page.index("id='calibration'")]
        assert s1 in sens and "behaviour.apply_rate" in sens
        svg = (folder / "figures" / lang / "sensitivity_0.svg").read_text()
        assert words in svg and foreign not in svg  # the chart is labelled in the language


def test_maps_draw_polygons_when_the_territory_ships_them(experiment_dir, tmp_path,
                                                          monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection

    from mixsim.experiments import report_maps
    from mixsim.model import territory as terr
    data = load_folder_data(experiment_dir)
    nb = terr.load_territory("default", 1.0).neighbourhoods
    h = 0.2  # a square around each neighbourhood's x/y, one of them a MultiPolygon

    def square(x, y):
        return [[[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h], [x - h, y - h]]]
    feats = [{"type": "Feature", "properties": {"neighbourhood": r.neighbourhood,
                                                 "name": r.name, "commune": r.commune},
              "geometry": ({"type": "Polygon", "coordinates": square(r.x, r.y)} if i else
                           {"type": "MultiPolygon", "coordinates": [square(r.x, r.y),
                                                                    square(r.x + 1, r.y)]})}
             for i, r in enumerate(nb.itertuples())]
    folder = tmp_path / "territory"
    folder.mkdir()
    import json
    (folder / terr.GEOMETRY_FILE).write_text(json.dumps({"type": "FeatureCollection",
                                                          "features": feats}))
    real = terr.load_geometry
    monkeypatch.setattr(terr, "load_geometry",
                        lambda source="default": real(str(folder)) if source == "default"
                        else real(source))
    base = report_maps.load_map_base(data)
    assert base.has_polygons
    fig, ax = plt.subplots()
    values = pd.Series(0.2, index=nb.neighbourhood)
    from matplotlib.colors import Normalize
    base.draw(ax, values, "YlOrBr", Normalize(0, 1), names=True)
    patches = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(patches) == 1 and len(patches[0].get_paths()) == len(nb) + 1
    assert {t.get_text() for t in ax.texts} >= {"Villeneuve-Centre", "Les Ormes"}
    plt.close(fig)
    out = tmp_path / "copy"
    shutil.copytree(experiment_dir, out, ignore=shutil.ignore_patterns("report.*", "figures"))
    assert main(["report", str(out), "--lang", "en"]) == 0
    page = (out / "report.en.html").read_text()
    assert TEXT["en"]["map_discs"] not in page  # polygons, not discs
    # without polygons: discs at x/y, one per neighbourhood, and the page says so
    discs = report_maps.MapBase(nb, base.communes.reset_index(), None)
    assert not discs.has_polygons
    fig, ax = plt.subplots()
    discs.draw(ax, values, "YlOrBr", Normalize(0, 1), names=False)
    assert not [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == len(nb)
    plt.close(fig)
    monkeypatch.setattr(terr, "load_geometry", lambda source="default": None)
    assert report_maps.load_map_base(data).has_polygons is False


def test_a_single_run_folder_is_reported(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--years", "2", "--scale", "0.02", "--seed", "3", "--out", str(out),
                 "--no-moves"]) == 0
    assert main(["report", str(out), "--lang", "en"]) == 0
    page = (out / "report.en.html").read_text()
    assert TEXT["en"]["single_run"][:40] in page and "id='key-messages'" in page


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
    page = (part / "report.en.html").read_text()
    assert "add \"neighbourhood\" to [outputs] scales" in page.replace("&quot;", '"')
    assert TEXT["en"]["trajectories"] in page


def test_unknown_reference_is_refused(experiment_dir, capsys):
    assert main(["report", str(experiment_dir), "--reference", "nope"]) == 2
    assert "reference scenario 'nope' not in this experiment" in capsys.readouterr().err


def test_pdf_without_chromium_is_a_clear_error(experiment_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MIXSIM_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert main(["report", str(experiment_dir), "--pdf"]) == 2
    assert "no Chromium found" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# in headless Chromium


def chromium():
    exe = find_chromium()
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's package)")
    return exe


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_page_fits_1280_px_and_every_image_loads(experiment_dir, reports, lang):
    exe = chromium()
    url = (experiment_dir / f"report.{lang}.html").as_uri()
    flags = chromium_flags(exe, tempfile.mkdtemp()) + [
        "--window-size=1280,2000", "--hide-scrollbars", "--virtual-time-budget=5000",
        "--enable-logging=stderr", "--v=0", "--dump-dom", url]
    dom = subprocess.run(flags, capture_output=True, text=True, timeout=120)
    images = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    assert images and images.group(1) == images.group(2) and int(images.group(2)) >= 6
    width = re.search(r'data-scroll-width="(\d+)"', dom.stdout)
    assert width and int(width.group(1)) <= 1280  # no horizontal overflow
    assert "id=\"key-messages\"" in dom.stdout
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", dom.stderr)


def test_pdf_keeps_every_table_on_one_page(experiment_dir, reports):
    chromium()
    pypdf = pytest.importorskip("pypdf")
    assert main(["report", str(experiment_dir), "--lang", "fr", "--pdf"]) == 0
    pdf = experiment_dir / "report.fr.pdf"
    pages = [p.extract_text() or "" for p in pypdf.PdfReader(pdf).pages]
    assert len(pages) >= 4

    def squash(s):  # compatibility forms undo ligatures ("ﬂ"); spaces and hyphens dropped
        return re.sub(r"[\s\-\u00ad\u2010]+", "", unicodedata.normalize("NFKC", s))
    pages = [squash(p) for p in pages]
    page = reports["fr"]
    tables = re.findall(r"<caption>(Tableau \d+)[^<]*</caption>.*?</table>", page, re.S)
    assert len(tables) >= 6
    for caption, body in zip(tables, re.findall(r"<caption>Tableau \d+.*?</table>", page,
                                                re.S), strict=True):
        last_row = re.findall(r"<tr>(.*?)</tr>", body, re.S)[-1]
        first_cell = re.search(r"<t[hd][^>]*>(.*?)</t[hd]>", last_row, re.S).group(1)
        cell = squash(re.sub(r"<[^>]+>|&[a-z#0-9]+;", "", first_cell))[:12]
        mark = squash(caption) + ":"
        where = [i for i, p in enumerate(pages) if mark in p]
        assert where, caption
        after = pages[where[0]][pages[where[0]].index(mark):]
        assert cell in after, (caption, cell)  # the last row is on the caption's page
    # no heading is left alone at the foot of a page
    import html as html_lib
    heads = {squash(html_lib.unescape(re.sub(r"<[^>]+>", "", h)))
             for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", page)}
    for i, text in enumerate(pages[:-1]):
        assert not any(text.endswith(h) for h in heads), i


def test_every_default_target_has_a_label_in_both_languages():
    """The validation annex and the fit table name targets in the page's language."""
    from mixsim.calibration.targets import default_targets
    from mixsim.experiments.report_i18n import label
    for name in default_targets().names:
        for lang in ("fr", "en"):  # the fallback is the name with spaces for underscores
            assert label(name, lang) != name.replace("_", " "), (name, lang)

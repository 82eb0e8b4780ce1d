"""`mixsim explore`: the lever form, paired runs, figures, files, and the page in a real browser.

The engine tests need no browser and no Solara. The browser test starts the command on a free
localhost port and drives the system's headless Chromium with Playwright; it is skipped where
the `explore` extra, Playwright or /usr/bin/chromium is absent (the `test` extra installs the
Python packages; CI installs Debian's chromium).
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_tables, write_tables

from mixsim.experiments import explore_engine as eng
from mixsim.experiments import explore_i18n as i18n
from mixsim.experiments.cli import main
from mixsim.model import load_scenario, run_scenario
from mixsim.model.config import Levers, catalogue, to_toml
from mixsim.model.errors import InputError

pytestmark = pytest.mark.slow  # paired runs, worker processes and a browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_territory")
    write_tables(folder, tiny_tables())
    return folder


@pytest.fixture(scope="module")
def settings(tiny_folder) -> eng.Settings:
    return eng.Settings(source=str(tiny_folder), scale=1.0, years=2, replicates=3, seed=11,
                        jobs=1, lang="en")


@pytest.fixture(scope="module")
def explorer(settings):
    ex = eng.Explorer(settings)
    yield ex
    ex.close()


def strict_q1() -> dict:
    return {**eng.default_values(), "quota_q1.enforcement": "strict"}


# -- the form ------------------------------------------------------------------------------------


def test_every_lever_has_a_control_with_both_languages():
    rows = {r["name"]: r for r in catalogue(Levers())}
    ctrls = {c.path: c for c in eng.controls()}
    assert set(ctrls) == set(rows)  # a new lever appears on the page
    for path, c in ctrls.items():
        assert c.default == rows[path]["default"]  # defaults are today's rules
        assert c.family in i18n.FAMILIES
        for lang in i18n.LANGS:
            label, help_ = i18n.LEVERS[path][lang]
            assert label and help_
            assert c.help(lang).startswith(help_)
        if c.kind == "choice":
            assert all(ch in i18n.CHOICES for ch in c.choices)
    assert [f for f, _ in eng.families()] == [f for f in i18n.FAMILIES if f in
                                              {c.family for c in ctrls.values()}]


def test_form_builds_the_scenario_file_would(tmp_path, settings):
    base = settings.base()
    assert eng.scenario_for(eng.default_values(), base).config_hash() == base.config_hash()
    sc = eng.scenario_for({**strict_q1(), "information.wish_breadth": 4}, base)
    assert sc.levers.quota_q1.enforcement == "strict" and sc.levers.information.wish_breadth == 4
    assert sc.config_hash() != base.config_hash()
    assert eng.changed_values(strict_q1()) == {"quota_q1.enforcement": "strict"}


@pytest.mark.parametrize("change", [
    {"reservation.prefet": 0.3, "reservation.action_logement": 0.6},   # shares sum above 1
    {"construction.plai_share": 0.7, "construction.pls_share": 0.5},   # PLAI + PLS above 1
    {"quota_q1.share": 1.5},                                            # out of range
    {"quota_q1.enforcement": "strictly"},                               # not an allowed value
])
def test_refused_combinations_get_the_scenario_files_message(tmp_path, settings, change):
    values = {**eng.default_values(), **change}
    with pytest.raises(InputError) as from_form:
        eng.scenario_for(values, settings.base())
    nested: dict = {}
    for path, v in change.items():
        family, name = path.split(".")
        nested.setdefault(family, {})[name] = v
    f = tmp_path / "scenario.toml"
    f.write_text(to_toml({"levers": nested}))
    with pytest.raises(InputError) as from_file:
        load_scenario(f)
    assert from_form.value.field == from_file.value.field
    assert from_form.value.detail == from_file.value.detail
    assert eng.error_text(from_form.value) == f"{from_file.value.field}: {from_file.value.detail}"


def test_format_value_in_both_languages():
    assert eng.format_value(0.253, "fr", percent=True) == "25,3\u202f%"
    assert eng.format_value(0.253, "en", percent=True) == "25.3%"
    assert eng.format_value(0.012, "fr", percent=True, signed=True) == "+1,2\u202fpt"
    assert eng.format_value(-0.012, "en", percent=True, signed=True) == "-1.2 pp"
    assert eng.format_value(12345, "fr") == "12\u202f345"
    assert eng.format_value("strict", "fr") == "stricte"
    assert eng.format_value(True, "en") == "yes"


# -- paired runs ---------------------------------------------------------------------------------


def test_paired_difference_is_a_student_interval_of_the_paired_differences():
    ref = pd.Series([1.0, 2.0, 3.0])
    sc = pd.Series([2.0, 4.0, 5.0])
    mean, low, high, n = eng.paired_difference(ref, sc)
    d = np.array([1.0, 2.0, 2.0])
    half = 2.919986 * d.std(ddof=1) / math.sqrt(3)  # t(0.95, 2 d.f.)
    assert n == 3 and mean == pytest.approx(5 / 3)
    assert (low, high) == pytest.approx((5 / 3 - half, 5 / 3 + half), rel=1e-5)
    assert math.isnan(eng.paired_difference(ref[:1], sc[:1])[1])  # one replicate: no band
    m, lo, hi = eng.paired_band(ref.to_numpy()[None, :], sc.to_numpy()[None, :])
    assert (m[0], lo[0], hi[0]) == pytest.approx((mean, low, high))


def test_runs_are_paired_on_the_experiment_seeds_and_the_reference_is_cached(explorer, settings,
                                                                              monkeypatch):
    calls = []
    real = explorer.runner.run
    monkeypatch.setattr(explorer.runner, "run",
                        lambda sc, seeds, progress=None: calls.append(sc.name) or real(
                            sc, seeds, progress))
    progress = []
    cmp = explorer.compare(strict_q1(), progress=progress.append)
    assert calls == ["today", "explore"]
    assert progress[-1] == 1.0 and progress == sorted(progress)
    # replicate r is SeedSequence(seed).spawn(replicates)[r], as in `mixsim experiment`
    seq = np.random.SeedSequence(settings.seed).spawn(settings.replicates)[1]
    direct = run_scenario(cmp.scenario.scenario, seed=seq, keep_moves=False).yearly()
    mine = cmp.scenario.epci.query("replicate == 1").set_index("year")
    for name in ("q1_share_in_qpv", "turnover"):
        np.testing.assert_allclose(mine[name].to_numpy(), direct[name].to_numpy())
    again = explorer.compare({**strict_q1(), "information.wish_breadth": 3})
    assert calls == ["today", "explore", "explore"]  # today's rules were not run again
    assert again.reference is cmp.reference
    same = explorer.compare(strict_q1())
    assert calls == ["today", "explore", "explore"]  # nor a scenario just run
    assert same.table.equals(cmp.table)


def test_comparison_table_against_the_objectives(explorer):
    cmp = explorer.compare(strict_q1())
    t = cmp.table.set_index("indicator")
    ref = cmp.reference.epci[cmp.reference.epci.year == cmp.horizon].set_index("replicate")
    sc = cmp.scenario.epci[cmp.scenario.epci.year == cmp.horizon].set_index("replicate")
    name = "q1_share_leases_outside_qpv"
    assert t.loc[name, "objective"] == 0.25 and t.loc["q234_share_leases_inside_qpv",
                                                       "objective"] == 0.5
    assert math.isnan(t.loc["turnover", "objective"])
    assert t.loc[name, "diff"] == pytest.approx((sc[name] - ref[name]).mean())
    assert t.loc[name, "reference"] == pytest.approx(ref[name].mean())
    rows = {r["indicator"]: r for r in eng.table_rows(cmp, "en")}
    row = rows[i18n.indicator_label(name, "en")]
    assert row["objective"] == "≥ 25.0%"
    verdicts = ["met" if v >= 0.25 else "not met" for v in (ref[name].mean(), sc[name].mean())]
    assert row["met"] == " / ".join(verdicts)
    none = explorer.compare(eng.default_values())
    assert all(r["difference"] == "—" for r in eng.table_rows(none, "fr"))
    assert (none.table["diff"] == 0).all()  # today against today on the same seeds


def test_worker_processes_give_the_same_numbers(settings):
    two = eng.Explorer(eng.Settings(**{**settings.__dict__, "jobs": 2}))
    try:
        ens2 = two.ensemble(eng.scenario_for(strict_q1(), settings.base()))
    finally:
        two.close()
    one = eng.Explorer(settings)
    ens1 = one.ensemble(eng.scenario_for(strict_q1(), settings.base()))
    pd.testing.assert_frame_equal(ens1.epci, ens2.epci)
    pd.testing.assert_frame_equal(ens1.neighbourhoods, ens2.neighbourhoods)


# -- maps, figures, live run ---------------------------------------------------------------------


def square_geometry(table: pd.DataFrame, multi: str) -> dict:
    feats = []
    for r in table.itertuples():
        ring = [[r.x - .4, r.y - .4], [r.x + .4, r.y - .4], [r.x + .4, r.y + .4],
                [r.x - .4, r.y + .4], [r.x - .4, r.y - .4]]
        geom = ({"type": "MultiPolygon", "coordinates": [[ring], [[[p[0] + 5, p[1]]
                                                                   for p in ring]]]}
                if r.neighbourhood == multi else {"type": "Polygon", "coordinates": [ring]})
        feats.append({"type": "Feature", "geometry": geom, "properties": {
            "neighbourhood": r.neighbourhood, "name": r.name, "commune": r.commune}})
    return {"type": "FeatureCollection", "features": feats}


def test_maps_draw_polygons_when_the_territory_has_them_and_discs_otherwise(tmp_path):
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    folder = tmp_path / "terr"
    write_tables(folder, tiny_tables())
    nb = eng.load_neighbourhoods(str(folder))
    assert nb.geometry is None
    values = pd.Series([0.1, 0.2, 0.3, 0.4], index=nb.table.neighbourhood)
    ax = Figure().subplots()
    assert eng.draw_neighbourhoods(ax, nb, values, colormaps["OrRd"], Normalize(0, 1)) == "discs"
    assert len(ax.collections[0].get_offsets()) == 4
    (folder / "geometry.geojson").write_text(json.dumps(square_geometry(nb.table, "A2")))
    nb = eng.load_neighbourhoods(str(folder))  # through mixsim.model.territory.load_geometry
    assert nb.geometry is not None
    ax = Figure().subplots()
    cmap, norm = colormaps["OrRd"], Normalize(0, 1)
    assert eng.draw_neighbourhoods(ax, nb, values, cmap, norm) == "polygons"
    coll = ax.collections[0]
    assert len(coll.get_paths()) == 5  # four neighbourhoods, one of them in two parts
    colours = coll.get_facecolors()
    np.testing.assert_allclose(colours[0], cmap(norm(0.1)))  # A1 coloured by its own value
    np.testing.assert_allclose(colours[2], colours[1])        # both parts of A2 alike
    assert list(coll.get_edgecolors()[0][:3]) == [0, 0, 0]    # A1 is a QPV: outlined


def test_figures_and_html_report(explorer, settings):
    cmp = explorer.compare(strict_q1())
    for fig in (eng.trajectory_figure(cmp, "fr"), eng.map_figure(cmp, explorer.neighbourhoods,
                                                                 "en")):
        assert eng.png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
    axes = eng.trajectory_figure(cmp, "en").axes
    assert len([a for a in axes if a.get_title()]) == len(eng.KEY_TRAJECTORIES)
    page = eng.html_report(cmp, explorer.neighbourhoods, settings, "fr")
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page  # opens without network
    assert "levers.quota_q1.enforcement" in page and "<table" in page


def test_live_run_is_the_model_stepping_month_by_month(settings):
    scenario = eng.scenario_for(strict_q1(), settings.base())
    live = eng.LiveRun(scenario, settings.seed)
    import mesa
    assert isinstance(live.model, mesa.Model)
    live.step(12)
    assert live.month == 12 and len(live.history) == 13
    rec = live.model.recorder.frame()
    q1 = rec[(rec.scale == "neighbourhood") & (rec.indicator == "q1_share") & (rec.year == 1)]
    np.testing.assert_allclose(live.q1_shares().loc[q1.unit.astype(str)].to_numpy(),
                               q1.value.to_numpy())
    live.step(10_000)
    assert live.finished and live.month == 24
    # the live run is replicate 0 of the comparison
    rep0 = eng.run_replicate(scenario, settings.seed, 0)["neighbourhoods"].query("year == 2")
    np.testing.assert_allclose(live.q1_shares().loc[rep0.neighbourhood].to_numpy(),
                               rep0.q1_share.to_numpy())
    assert eng.png(live.figure(eng.load_neighbourhoods(settings.source), "fr"))
    live.close()


# -- files ---------------------------------------------------------------------------------------


def test_saved_scenario_and_experiment_files_reproduce_the_page(tmp_path, settings):
    from mixsim.experiments.spec import load_experiment
    values = {**strict_q1(), "rent.modulation": 0.2}
    scenario = eng.scenario_for(values, settings.base())
    f = tmp_path / "scenario.toml"
    f.write_text(eng.scenario_toml(values, settings))
    loaded = load_scenario(f)
    assert loaded.config_hash() == scenario.config_hash()
    assert loaded.levers.rent.modulation == 0.2
    e = tmp_path / "experiment.toml"
    e.write_text(eng.experiment_toml(values, settings))
    exp = load_experiment(e)
    assert exp.scenario_names == ("today", "explore") and exp.reference == "today"
    by_name = {s.name: s.scenario for s in exp.scenarios}
    assert by_name["explore"].config_hash() == scenario.config_hash()
    assert by_name["today"].config_hash() == settings.base().config_hash()
    assert [(s.entropy, s.spawn_key) for s in exp.replicate_seeds()] == [
        (s.entropy, s.spawn_key) for s in settings.seeds()]
    with pytest.raises(InputError):
        eng.scenario_toml({**values, "quota_q1.share": 2.0}, settings)
    assert tomllib.loads(e.read_text())["replicates"] == settings.replicates


# -- the command ---------------------------------------------------------------------------------


def test_without_the_extra_the_command_names_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", None)  # import solara → ImportError
    assert main(["explore"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'mixsim[explore]'" in err and "Traceback" not in err


def test_solara_is_set_up_offline_and_private():
    pytest.importorskip("solara")
    from mixsim.experiments.explore import offline_solara
    env: dict[str, str] = {}
    offline_solara(env)
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    import solara.server.settings as server_settings
    import solara.settings as ui_settings
    assert server_settings.telemetry.mixpanel_enable is False  # no statistics sent
    assert server_settings.main.mode == "production"           # no check page from solara.dev
    assert ui_settings.assets.proxy is True                     # front-end served by us...
    assert ui_settings.assets.cdn.startswith("http://127.0.0.1:")  # ...never fetched outside


def test_the_command_line_does_not_import_solara():
    code = ("import sys; from mixsim.experiments.cli import build_parser; build_parser(); "
            "print('solara' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_bad_inputs_exit_2(tmp_path, capsys):
    pytest.importorskip("solara")
    pytest.importorskip("solara_assets")
    assert main(["explore", str(tmp_path / "nowhere")]) == 2
    assert "TERRITORY" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        assert main(["explore", "--port", str(taken)]) == 2
    assert "--port" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["explore", "--port", "70000"])
    assert exit_.value.code == 2


# -- in a real browser ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"mixsim explore exited with {proc.returncode}: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def browser_page():
    pytest.importorskip("solara")
    pytest.importorskip("solara_assets")
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM} (Debian's chromium package)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000},
                                   accept_downloads=True)
        finally:
            browser.close()


def test_the_page_in_a_real_browser(browser_page, tmp_path):
    from playwright import sync_api
    page = browser_page
    port = free_port()
    env = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}
    cmd = [sys.executable, "-m", "mixsim.experiments.cli", "explore", "--port", str(port),
           "--scale", "0.03", "--years", "3", "--replicates", "2", "--jobs", "1", "--lang", "en"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    artifacts = Path(os.environ.get("MIXSIM_TEST_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    requests, failures = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: failures.append((r.status, r.url)) if r.status >= 400
            else None)
    page.on("requestfailed", lambda r: failures.append(("failed", r.url)))
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_server(url, proc)
        page.goto(url)
        # the page loads and shows today's rules (computed while it opens)
        page.wait_for_selector("text=Done in", timeout=60_000)
        page.wait_for_selector("#comparison")
        before = page.locator("#trajectories img").get_attribute("src")
        assert page.locator("#comparison tr").count() == 1 + len(eng.TABLE_INDICATORS)
        # a refused combination shows the scenario file's message and disables the run
        page.get_by_text("Reservation holders and their management").click()
        page.wait_for_selector("text=Action Logement's share:")
        panel = page.locator(".v-expansion-panel", has_text="Reservation holders")
        panel.get_by_role("slider").nth(2).focus()   # Action Logement (after the two préfet)
        page.keyboard.press("End")                    # ...to its maximum, 100 %
        with pytest.raises(InputError) as refused:
            eng.scenario_for({**eng.default_values(), "reservation.action_logement": 1.0},
                             eng.Settings().base())
        page.wait_for_selector(f"text={eng.error_text(refused.value)}")
        assert page.get_by_role("button", name="Run").is_disabled()
        page.get_by_role("button", name="Back to today's rules").click()
        sync_api.expect(page.get_by_role("button", name="Run")).to_be_enabled()
        for alert in page.locator("text=Combination refused").all():
            sync_api.expect(alert).to_be_hidden()
        # change a lever: the Q1 quota enforced strictly
        page.get_by_role("button", name="strict").first.click()
        page.wait_for_selector("text=How the quota is enforced (levers.quota_q1.enforcement)"
                               " = strict")
        page.get_by_role("button", name="Run").click()
        page.wait_for_function(
            "() => (document.querySelector('#result-changed') || {}).textContent"
            "?.includes('quota_q1.enforcement')", timeout=60_000)
        page.wait_for_selector("text=Done in")
        # the table and the figures are the new comparison's
        after = page.locator("#trajectories img").get_attribute("src")
        assert after and after != before
        cells = page.locator("#comparison td").all_inner_texts()
        assert any(c.startswith(("+", "-")) and ("pp" in c or "." in c) for c in cells)
        assert page.locator("#maps img").count() == 1
        page.screenshot(path=str(artifacts / "explore.png"), full_page=True)
        # save the scenario: a file `mixsim run` accepts, with the lever changed
        page.get_by_role("tab", name="Save").click()
        with page.expect_download() as download:
            page.get_by_text("Scenario (TOML)").click()
        saved = tmp_path / "saved.toml"
        download.value.save_as(saved)
        assert load_scenario(saved).levers.quota_q1.enforcement == "strict"
        # the live single run steps the model month by month
        page.get_by_role("tab", name="Step-by-step run").click()
        page.get_by_role("button", name="One month").click()
        page.wait_for_selector("#live-map img", timeout=30_000)
        page.wait_for_selector("#live-month:has-text('Month 1 (year 0, month 1)')")
        page.get_by_role("button", name="One month").click()
        page.wait_for_selector("#live-month:has-text('Month 2 (year 0, month 2)')")
        page.screenshot(path=str(artifacts / "explore_live.png"), full_page=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    hosts = {u.split("/")[2] for u in requests if u.startswith("http")}
    assert hosts == {f"127.0.0.1:{port}"}  # no request leaves this computer
    assert failures == []                   # every front-end file was served locally

"""The web page of ``mixsim explore`` (Solara, the stack of Mesa's SolaraViz).

Served by :func:`mixsim.experiments.explore.serve`; this module imports Solara, so the command
line never imports it (only the server does). Everything computed here comes from
:mod:`mixsim.experiments.explore_engine`; the page lays it out:

* the levers, grouped by family, with their plain-language label and help (French or English);
  a refused combination shows the scenario file's message and disables the run;
* a run button with its progress bar; the comparison with today's rules on the same seeds:
  the table with the CIL's objectives, the key trajectories with their difference bands, the
  neighbourhood map coloured by the Q1 share and the difference map;
* a live single run: the ``HousingModel`` (a ``mesa.Model``) stepping month by month with its map;
* downloads: the scenario (TOML for ``mixsim run``), the experiment reproducing the comparison
  (TOML for ``mixsim experiment``) and a self-contained HTML report.
"""

from __future__ import annotations

import time
from typing import Any

import solara
import solara.lab

from mixsim.model.errors import InputError

from . import explore_engine as eng
from . import explore_i18n as i18n

CSS = """
.mixsim-help { font-size: 0.78rem; color: #555; margin: 2px 0 12px 0; line-height: 1.25; }
.mixsim-levers { max-height: calc(100vh - 120px); overflow-y: auto; padding-right: 6px; }
.mixsim-table td, .mixsim-table th { padding: 3px 8px; border-bottom: 1px solid #ddd;
                                     text-align: right; font-size: 0.85rem; }
.mixsim-table td:first-child, .mixsim-table th:first-child { text-align: left; }
.mixsim-changed { font-size: 0.85rem; }
"""

# Per browser session (Solara keeps one value of each per page).
lang = solara.reactive(eng.current_settings().lang)
values = solara.reactive(eng.default_values())
live_run: solara.Reactive[Any] = solara.reactive(None)
live_tick = solara.reactive(0)
playing = solara.reactive(False)
months_per_frame = solara.reactive(1)


@solara.lab.task(prefer_threaded=True)
def run_comparison(form: dict[str, Any]) -> eng.Comparison:
    """Run the form's scenario against today's rules (in the explorer's worker processes)."""
    def progress(fraction: float) -> None:
        run_comparison.progress = round(100.0 * fraction, 1)
    run_comparison.progress = 0.0
    return eng.explorer().compare(form, progress=progress)


@solara.lab.task(prefer_threaded=True)
def play_live() -> None:
    """Step the live run while ``playing`` is set (each frame redraws the map)."""
    while playing.value and live_run.value is not None and not live_run.value.finished:
        live_run.value.step(months_per_frame.value)
        live_tick.value += 1
        time.sleep(0.02)  # let the page take the frame
    playing.value = False


def _set_value(path: str, value: Any) -> None:
    values.value = {**values.value, path: value}


@solara.component
def LeverInput(control: eng.Control, value: Any, language: str) -> None:
    """One lever: its control, label and help."""
    label = control.label(language)

    def set_(v: Any) -> None:
        _set_value(control.path, v)

    with solara.Column(gap="0px"):
        if control.kind == "choice":
            solara.Text(label, style={"font-size": "0.9rem"})
            with solara.ToggleButtonsSingle(value=value, on_value=set_, dense=True):
                for c in control.choices:
                    solara.Button(i18n.choice_label(c, language), value=c, small=True)
        elif control.kind == "bool":
            solara.Switch(label=label, value=bool(value), on_value=set_)
        elif control.slider:
            shown = eng.format_value(float(value), language)
            solara.Text(f"{label}: {shown}", style={"font-size": "0.9rem"})
            solara.SliderFloat("", value=float(value), min=control.lo, max=control.hi,
                               step=control.step, on_value=set_, thumb_label=True)
        elif control.kind == "int":
            solara.InputInt(label, value=int(value), on_value=set_, dense=True)
        else:
            solara.InputFloat(label, value=float(value), on_value=set_, dense=True)
        solara.Div(children=[control.help(language)], classes=["mixsim-help"])


@solara.component
def LeverPanel(language: str) -> None:
    """Show the levers, one expandable section per family."""
    current = values.value
    with solara.Div(classes=["mixsim-levers"]):
        for family, items in eng.families():
            n_changed = sum(current[c.path] != c.default for c in items)
            title = i18n.FAMILIES.get(family, {}).get(language, family)
            if n_changed:
                title += f"  ({n_changed} ✎)"
            with solara.Details(summary=title, expand=family in ("quota_q1",)):
                for c in items:
                    LeverInput(c, current[c.path], language)


def _html(tag: str, text: str, cls: str = "", id_: str | None = None) -> None:
    # plain elements: solara.Markdown would load KaTeX, which solara-assets does not ship
    solara.v.Html(tag=tag, class_=cls, children=[text],
                  attributes={"id": id_} if id_ else {})


def _figure(png: bytes, id_: str) -> None:
    with solara.v.Html(tag="div", attributes={"id": id_}):
        solara.Image(png, width="100%")


def _table(cmp: eng.Comparison, language: str):
    t = i18n.TEXT[language]
    rows = eng.table_rows(cmp, language)
    keys = ("indicator", "objective", "today", "scenario", "difference", "met")
    heads = (t["indicator"], t["objective"], t["today"], t["scenario"], t["difference"],
             f"{t['met']} ({t['today']} / {t['scenario']})")
    with solara.v.Html(tag="table", class_="mixsim-table", attributes={"id": "comparison"}):
        with solara.v.Html(tag="tr"):
            for h in heads:
                solara.v.Html(tag="th", children=[h])
        for r in rows:
            with solara.v.Html(tag="tr"):
                for k in keys:
                    solara.v.Html(tag="td", children=[r[k] if r[k] else " "])


@solara.component
def Results(language: str) -> None:
    """Show the comparison: table, trajectories, maps."""
    t = i18n.TEXT[language]
    cmp = run_comparison.value
    if run_comparison.error:
        solara.Error(str(run_comparison.exception))
    if cmp is None:
        solara.Info(t["no_result"])
    else:
        ComparisonView(cmp, language)


@solara.component
def ComparisonView(cmp: eng.Comparison, language: str) -> None:
    """Show one comparison: changed levers, table, trajectories, maps."""
    t = i18n.TEXT[language]
    explorer = eng.explorer()
    traj = solara.use_memo(lambda: eng.png(eng.trajectory_figure(cmp, language)),
                           dependencies=[id(cmp), language])
    maps = solara.use_memo(lambda: eng.png(eng.map_figure(cmp, explorer.neighbourhoods,
                                                          language)),
                           dependencies=[id(cmp), language])
    changed = eng.changed_text(cmp.changed, language) or [t["none_changed"]]
    sep = " ; " if language == "fr" else "; "
    _html("div", f"{t['changed']}{' :' if language == 'fr' else ':'} " + sep.join(changed),
          "mixsim-changed", "result-changed")
    solara.Text(t["table_intro"].format(year=cmp.horizon), style={"font-size": "0.85rem"})
    _table(cmp, language)
    _html("h3", t["trajectories"])
    _figure(traj, "trajectories")
    _html("h3", t["map"])
    note = (t["map_note_polygons"] if explorer.neighbourhoods.geometry is not None
            else t["map_note_discs"])
    solara.Text(note, style={"font-size": "0.8rem"})
    _figure(maps, "maps")


@solara.component
def LiveView(language: str, scenario_error: str | None) -> None:
    """Show the model stepping month by month under the form's scenario."""
    t = i18n.TEXT[language]
    explorer = eng.explorer()
    run = live_run.value
    tick = live_tick.value

    def restart() -> None:
        playing.value = False
        if live_run.value is not None:
            live_run.value.close()
        try:
            scenario = eng.scenario_for(values.value, explorer.settings.base())
        except InputError:
            return
        live_run.value = eng.LiveRun(scenario, explorer.settings.seed,
                                     changed=eng.changed_values(values.value))
        live_tick.value += 1

    def step() -> None:
        if live_run.value is None:
            restart()
        live_run.value.step(months_per_frame.value)
        live_tick.value += 1

    def play() -> None:
        if live_run.value is None or live_run.value.finished:
            restart()
        playing.value = True
        play_live()

    def pause() -> None:
        playing.value = False

    solara.Text(t["live_intro"], style={"font-size": "0.85rem"})
    with solara.Row():
        solara.Button(t["step"], on_click=step, disabled=bool(scenario_error) or playing.value,
                      icon_name="mdi-step-forward")
        solara.Button(t["play"], on_click=play, disabled=bool(scenario_error) or playing.value,
                      icon_name="mdi-play", color="primary")
        solara.Button(t["pause"], on_click=pause, disabled=not playing.value,
                      icon_name="mdi-pause")
        solara.Button(t["restart"], on_click=restart, disabled=bool(scenario_error),
                      icon_name="mdi-restart")
        solara.ToggleButtonsSingle(value=months_per_frame, values=[1, 3, 12], dense=True)
    if run is not None:
        LiveImage(run, tick, language)


@solara.component
def LiveImage(run: eng.LiveRun, tick: int, language: str) -> None:
    """Show the live run's households, map and series (redrawn at each tick)."""
    explorer = eng.explorer()
    t = i18n.TEXT[language]
    m = run.month
    _html("div", t["month"].format(month=m, year=m // 12, m=m % 12) + " — "
          + t["households"].format(n=eng.format_value(run.households(), language)) + " — "
          + ("; ".join(eng.changed_text(run.changed, language)) or t["none_changed"]),
          "mixsim-changed", "live-month")
    image = solara.use_memo(lambda: eng.png(run.figure(explorer.neighbourhoods, language)),
                            dependencies=[id(run), tick, language])
    _figure(image, "live-map")


@solara.component
def ExportView(language: str, scenario_error: str | None) -> None:
    """Offer the downloads: scenario and experiment files, HTML report."""
    t = i18n.TEXT[language]
    explorer = eng.explorer()
    form = values.value
    cmp = run_comparison.value
    solara.Text(t["export_intro"], style={"font-size": "0.85rem"})
    if scenario_error:
        solara.Error(f"{t['invalid']}: {scenario_error}")
        return
    with solara.Row():
        solara.FileDownload(lambda: eng.scenario_toml(form, explorer.settings),
                            filename="explore_scenario.toml", label=t["save_toml"],
                            mime_type="application/toml")
        solara.FileDownload(lambda: eng.experiment_toml(form, explorer.settings),
                            filename="explore_experiment.toml", label=t["save_experiment"],
                            mime_type="application/toml")
        if cmp is not None:
            solara.FileDownload(lambda: eng.html_report(cmp, explorer.neighbourhoods,
                                                        explorer.settings, language),
                                filename="explore_report.html", label=t["save_html"],
                                mime_type="text/html")


@solara.component
def Page() -> None:
    """Lay out the exploration page."""
    language = lang.value
    t = i18n.TEXT[language]
    explorer = eng.explorer()
    s = explorer.settings
    solara.Title(t["title"])
    solara.Style(CSS)
    try:
        eng.scenario_for(values.value, s.base())
        scenario_error = None
    except InputError as err:
        scenario_error = eng.error_text(err)

    def start() -> None:
        run_comparison(dict(values.value))

    # today's rules are shown as soon as the page opens (the reference is computed once)
    solara.use_effect(lambda: run_comparison(dict(eng.default_values())), [])

    with solara.Row(justify="space-between", style={"align-items": "center"}):
        _html("h2", t["title"])
        solara.ToggleButtonsSingle(value=lang, values=list(i18n.LANGS), dense=True)
    solara.Text(t["intro"].format(replicates=s.replicates, territory=s.source, scale=s.scale,
                                  years=s.years), style={"font-size": "0.9rem"})
    with solara.Columns([1, 2.6]):
        with solara.Column():
            with solara.Row():
                solara.Button(t["run"], on_click=start, color="primary", icon_name="mdi-play",
                              disabled=bool(scenario_error) or run_comparison.pending)
                solara.Button(t["reset"], on_click=lambda: values.set(eng.default_values()),
                              text=True)
            if scenario_error:
                solara.Error(f"{t['invalid']}: {scenario_error}")
            changed = eng.changed_text(eng.changed_values(values.value), language)
            colon, sep = (" : ", " ; ") if language == "fr" else (": ", "; ")
            solara.Div(children=[t["changed"] + colon + (sep.join(changed) if changed
                                                         else t["none_changed"])],
                       classes=["mixsim-changed"])
            LeverPanel(language)
        with solara.Column():
            if run_comparison.pending:
                label = t["running"] if explorer.has_reference() else t["reference_running"]
                pct = run_comparison.progress or 0.0
                solara.Text(f"{label} {pct:.0f} %")
                solara.ProgressLinear(pct)
            elif run_comparison.value is not None:
                solara.Success(t["done"].format(seconds=run_comparison.value.seconds),
                               dense=True)
            with solara.lab.Tabs():
                with solara.lab.Tab(t["results"]):
                    Results(language)
                with solara.lab.Tab(t["live"]):
                    LiveView(language, scenario_error)
                with solara.lab.Tab(t["export"]):
                    ExportView(language, scenario_error)

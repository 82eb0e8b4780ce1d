"""``mixsim report FOLDER``: one self-contained HTML page (and a PDF) from an experiment's outputs.

The page is written for a CIL meeting (docs/report.md): it opens on any laptop without network
(figures embedded), in French or English, prints without cutting a table, and reads in order:

* a first page with the question, the territory, the horizon and 3–6 key messages generated
  from the paired differences to the reference scenario and their 90 % intervals;
* the scenarios (titles and descriptions from the experiment file) and the levers they use;
* the comparison at the horizon against the CIL goals, the paired differences (chart and table),
  the trajectories of the key indicators, neighbourhood maps (reference and difference to the
  reference for every scenario), a per-commune table, the starting cohort's trajectories and the
  allocation monitoring;
* sensitivity and calibration sections when those outputs are in the folder;
* an annex: validation of the territory against its calibration targets, glossary, assumptions
  and limits, data sources.

One file per language (``report.fr.html``, ``report.en.html``); figures as PNG and SVG in
``figures/<lang>/``; ``--pdf`` also prints ``report.<lang>.pdf`` with headless Chromium. A
section whose data is not in the folder says what is missing and how to get it.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from mixsim.model.errors import InputError

from . import report_charts as charts
from .report_data import (
    ReportData,
    beyond_noise,
    describe_change,
    horizon_stats,
    levers_used,
    load_folder_data,
    overrides,
    pick,
    scenario_description,
    scenario_tables,
    scenario_title,
    targets,
)
from .report_i18n import (
    ASSUMPTIONS,
    GLOSSARY,
    LANGS,
    LEVERS,
    PHRASES,
    SOURCES,
    UNIT_WORDS,
    fmt_date,
    fmt_number,
    fmt_percent,
    fmt_value,
    french_typography,
    kind,
    label,
    text,
)

__all__ = ["build_report", "load_folder_data", "print_pdf", "find_chromium"]

KEY_INDICATORS = ("dissimilarity_q1_by_neighbourhoods", "q1_share_in_qpv",
                  "q1_share_leases_outside_qpv", "q234_share_leases_inside_qpv",
                  "exits_to_ownership", "median_wait_months")
POLARISATION = ("dissimilarity_q1_by_neighbourhoods", "theil_h_quartiles_by_neighbourhoods",
                "q1_share_in_qpv", "q1_share_of_qpv_households")
UPWARD = ("exits_to_ownership", "moves_qpv_to_non_qpv", "exits_to_private_rental")
COSTS = ("median_wait_months", "vacancy")
MONITORING = (
    ("q1_share_leases_outside_qpv", "q234_share_leases_inside_qpv", "priority_share",
     "transfer_share", "refusal_rate", "applicants_per_allocation", "median_wait_months"),
    ("turnover", "vacancy", "exits_to_ownership", "exits_to_private_rental",
     "moves_qpv_to_non_qpv"),
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class Page:
    """Collects the report's parts and numbers its tables."""

    def __init__(self, data: ReportData, lang: str):
        self.data = data
        self.lang = lang
        self.tables = 0
        others = [s for s in data.scenarios if s != data.reference]
        self.codes = {data.reference: "R"} | {s: _code(i) for i, s in enumerate(others)}

    def t(self, key: str, **values: object) -> str:
        """Escaped text in the page's language."""
        return html.escape(text(self.lang, key, **values), quote=False)

    def prose(self, s: str) -> str:
        """Escape free text, with French typography in French."""
        return html.escape(french_typography(s) if self.lang == "fr" else s, quote=False)

    def table(self, title: str, head: str, rows: list[str], cls: str = "data") -> str:
        """Return a numbered table with a caption; rows are ``<tr>`` strings."""
        self.tables += 1
        word = "Tableau" if self.lang == "fr" else "Table"
        sep = "\u202f: " if self.lang == "fr" else ": "
        return (f"<table class='{cls}'><caption>{word} {self.tables}{sep}{title}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def scen(self, name: str, code: bool = True) -> str:
        """Return a scenario's row header: its code and title (the reference marked)."""
        title = html.escape(scenario_title(self.data, name, self.lang))
        mark = f" <small>({self.t('reference')})</small>" if name == self.data.reference else ""
        c = f"<span class='code'>{self.codes[name]}</span> " if code else ""
        return f"<th class='scen'>{c}{title}{mark}</th>"

    def quoted(self, name: str) -> str:
        """Return a scenario's title in quotation marks of the language."""
        title = scenario_title(self.data, name, self.lang)
        return f"«\u202f{title}\u202f»" if self.lang == "fr" else f"“{title}”"


def _code(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"S{i + 1}"


def _interval(name: str, lo: float, hi: float, lang: str, diff: bool = False) -> str:
    sep = "\u202f;\u00a0" if lang == "fr" else "; "
    return f"[{fmt_value(name, lo, lang, diff=diff)}{sep}{fmt_value(name, hi, lang, diff=diff)}]"


def keep(block: str) -> str:
    """Wrap an introduction and its table or figure so that print keeps them on one page."""
    return f"<div class='keep'>{block}</div>"


def _missing(title: str, why: str, anchor: str = "") -> str:
    ident = f" id='{anchor}'" if anchor else ""
    return f"<section{ident}><h2>{title}</h2><p class='missing'>{why}</p></section>"


# --------------------------------------------------------------------------------------------
# first page
# --------------------------------------------------------------------------------------------


def key_messages(page: Page, stats: pd.DataFrame) -> list[str]:
    """Return 3–6 plain-language messages from the horizon values and paired differences."""
    data, lang = page.data, page.lang
    msgs: list[str] = []
    if stats.empty:
        return [text(lang, "missing_indicators", names=", ".join(KEY_INDICATORS))]
    for name, what in (("q1_share_leases_outside_qpv", "what_q1"),
                       ("q234_share_leases_inside_qpv", "what_qpv")):
        goal = targets(data)[name]
        st = stats[stats.indicator == name].set_index("scenario")
        if st.empty:
            continue
        met = [s for s in data.scenarios if s in st.index and st.at[s, "mean"] >= goal]
        if len(met) > 3:
            top = sorted(met, key=lambda s: -st.at[s, "mean"])[:3]
            who = _enumerate([f"{page.quoted(s)} ({fmt_percent(st.at[s, 'mean'], lang, 1)})"
                              for s in top], lang)
            m = text(lang, "msg_target_many", target=fmt_percent(goal, lang, 0),
                     what=text(lang, what), n=len(met), total=len(st), who=who)
        elif met:
            who = _enumerate([f"{page.quoted(s)} ({fmt_percent(st.at[s, 'mean'], lang, 1)})"
                              for s in met], lang)
            m = text(lang, "msg_target_met", target=fmt_percent(goal, lang, 0),
                     what=text(lang, what), who=who)
        else:
            best = st["mean"].idxmax()
            m = text(lang, "msg_target_none", target=fmt_percent(goal, lang, 0),
                     what=text(lang, what), best=page.quoted(best),
                     value=fmt_percent(st.at[best, "mean"], lang, 1))
        if data.reference not in met and data.reference in st.index:
            m += text(lang, "msg_target_ref",
                      value=fmt_percent(st.at[data.reference, "mean"], lang, 1))
        msgs.append(m)
    if data.single_run or len(data.scenarios) < 2:
        msgs.append(text(lang, "single_run"))
        return msgs
    for theme, names, cost in (("polarisation", POLARISATION, False),
                               ("upward", UPWARD, False), ("cost", COSTS, True)):
        changes = _significant(page, stats, names, rising_only=cost)
        if theme == "cost":
            msgs.append(text(lang, "msg_cost", who=_enumerate(changes, lang)) if changes
                        else text(lang, "msg_cost_none"))
        elif changes:
            msgs.append(text(lang, "msg_effect", what=text(lang, theme),
                             who=_enumerate(changes, lang)))
        else:
            msgs.append(text(lang, "msg_effect_none", what=text(lang, theme)))
    msgs.append(text(lang, "msg_noise", n=data.n_replicates))
    return msgs[:6]


def _significant(page: Page, stats: pd.DataFrame, names: tuple[str, ...], *,
                 rising_only: bool, limit: int = 3) -> list[str]:
    """Phrases for the scenarios whose paired difference is beyond the noise, largest first."""
    lang = page.lang
    found = []
    for _, r in stats[stats.indicator.isin(names)].iterrows():
        if r.scenario == page.data.reference:
            continue
        sign = beyond_noise(r)
        if sign == 0 or (rising_only and sign < 0):
            continue
        scale = _spread(stats, r.indicator)
        what = PHRASES.get(r.indicator, {}).get(lang) or label(r.indicator, lang).lower()
        unit = UNIT_WORDS.get(kind(r.indicator), {}).get(lang, "")
        phrase = text(lang, "msg_change", scenario=page.quoted(r.scenario),
                      verb=text(lang, "up" if sign > 0 else "down"), what=what,
                      diff=fmt_value(r.indicator, abs(r["diff"]), lang, diff=True).lstrip("+")
                      + unit,
                      lo=fmt_value(r.indicator, r.diff_p05, lang, diff=True),
                      hi=fmt_value(r.indicator, r.diff_p95, lang, diff=True))
        found.append((abs(r["diff"]) / scale, phrase))
    found.sort(key=lambda x: -x[0])
    return [p for _, p in found[:limit]]


def _spread(stats: pd.DataFrame, name: str) -> float:
    v = stats.loc[stats.indicator == name, "mean"].abs().max()
    return float(v) if v and not math.isnan(v) else 1.0


def _enumerate(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    sep = " ; " if lang == "fr" else "; "
    return sep.join(items)


def first_page(page: Page, stats: pd.DataFrame) -> str:
    """Title, question, territory, horizon and key messages."""
    data, lang = page.data, page.lang
    exp = data.experiment
    title = pick(exp, "title", lang) or str(exp.get("name", data.folder.name))
    question = pick(exp, "question", lang) or pick(exp, "description", lang)
    hh = data.epci()
    hh = hh[(hh.indicator == "households") & (hh.year == 0)]["value"]
    households = (fmt_number(float(hh.mean()) / data.scale, lang, 0) if len(hh) else "—")
    src = data.territory_source
    tname = text(lang, "territory_default") if src == "default" else Path(src).name
    rows = [(page.t("question"), page.prose(question) or "—"),
            (page.t("territory"), page.t("territory_value", name=tname, households=households,
                                         scale=fmt_number(data.scale, lang, 2))),
            (page.t("horizon"), page.t("horizon_value", years=data.horizon()))]
    facts = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    msgs = "".join(f"<li>{html.escape(m, quote=False)}</li>" for m in key_messages(page, stats))
    meta = page.t("meta", scenarios=len(data.scenarios), replicates=data.n_replicates,
                  reference=scenario_title(data, data.reference, lang),
                  date=fmt_date(_dt.date.today(), lang))
    if data.failed:
        meta += " " + page.t("failed_runs", n=data.failed)
    intro = page.t("key_intro", year=stats.attrs.get("horizon", data.horizon()),
                   reference=scenario_title(data, data.reference, lang))
    return (f"<section class='first'><p class='kicker'>{page.t('title')}</p>"
            f"<h1>{html.escape(title)}</h1><dl class='facts'>{facts}</dl>"
            f"<p class='meta'>{meta}</p>"
            f"<div class='messages' id='key-messages'><h2>{page.t('key_messages')}</h2>"
            f"<p>{intro}</p><ol>{msgs}</ol></div></section>")


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------


def scenarios_section(page: Page) -> str:
    """Show the scenarios (code, title, description, levers changed) and the levers used."""
    data, lang = page.data, page.lang
    entries = scenario_tables(data)
    rows = []
    for s in data.scenarios:
        desc = page.prose(scenario_description(data, s, lang))
        changes = "<br>".join(page.prose(describe_change(p, v, lang))
                              for p, v in overrides(entries.get(s, {})).items()) or "—"
        rows.append(f"<tr>{page.scen(s)}<td class='l'>{desc}</td>"
                    f"<td class='l'>{changes}<br><code>{html.escape(s)}</code></td></tr>")
    head = (f"<th>{page.t('col_scenario')}</th><th>{page.t('col_description')}</th>"
            f"<th>{page.t('col_changes')}</th>")
    table = page.table(page.t("scenarios"), head, rows, cls="data wide")
    used = levers_used(data)
    levers = "".join(
        f"<dt>{page.prose(getattr(LEVERS[g], lang))}</dt>"
        f"<dd>{page.prose(getattr(LEVERS[g], lang + '_desc'))}</dd>" for g in used)
    lev = (f"<h3>{page.t('levers_used')}</h3><dl class='levers'>{levers}</dl>" if used else "")
    return f"<section id='scenarios'><h2>{page.t('scenarios')}</h2>{table}{lev}</section>"


def comparison_section(page: Page, stats: pd.DataFrame) -> str:
    """Values at the horizon of the key indicators, against the CIL goals."""
    data, lang = page.data, page.lang
    if stats.empty:
        return _missing(page.t("comparison"), page.t(
            "missing_indicators", names=", ".join(KEY_INDICATORS)), "comparison")
    goals = targets(data)
    present = [n for n in KEY_INDICATORS if n in set(stats.indicator)]
    head = f"<th>{page.t('scenario')}</th>" + "".join(
        f"<th>{html.escape(label(n, lang))}</th>" for n in present)
    head += f"<th>{page.t('targets_met')}</th>"
    rows = []
    for sc in data.scenarios:
        cells, met = [], []
        for n in present:
            r = stats[(stats.scenario == sc) & (stats.indicator == n)]
            if r.empty:
                cells.append("<td>—</td>")
                continue
            r = r.iloc[0]
            txt = f"<b>{fmt_value(n, r['mean'], lang)}</b>"
            if r.n > 1:
                txt += f"<br><small>{_interval(n, r.p05, r.p95, lang)}</small>"
            cls = ""
            if n in goals:
                ok = r["mean"] >= goals[n]
                met.append(ok)
                cls = " class='ok'" if ok else " class='ko'"
            cells.append(f"<td{cls}>{txt}</td>")
        verdict = (page.t("yes") if all(met) else page.t("no")) if met else "—"
        rows.append(f"<tr>{page.scen(sc)}{''.join(cells)}<td class='c'>{verdict}</td></tr>")
    goal_text = "\u202f; ".join if lang == "fr" else "; ".join
    tgt = goal_text(f"{label(k, lang)} ≥ {fmt_percent(v, lang, 0)}" for k, v in goals.items())
    counts = [n for n in present if kind(n) == "count"]
    note = (f"<p class='note'>{html.escape(label(counts[0], lang))} : "
            f"{page.t('count_note', scale=fmt_number(data.scale, lang, 2))}</p>"
            if counts and lang == "fr" else
            f"<p class='note'>{html.escape(label(counts[0], lang))}: "
            f"{page.t('count_note', scale=fmt_number(data.scale, lang, 2))}</p>" if counts
            else "")
    horizon = stats.attrs["horizon"]
    return (f"<section id='comparison'><h2>{page.t('comparison')}</h2>"
            + keep(f"<p>{page.t('comparison_intro', year=horizon)}</p>"
                   f"<p class='note'>{page.t('targets')}{' :' if lang == 'fr' else ':'} "
                   f"{page.prose(tgt)}</p>"
                   f"{page.table(page.t('comparison'), head, rows)}{note}") + "</section>")


def differences_section(page: Page, figs: charts.Figures, stats: pd.DataFrame) -> str:
    """Paired differences to the reference: chart and table."""
    data, lang = page.data, page.lang
    if data.single_run or len(data.scenarios) < 2 or stats.empty:
        return ""
    names = [n for n in KEY_INDICATORS + ("vacancy",) if n in set(stats.indicator)]
    img = charts.differences(data, figs, stats, names, lang)
    head = f"<th>{page.t('scenario')}</th>" + "".join(
        f"<th>Δ {html.escape(label(n, lang))}</th>" for n in names)
    rows = []
    for sc in data.scenarios[1:]:
        cells = []
        for n in names:
            r = stats[(stats.scenario == sc) & (stats.indicator == n)]
            if r.empty or pd.isna(r.iloc[0].get("diff")):
                cells.append("<td>—</td>")
                continue
            r = r.iloc[0]
            sig = beyond_noise(r) != 0
            cells.append(f"<td{' class=sig' if sig else ''}>"
                         f"{fmt_value(n, r['diff'], lang, diff=True)}<br><small>"
                         f"{_interval(n, r.diff_p05, r.diff_p95, lang, diff=True)}</small></td>")
        rows.append(f"<tr>{page.scen(sc)}{''.join(cells)}</tr>")
    return (f"<section id='differences'><h2>{page.t('differences')}</h2>"
            + keep(f"<p>{page.t('differences_intro')}</p>{img}")
            + keep(f"<p>{page.t('diff_table_intro', year=stats.attrs['horizon'])}</p>"
                   f"{page.table(page.t('differences'), head, rows)}") + "</section>")


def trajectories_section(page: Page, figs: charts.Figures) -> str:
    """Key indicators over the years, small multiples against the reference."""
    e = page.data.epci()
    present = [n for n in KEY_INDICATORS if n in set(e.indicator)]
    if not present:
        return _missing(page.t("trajectories"), page.t(
            "missing_indicators", names=", ".join(KEY_INDICATORS)), "trajectories")
    imgs = charts.trajectories(page.data, figs, present, page.lang)
    missing = [n for n in KEY_INDICATORS if n not in present]
    note = (f"<p class='note'>{page.t('missing_some', names=', '.join(missing))}</p>"
            if missing else "")
    return (f"<section id='trajectories'><h2>{page.t('trajectories')}</h2>"
            f"<p>{page.t('trajectories_intro')}</p>{imgs}{note}</section>")


def map_section(page: Page, figs: charts.Figures) -> str:
    """Show the reference maps, every scenario's difference map and the per-commune table."""
    from . import report_maps as maps
    data = page.data
    if maps.neighbourhood_values(data).empty:
        return _missing(page.t("map"), page.t("missing_map"), "maps")
    try:
        base = maps.load_map_base(data)
    except (InputError, OSError) as err:  # foreign or moved territory folder
        return _missing(page.t("map"), page.t("missing_territory",
                                              err=html.escape(str(err))), "maps")
    body = maps.maps(data, base, figs, page.lang)
    discs = "" if base.has_polygons else f"<p class='note'>{page.t('map_discs')}</p>"
    page.tables += 1
    table = maps.commune_table(data, base, page.lang, page.codes, page.tables)
    return (f"<section id='maps'><h2>{page.t('map')}</h2><p>{page.t('map_intro')}</p>{discs}"
            f"{body}" + keep(f"<h3>{page.t('communes')}</h3><p>{page.t('communes_intro')}</p>"
                             f"{table}") + "</section>")


def cohort_section(page: Page, figs: charts.Figures) -> str:
    """Transition matrices of the starting cohort, every scenario."""
    img = charts.cohort(page.data, figs, page.lang)
    if not img:
        return _missing(page.t("cohort"), page.t("missing_cohort"), "cohort")
    return (f"<section id='cohort'><h2>{page.t('cohort')}</h2><p>{page.t('cohort_intro')}</p>"
            f"{img}</section>")


def monitoring_section(page: Page) -> str:
    """Allocation monitoring at the horizon, as a CIL / ANCOLS report reads it (two tables)."""
    data, lang = page.data, page.lang
    every = tuple(n for group in MONITORING for n in group)
    stats = horizon_stats(data, every)
    if stats.empty:
        return _missing(page.t("monitoring"), page.t("missing_indicators",
                                                     names=", ".join(every)), "monitoring")
    tables = []
    for group in MONITORING:
        present = [n for n in group if n in set(stats.indicator)]
        if not present:
            continue
        head = f"<th>{page.t('scenario')}</th>" + "".join(
            f"<th>{html.escape(label(n, lang))}</th>" for n in present)
        rows = []
        for sc in data.scenarios:
            cells = []
            for n in present:
                r = stats[(stats.scenario == sc) & (stats.indicator == n)]
                cells.append(f"<td>{fmt_value(n, r['mean'].iloc[0], lang)}</td>" if len(r)
                             else "<td>—</td>")
            rows.append(f"<tr>{page.scen(sc)}{''.join(cells)}</tr>")
        tables.append(page.table(page.t("monitoring"), head, rows))
    intro = page.t("monitoring_intro", year=stats.attrs["horizon"])
    return (f"<section id='monitoring'><h2>{page.t('monitoring')}</h2>"
            + keep(f"<p>{intro}</p>{tables[0]}") + "".join(tables[1:]) + "</section>")


def sensitivity_section(page: Page, figs: charts.Figures) -> str:
    """Sobol' / Morris indices when a sensitivity analysis was written into the folder."""
    folder, lang = page.data.folder, page.lang
    path = next((p for p in (folder / "sensitivity" / "indices.csv", folder / "indices.csv")
                 if p.is_file()), None)
    if path is None:
        return ""
    df = pd.read_csv(path)
    outcomes = list(pd.unique(df["outcome"]))[:4]
    imgs = "".join(charts.sensitivity(df, figs, lang, o, i) for i, o in enumerate(outcomes))
    cols = [c for c in ("S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf", "sigma")
            if c in df.columns]
    names = {"S1": "S1", "S1_conf": "± S1", "ST": "ST", "ST_conf": "± ST", "mu_star": "μ*",
             "mu_star_conf": "± μ*", "sigma": "σ"}
    head = (f"<th>{page.t('col_outcome')}</th><th>{page.t('col_parameter')}</th>"
            + "".join(f"<th>{names[c]}</th>" for c in cols))
    rows = [f"<tr><th>{html.escape(label(r.outcome, lang))}</th><td class='l'>"
            f"{html.escape(str(r.parameter))}</td>"
            + "".join(f"<td>{fmt_number(float(r[c]), lang, 2)}</td>" for c in cols) + "</tr>"
            for _, r in df[df.outcome.isin(outcomes)].iterrows()]
    return (f"<section id='sensitivity'><h2>{page.t('sensitivity')}</h2>"
            f"<p>{page.t('sensitivity_intro')}</p>{imgs}"
            f"{page.table(page.t('sensitivity'), head, rows)}</section>")


def calibration_section(page: Page) -> str:
    """Show the calibration fit table when ``fit.csv`` is in the folder."""
    folder, lang = page.data.folder, page.lang
    path = next((p for p in (folder / "calibration" / "fit.csv", folder / "fit.csv")
                 if p.is_file()), None)
    if path is None:
        return ""
    fit = pd.read_csv(path)
    cols = [c for c in ("observed", "simulated", "simulated_p05", "simulated_p95", "tolerance",
                        "within_tolerance") if c in fit.columns]
    head = f"<th>{page.t('col_target')}</th>" + "".join(
        f"<th>{page.t('col_' + c)}</th>" for c in cols)
    rows = []
    for _, r in fit.iterrows():
        name = str(r.get("target", ""))
        cells = []
        for c in cols:
            v = r[c]
            if c == "within_tolerance":
                ok = bool(v) if not pd.isna(v) else False
                cells.append(f"<td class='{'ok' if ok else 'ko'} c'>"
                             f"{page.t('yes' if ok else 'no')}</td>")
            else:
                cells.append(f"<td>{fmt_value(name, float(v), lang)}</td>")
        rows.append(f"<tr><th>{html.escape(label(name, lang))}</th>{''.join(cells)}</tr>")
    return (f"<section id='calibration'><h2>{page.t('calibration')}</h2>"
            f"<p>{page.t('calibration_intro')}</p>"
            f"{page.table(page.t('calibration'), head, rows)}</section>")


def validation_table(page: Page) -> str:
    """Compare the territory's calibration targets with the reference scenario, per band."""
    data, lang = page.data, page.lang
    try:
        tg = _territory_targets(data.territory_source)
    except InputError:
        tg = None
    if tg is None:
        return f"<p class='note'>{page.t('validation_none')}</p>"
    e = data.epci()
    e = e[e.scenario == data.reference]
    horizon = data.horizon()
    first = tg.burn_in + 1 if horizon > tg.burn_in else 1
    bands = [(a, min(a + 4, horizon)) for a in range(first, horizon + 1, 5)]
    head = (f"<th>{page.t('col_target')}</th><th>{page.t('col_value')}</th>"
            + "".join(f"<th>{page.t('col_band', a=a, b=b)}</th>" for a, b in bands))
    rows, missing = [], []
    for t in tg.targets:
        d = e[e.indicator == t.indicator]
        if d.empty:
            missing.append(t.indicator)
            continue
        cells = []
        for a, b in bands:
            per_rep = d[(d.year >= a) & (d.year <= b)].groupby("replicate")["value"].mean()
            per_rep = per_rep.dropna()
            if per_rep.empty:
                cells.append("<td>—</td>")
                continue
            m = per_rep.mean()
            ok = abs(m - t.value) <= t.tolerance
            lo, hi = per_rep.quantile(0.05), per_rep.quantile(0.95)
            iv = (f"<br><small>{_interval(t.name, lo, hi, lang)}</small>" if len(per_rep) > 1
                  else "")
            cells.append(f"<td class='{'ok' if ok else 'ko'}'>{fmt_value(t.name, m, lang)}"
                         f"{iv}</td>")
        tol = "\u00a0±\u00a0" + fmt_value(t.name, t.tolerance, lang)
        rows.append(f"<tr><th>{html.escape(label(t.name, lang))}</th>"
                    f"<td>{fmt_value(t.name, t.value, lang)}<small>{tol}</small></td>"
                    f"{''.join(cells)}</tr>")
    note = (f"<p class='note'>{page.t('validation_missing', names=', '.join(missing))}</p>"
            if missing else "")
    return keep(f"<p>{page.t('validation_intro')}</p>"
                f"{page.table(page.t('validation'), head, rows)}{note}")


def _territory_targets(source: str):
    """Return a territory's calibration targets.

    The national ones for the default territory, else the folder's ``targets.toml`` (``None``
    when it has none).
    """
    from mixsim.calibration.targets import default_targets, load_targets
    if source == "default":
        return default_targets()
    if (Path(source) / "targets.toml").is_file():
        return load_targets(source)
    return None


def annex_section(page: Page) -> str:
    """Show the annex: validation, glossary, assumptions and limits, data sources."""
    lang = page.lang
    gloss = "".join(f"<dt>{page.prose(k)}</dt><dd>{page.prose(v)}</dd>"
                    for k, v in GLOSSARY[lang])
    assumptions = "".join(f"<li>{page.prose(a)}</li>" for a in ASSUMPTIONS[lang])
    sources = "".join(f"<li>{page.prose(s)}</li>" for s in SOURCES[lang])
    return (f"<section id='annex' class='annex'><h2>{page.t('annex')}</h2>"
            f"<h3>{page.t('validation')}</h3>{validation_table(page)}"
            f"<h3>{page.t('glossary')}</h3><dl class='glossary'>{gloss}</dl>"
            f"<h3>{page.t('assumptions')}</h3><ul>{assumptions}</ul>"
            f"<h3>{page.t('sources')}</h3><ul>{sources}</ul></section>")


CSS = """
:root{--accent:#0072B2}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;
max-width:1200px;color:#222;padding:1.5em 1.2em;line-height:1.4}
h1{font-size:1.8em;margin:.1em 0 .5em}h2{border-bottom:2px solid var(--accent);
padding-bottom:.2em;margin-top:2em;font-size:1.3em}h3{font-size:1.05em;margin-top:1.4em}
.kicker{color:var(--accent);font-weight:600;text-transform:uppercase;letter-spacing:.05em;
margin:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em;font-size:1.05em}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.messages{background:#f2f7fb;border-left:5px solid var(--accent);padding:.2em 1.2em 1em}
.messages h2{border:none;margin-top:.6em}.messages li{margin:.45em 0}
table{border-collapse:collapse;font-size:.8em;margin:.8em 0;width:100%;table-layout:fixed;
break-inside:avoid;page-break-inside:avoid}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0;color:#333}
td,th{border:1px solid #ccc;padding:.3em .4em;text-align:right;vertical-align:top;
overflow-wrap:break-word;hyphens:auto}
th{background:#f5f5f5;text-align:left;font-weight:600}thead th{vertical-align:bottom}
th.scen{width:13em}table.wide th.scen{width:16em}td.l{text-align:left}td.c{text-align:center}
td.ok{background:#e1f0fa}td.ko{background:#fbe6d4}td.sig{font-weight:700}
.code{display:inline-block;min-width:1.6em;padding:0 .25em;border-radius:3px;
background:#333;color:#fff;text-align:center;font-size:.85em}
code{font-size:.8em;color:#666;overflow-wrap:anywhere}
.note{color:#555;font-size:.9em}
.missing{background:#fff7e0;border-left:4px solid #e6a700;padding:.6em}
figure{margin:.8em 0;break-inside:avoid;page-break-inside:avoid}
img{max-width:100%;height:auto;display:block}
.meta{color:#666;font-size:.85em}
dl.levers dt,dl.glossary dt{font-weight:600;margin-top:.5em}dl.levers dd,dl.glossary dd{
margin-left:1.2em}
footer{margin-top:3em;border-top:1px solid #ccc;padding-top:.5em}
@media print{
@page{size:A4;margin:14mm 12mm}
body{max-width:none;padding:0;font-size:10pt}
h2,h3,caption{break-after:avoid;page-break-after:avoid}
h2+p,h3+p,h2+div.keep,h3+div.keep{break-before:avoid;page-break-before:avoid}
div.keep{break-inside:avoid;page-break-inside:avoid}
dt{break-after:avoid;page-break-after:avoid}dd{break-inside:avoid}
section.first{break-after:page;page-break-after:always}
section{break-before:auto}
table,figure,dl.facts,.messages li,tr{break-inside:avoid;page-break-inside:avoid}
img{max-height:240mm;width:auto;max-width:100%}
thead{display:table-header-group}
.messages{background:none;border-left:3px solid var(--accent)}
td.ok{background:#e1f0fa !important}td.ko{background:#fbe6d4 !important}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

CHECK_IMAGES = """
<script>
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img'), ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; }
  }
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
  document.body.setAttribute('data-scroll-width', document.documentElement.scrollWidth);
});
</script>
"""


def report_path(folder: Path, lang: str, suffix: str = "html") -> Path:
    """``FOLDER/report.<lang>.<suffix>``: one file per language."""
    return Path(folder) / f"report.{lang}.{suffix}"


def build_report(folder: str | Path, *, lang: str = "fr", reference: str | None = None
                 ) -> Path:
    """Write ``report.<lang>.html`` (and ``figures/<lang>/*.png|svg``) into an output folder."""
    if lang not in LANGS:
        raise InputError(f"got {lang!r}; allowed: {', '.join(LANGS)}", source="--lang")
    folder = Path(folder)
    data = load_folder_data(folder, reference)
    figs = charts.Figures(folder / "figures" / lang, lang)
    page = Page(data, lang)
    stats = horizon_stats(data, tuple(dict.fromkeys(KEY_INDICATORS + POLARISATION + UPWARD
                                                    + COSTS)))
    sections = [
        first_page(page, stats),
        scenarios_section(page),
        comparison_section(page, stats),
        differences_section(page, figs, stats),
        trajectories_section(page, figs),
        map_section(page, figs),
        cohort_section(page, figs),
        monitoring_section(page),
        sensitivity_section(page, figs),
        calibration_section(page),
        annex_section(page),
    ]
    from mixsim.model import __version__
    exp = data.experiment
    title = html.escape(pick(exp, "title", lang) or str(exp.get("name", folder.name)))
    out = report_path(folder, lang)
    page_html = (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{page.t('title')} — {title}</title><style>{CSS}</style></head><body>"
        f"{''.join(sections)}<footer class='meta'>{page.t('footer', version=__version__)}"
        f"</footer>{CHECK_IMAGES}</body></html>")
    from .common import write_atomic
    write_atomic(out, lambda p: p.write_text(page_html, encoding="utf-8"))
    return out


# --------------------------------------------------------------------------------------------
# PDF through headless Chromium
# --------------------------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Path of a Chromium (or Chrome) executable: ``$MIXSIM_CHROMIUM``, else on the PATH."""
    env = os.environ.get("MIXSIM_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """Return the Chromium executable, or raise InputError saying how to get one."""
    exe = find_chromium()
    if exe is None:
        raise InputError("no Chromium found to print the PDF: install it (Debian/Ubuntu: "
                         "`apt install chromium`) or set MIXSIM_CHROMIUM to its path; without "
                         "--pdf the HTML report prints from any browser", source="--pdf")
    return exe


def chromium_flags(exe: str, profile: str) -> list[str]:
    """Return the command line of a headless, offline Chromium run.

    No sandbox (it runs as the user, on a local file), no network services, no first-run, a
    throw-away profile.
    """
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}"]


def print_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 180.0) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, the page's print stylesheet).

    Raises:
        InputError: When no Chromium is found or it fails (the CLI exits with code 2).
    """
    exe = require_chromium()
    with tempfile.TemporaryDirectory(prefix="mixsim-chromium-") as profile:
        pdf_path = Path(pdf_path).resolve()
        tmp = pdf_path.with_name(f".{pdf_path.name}.tmp")
        cmd = chromium_flags(exe, profile) + ["--no-pdf-header-footer",
                                              "--virtual-time-budget=5000",
                                              f"--print-to-pdf={tmp}",
                                              Path(html_path).resolve().as_uri()]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise InputError(f"Chromium failed to print the PDF: {err}", source=exe) from None
        if r.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            tail = (r.stderr or "").strip().splitlines()[-3:]
            tmp.unlink(missing_ok=True)
            raise InputError(f"Chromium failed to print the PDF (exit {r.returncode}): "
                             f"{' / '.join(tail)}", source=exe)
        os.replace(tmp, pdf_path)
    return pdf_path

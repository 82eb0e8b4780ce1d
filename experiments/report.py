"""``mixsim report OUT_DIR``: one self-contained HTML page from an experiment's output folder.

The page is for a CIL meeting: it opens on any laptop without network (figures embedded), in
French or English, and shows at a glance:

* the lever comparison against the reference scenario at the horizon (mean, 90 % interval,
  paired difference), with the CIL targets met or missed;
* trajectories of the key indicators over the years, one line per scenario with its band;
* a schematic map of the neighbourhoods coloured by the Q1 share at the start and the horizon;
* the residential trajectories of the starting cohort (transition matrices);
* allocation monitoring as a CIL reads it;
* sensitivity and calibration sections when those outputs are in the folder.

The figures are also written as PNG and SVG into ``OUT_DIR/figures``. A section whose data is not
in the folder says what is missing and how to get it, instead of failing.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import html
import io
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mixsim.model.errors import InputError

from .report_i18n import LABELS, TEXT, fmt_number, fmt_percent

KEY_INDICATORS = ("dissimilarity_q1_by_neighbourhoods", "q1_share_in_qpv",
                  "q1_share_leases_outside_qpv", "exits_to_ownership", "median_wait_months")
MONITORING = ("q1_share_leases_outside_qpv", "q234_share_leases_inside_qpv", "priority_share",
              "transfer_share", "turnover", "vacancy", "applicants_per_allocation",
              "median_wait_months", "refusal_rate", "exits_to_ownership",
              "exits_to_private_rental")
PERCENT = {"q1_share_in_qpv", "q1_share_leases_outside_qpv", "q234_share_leases_inside_qpv",
           "q1_share_of_qpv_households", "turnover", "vacancy", "refusal_rate", "priority_share",
           "transfer_share", "q1_share"}
REQUIRED = ("runs.parquet", "indicators.parquet")


@dataclass
class ReportData:
    """What the report found in the folder."""

    folder: Path
    runs: pd.DataFrame
    indicators: pd.DataFrame
    summary: pd.DataFrame | None
    experiment: dict
    reference: str | None
    missing: list[str] = field(default_factory=list)


def load_folder_data(folder: Path, reference: str | None = None) -> ReportData:
    """Read an experiment output folder; raise InputError when it is not one."""
    if not folder.is_dir():
        raise InputError("not a folder", source=str(folder))
    absent = [f for f in REQUIRED if not (folder / f).is_file()]
    if absent:
        present = sorted(p.name for p in folder.iterdir())[:8]
        raise InputError(f"not an experiment output folder: missing {', '.join(absent)} "
                         f"(found: {', '.join(present) or 'nothing'}); run `mixsim experiment "
                         "FILE.toml --out FOLDER` first", source=str(folder))
    try:
        runs = pd.read_parquet(folder / "runs.parquet")
        ind = pd.read_parquet(folder / "indicators.parquet")
    except Exception as err:  # a damaged file: say which
        raise InputError(f"cannot read the tables: {err}", source=str(folder)) from None
    need = {"run_id", "scenario", "replicate", "year", "scale", "unit", "indicator", "value"}
    if not need <= set(ind.columns):
        raise InputError(f"indicators.parquet lacks columns {sorted(need - set(ind.columns))}",
                         source=str(folder))
    if "status" in runs.columns:
        ok = runs.loc[runs.status == "ok", "run_id"]
        ind = ind[ind.run_id.isin(ok)]
    exp: dict = {}
    if (folder / "experiment.toml").is_file():
        try:
            exp = tomllib.loads((folder / "experiment.toml").read_text())
        except tomllib.TOMLDecodeError:
            exp = {}
    summary = pd.read_csv(folder / "summary.csv") if (folder / "summary.csv").is_file() else None
    scenarios = list(dict.fromkeys(ind["scenario"]))
    ref = reference or exp.get("reference") or (scenarios[0] if scenarios else None)
    if ref is not None and ref not in scenarios:
        raise InputError(f"reference scenario {ref!r} not in this experiment; scenarios: "
                         f"{', '.join(scenarios)}", source="--reference")
    if ind.empty:
        raise InputError("no finished run in this folder (every run failed or none ran)",
                         source=str(folder))
    return ReportData(folder, runs, ind, summary, exp, ref)


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


class Figures:
    """Renders matplotlib figures to PNG and SVG files and to embeddable data URIs."""

    def __init__(self, out: Path, lang: str):
        import matplotlib
        matplotlib.use("Agg")
        self.out = out
        self.lang = lang
        out.mkdir(parents=True, exist_ok=True)

    def save(self, fig, name: str) -> str:
        """Write ``name.png`` and ``name.svg``; return an ``<img>`` tag with the PNG embedded."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        (self.out / f"{name}.png").write_bytes(buf.getvalue())
        fig.savefig(self.out / f"{name}.svg", format="svg", bbox_inches="tight")
        import matplotlib.pyplot as plt
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode()
        return f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'

    def axis_format(self, ax, percent: bool = False) -> None:
        """Tick labels in the report's language (decimal comma in French)."""
        from matplotlib.ticker import FuncFormatter

        def f(v, _pos):
            return fmt_percent(v, self.lang, 0) if percent else fmt_number(v, self.lang)
        ax.yaxis.set_major_formatter(FuncFormatter(f))


def label(name: str, lang: str) -> str:
    """Return the indicator label in the language (the name itself when unknown)."""
    return LABELS.get(name, {}).get(lang, name.replace("_", " "))


def value_text(name: str, v: float, lang: str, signed: bool = False) -> str:
    """Format a value for its indicator (percentages for shares)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if name in PERCENT:
        if signed:
            return ("+" if v > 0 else "") + fmt_number(100 * v, lang, 1) + (
                " pt" if lang == "en" else " pt")
        return fmt_percent(v, lang, 1)
    digits = 3 if abs(v) < 1 else (1 if abs(v) < 100 else 0)
    return ("+" if signed and v > 0 else "") + fmt_number(v, lang, digits)


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------


def _epci(data: ReportData) -> pd.DataFrame:
    i = data.indicators
    return i[(i.scale == "epci") & (i.unit == "EPCI")]


def _horizon_stats(data: ReportData, names: tuple[str, ...]) -> pd.DataFrame:
    """Per scenario and indicator at the horizon: mean, p05, p95 and the paired difference."""
    e = _epci(data)
    e = e[e.indicator.isin(names)]
    if e.empty:
        return pd.DataFrame()
    horizon = int(e.year.max())
    h = e[e.year == horizon]
    wide = h.pivot_table(index=["scenario", "replicate"], columns="indicator", values="value",
                         aggfunc="first")
    rows = []
    scen_level = wide.index.get_level_values(0)
    ref = wide.xs(data.reference, level="scenario") if data.reference in scen_level else None
    for sc in dict.fromkeys(h.scenario):
        w = wide.xs(sc, level="scenario")
        for name in names:
            if name not in w.columns:
                continue
            x = w[name].dropna()
            r = {"scenario": sc, "indicator": name, "mean": x.mean(),
                 "p05": x.quantile(0.05), "p95": x.quantile(0.95), "n": len(x)}
            if ref is not None and name in ref.columns:
                d = (w[name] - ref[name]).dropna()
                r.update(diff=d.mean(), diff_p05=d.quantile(0.05), diff_p95=d.quantile(0.95))
            rows.append(r)
    out = pd.DataFrame(rows)
    out.attrs["horizon"] = horizon
    return out


def _targets(data: ReportData) -> dict[str, float]:
    """Return the CIL targets: the quota shares of the base levers (legal defaults)."""
    lev = data.experiment.get("levers", {}) if isinstance(data.experiment, dict) else {}
    q1 = lev.get("quota_q1", {}).get("share", 0.25)
    qpv = lev.get("quota_qpv", {}).get("share", 0.5)
    return {"q1_share_leases_outside_qpv": float(q1), "q234_share_leases_inside_qpv": float(qpv)}


def comparison_section(data: ReportData, lang: str) -> str:
    """Lever comparison table against the reference scenario."""
    t = TEXT[lang]
    names = tuple(dict.fromkeys(KEY_INDICATORS + ("q234_share_leases_inside_qpv",)))
    st = _horizon_stats(data, names)
    if st.empty:
        return _missing(t["comparison"], t["missing_indicators"].format(names=", ".join(names)))
    targets = _targets(data)
    horizon = st.attrs["horizon"]
    scen = list(dict.fromkeys(st.scenario))
    present = [n for n in names if n in set(st.indicator)]
    head = "".join(f"<th>{html.escape(label(n, lang))}</th>" for n in present)
    head += f"<th>{t['targets_met']}</th>"
    body = []
    for sc in scen:
        cells = []
        met_all = []
        for n in present:
            r = st[(st.scenario == sc) & (st.indicator == n)]
            if r.empty:
                cells.append("<td>—</td>")
                continue
            r = r.iloc[0]
            txt = (f"<b>{value_text(n, r['mean'], lang)}</b><br><small>["
                   f"{value_text(n, r.p05, lang)} ; {value_text(n, r.p95, lang)}]</small>")
            if sc != data.reference and "diff" in r and not pd.isna(r.get("diff")):
                txt += (f"<br><small>Δ {value_text(n, r['diff'], lang, signed=True)} "
                        f"[{value_text(n, r.diff_p05, lang, True)} ; "
                        f"{value_text(n, r.diff_p95, lang, True)}]</small>")
            cls = ""
            if n in targets:
                ok = r["mean"] >= targets[n]
                met_all.append(ok)
                cls = ' class="ok"' if ok else ' class="ko"'
            cells.append(f"<td{cls}>{txt}</td>")
        verdict = (t["yes"] if met_all and all(met_all) else t["no"]) if met_all else "—"
        ref_mark = f" <small>({t['reference']})</small>" if sc == data.reference else ""
        body.append(f"<tr><th>{html.escape(sc)}{ref_mark}</th>{''.join(cells)}"
                    f"<td>{verdict}</td></tr>")
    tgt = "; ".join(f"{label(k, lang)} ≥ {fmt_percent(v, lang, 0)}" for k, v in targets.items())
    return (f"<section><h2>{t['comparison']}</h2><p>{t['comparison_intro'].format(year=horizon)}"
            f"</p><p class='note'>{t['targets']} : {html.escape(tgt)}</p>"
            f"<table><tr><th>{t['scenario']}</th>{head}</tr>{''.join(body)}</table></section>")


def trajectories_section(data: ReportData, figs: Figures, lang: str) -> str:
    """Key indicators over the years: one line per scenario with its 5–95 % band."""
    import matplotlib.pyplot as plt
    t = TEXT[lang]
    e = _epci(data)
    present = [n for n in KEY_INDICATORS if n in set(e.indicator)]
    if not present:
        return _missing(t["trajectories"],
                        t["missing_indicators"].format(names=", ".join(KEY_INDICATORS)))
    from matplotlib.ticker import MaxNLocator
    ncol = min(3, len(present))
    nrow = math.ceil(len(present) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.6 * nrow), squeeze=False)
    flat = axes.ravel()
    for ax in flat[len(present):]:
        ax.set_visible(False)
    for ax, name in zip(flat, present, strict=False):
        d = e[e.indicator == name].dropna(subset=["value"])
        for sc in dict.fromkeys(d.scenario):
            g = d[d.scenario == sc].groupby("year")["value"]
            m, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
            line, = ax.plot(m.index, m.values, label=sc,
                            lw=2.4 if sc == data.reference else 1.5)
            ax.fill_between(m.index, lo.values, hi.values, alpha=0.15, color=line.get_color())
        ax.set_title(label(name, lang), fontsize=10)
        ax.set_xlabel(t["year"])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        figs.axis_format(ax, percent=name in PERCENT)
    flat[0].legend(fontsize=8, loc="best")
    fig.tight_layout()
    img = figs.save(fig, "trajectories")
    missing = [n for n in KEY_INDICATORS if n not in present]
    note = (f"<p class='note'>{t['missing_some'].format(names=', '.join(missing))}</p>"
            if missing else "")
    return (f"<section><h2>{t['trajectories']}</h2><p>{t['trajectories_intro']}</p>{img}{note}"
            "</section>")


def map_section(data: ReportData, figs: Figures, lang: str) -> str:
    """Neighbourhoods at their coordinates, coloured by Q1 share at the start and the horizon."""
    import matplotlib.pyplot as plt
    t = TEXT[lang]
    i = data.indicators
    nb_rows = i[(i.scale == "neighbourhood") & (i.indicator == "q1_share")]
    if nb_rows.empty:
        return _missing(t["map"], t["missing_map"])
    try:
        from mixsim.model.territory import load_territory
        terr = data.experiment.get("territory", {})
        territory = load_territory(terr.get("source", "default"), 1.0)
    except Exception as err:  # foreign or moved territory folder
        return _missing(t["map"], t["missing_territory"].format(err=html.escape(str(err))))
    nbdf = territory.neighbourhoods.set_index("neighbourhood")
    ref = nb_rows[nb_rows.scenario == data.reference]
    horizon = int(ref.year.max())
    scen = [data.reference] + [s for s in dict.fromkeys(nb_rows.scenario)
                               if s != data.reference][:2]
    panels = [(data.reference, 0)] + [(s, horizon) for s in scen]
    ncol = min(2, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    ratio = (np.ptp(nbdf.y) + 1.0) / (np.ptp(nbdf.x) + 1.0)
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.0 * ncol, (6.0 * ratio + 0.7) * nrow),
                             squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    vmax = float(nb_rows.value.quantile(0.98)) or 1.0
    sc_plot = None
    for ax, (sc, year) in zip(axes.ravel(), panels, strict=False):
        d = nb_rows[(nb_rows.scenario == sc) & (nb_rows.year == year)]
        v = d.groupby("unit")["value"].mean()
        xy = nbdf.loc[v.index]
        qpv = xy.qpv.astype(int).to_numpy() == 1
        sc_plot = ax.scatter(xy.x, xy.y, c=v.values, s=70, cmap="OrRd", vmin=0,
                             vmax=vmax, edgecolors=np.where(qpv, "black", "none"),
                             linewidths=np.where(qpv, 2.0, 0.0))
        ax.set_title(f"{sc} — {t['year']} {year}" if year else f"{t['start']}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    cb = fig.colorbar(sc_plot, ax=axes.ravel().tolist(), shrink=0.8)
    cb.set_label(label("q1_share", lang))
    from matplotlib.ticker import FuncFormatter
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_percent(v, lang, 0)))
    img = figs.save(fig, "map_q1_share")
    return (f"<section><h2>{t['map']}</h2><p>{t['map_intro']}</p>{img}</section>")


def cohort_section(data: ReportData, figs: Figures, lang: str) -> str:
    """Transition matrices of the starting cohort (QPV / non-QPV / gone), per scenario."""
    import matplotlib.pyplot as plt
    t = TEXT[lang]
    i = data.indicators
    tr = i[i.indicator.str.startswith("transition_qpv_") & ~i.indicator.str.endswith("_social")]
    if tr.empty:
        return _missing(t["cohort"], t["missing_cohort"])
    scen = list(dict.fromkeys(tr.scenario))[:4]
    rows, cols = ("qpv", "non_qpv"), ("qpv", "non_qpv", "gone")
    names = {"qpv": t["qpv"], "non_qpv": t["non_qpv"], "gone": t["gone"]}
    fig, axes = plt.subplots(1, len(scen), figsize=(3.6 * len(scen), 3.0), squeeze=False)
    for ax, sc in zip(axes[0], scen, strict=True):
        d = tr[tr.scenario == sc].groupby("indicator")["value"].mean()
        m = np.array([[d.get(f"transition_qpv_{a}_to_{b}", np.nan) for b in cols] for a in rows])
        ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
        for r in range(2):
            for c in range(3):
                ax.text(c, r, fmt_percent(m[r, c], lang, 0), ha="center", va="center",
                        fontsize=9, color="white" if m[r, c] > 0.6 else "black")
        ax.set_xticks(range(3), [names[c] for c in cols], fontsize=8)
        ax.set_yticks(range(2), [names[r] for r in rows], fontsize=8)
        ax.set_title(sc, fontsize=9)
        ax.set_xlabel(t["at_horizon"], fontsize=8)
    axes[0][0].set_ylabel(t["at_start"], fontsize=8)
    fig.tight_layout()
    img = figs.save(fig, "cohort_transitions")
    return f"<section><h2>{t['cohort']}</h2><p>{t['cohort_intro']}</p>{img}</section>"


def monitoring_section(data: ReportData, lang: str) -> str:
    """Allocation monitoring at the horizon, as a CIL / ANCOLS report reads it."""
    t = TEXT[lang]
    st = _horizon_stats(data, MONITORING)
    if st.empty:
        return _missing(t["monitoring"], t["missing_indicators"].format(
            names=", ".join(MONITORING)))
    scen = list(dict.fromkeys(st.scenario))
    present = [n for n in MONITORING if n in set(st.indicator)]
    head = "".join(f"<th>{html.escape(s)}</th>" for s in scen)
    body = []
    for n in present:
        cells = []
        for sc in scen:
            r = st[(st.scenario == sc) & (st.indicator == n)]
            cells.append(f"<td>{value_text(n, r['mean'].iloc[0], lang)}</td>" if len(r)
                         else "<td>—</td>")
        body.append(f"<tr><th>{html.escape(label(n, lang))}</th>{''.join(cells)}</tr>")
    intro = t["monitoring_intro"].format(year=st.attrs["horizon"])
    return (f"<section><h2>{t['monitoring']}</h2><p>{intro}</p><table><tr><th></th>{head}</tr>"
            f"{''.join(body)}</table></section>")


def sensitivity_section(data: ReportData, figs: Figures, lang: str) -> str:
    """Sobol' / Morris indices when a sensitivity analysis was written into the folder."""
    t = TEXT[lang]
    path = next((p for p in (data.folder / "sensitivity" / "indices.csv",
                             data.folder / "indices.csv") if p.is_file()), None)
    if path is None:
        return ""
    from .sensitivity import plot_indices
    df = pd.read_csv(path)
    imgs = "".join(figs.save(plot_indices(df, o), f"sensitivity_{i}")
                   for i, o in enumerate(df.outcome.unique()[:4]))
    return f"<section><h2>{t['sensitivity']}</h2><p>{t['sensitivity_intro']}</p>{imgs}</section>"


def calibration_section(data: ReportData, lang: str) -> str:
    """Show the calibration fit table when ``fit.csv`` is in the folder."""
    t = TEXT[lang]
    path = next((p for p in (data.folder / "calibration" / "fit.csv", data.folder / "fit.csv")
                 if p.is_file()), None)
    if path is None:
        return ""
    fit = pd.read_csv(path)
    cols = [c for c in fit.columns if c in ("target", "observed", "simulated_mean", "sim_p05",
                                            "sim_p95", "tolerance", "within_tolerance")]
    head = "".join(f"<th>{html.escape(t.get('col_' + c, c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(
        f"<td>{html.escape(_cell(r[c], lang))}</td>" for c in cols) + "</tr>"
        for _, r in fit.iterrows())
    return (f"<section><h2>{t['calibration']}</h2><p>{t['calibration_intro']}</p>"
            f"<table><tr>{head}</tr>{body}</table></section>")


def _cell(v, lang: str) -> str:
    if isinstance(v, bool | np.bool_):
        return TEXT[lang]["yes"] if v else TEXT[lang]["no"]
    if isinstance(v, int | float | np.floating):
        return fmt_number(float(v), lang, 3)
    return label(str(v), lang)


def _missing(title: str, why: str) -> str:
    return f"<section><h2>{title}</h2><p class='missing'>{why}</p></section>"


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;
max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #c0392b;padding-bottom:.2em;
margin-top:2em;font-size:1.25em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ccc;
padding:.35em .6em;text-align:right;vertical-align:top}th{background:#f5f5f5;text-align:left}
td.ok{background:#e3f4e1}td.ko{background:#fbe3e0}.note{color:#555;font-size:.9em}
.missing{background:#fff7e0;border-left:4px solid #e6a700;padding:.6em}
img{max-width:100%;height:auto}.meta{color:#666;font-size:.85em}
"""

CHECK_IMAGES = """
<script>
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img'), ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; }
  }
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
</script>
"""


def build_report(folder: str | Path, *, lang: str = "fr", reference: str | None = None
                 ) -> Path:
    """Write ``report.html`` (and ``figures/*.png|svg``) into an experiment's output folder."""
    if lang not in TEXT:
        raise InputError(f"got {lang!r}; allowed: {', '.join(TEXT)}", source="--lang")
    folder = Path(folder)
    data = load_folder_data(folder, reference)
    t = TEXT[lang]
    figs = Figures(folder / "figures", lang)
    exp = data.experiment
    n_rep = int(data.runs["replicate"].nunique()) if "replicate" in data.runs else 0
    failed = int((data.runs.get("status", pd.Series(dtype=str)) != "ok").sum())
    terr = exp.get("territory", {}) if isinstance(exp, dict) else {}
    meta = t["meta"].format(
        scenarios=data.indicators.scenario.nunique(), replicates=n_rep,
        years=int(data.indicators.year.max()), territory=html.escape(str(terr.get(
            "source", "?"))), scale=fmt_number(float(terr.get("scale", float("nan"))), lang, 2),
        reference=html.escape(str(data.reference)),
        date=_dt.date.today().isoformat())
    if failed:
        meta += " " + t["failed_runs"].format(n=failed)
    sections = [
        comparison_section(data, lang),
        trajectories_section(data, figs, lang),
        map_section(data, figs, lang),
        cohort_section(data, figs, lang),
        monitoring_section(data, lang),
        sensitivity_section(data, figs, lang),
        calibration_section(data, lang),
    ]
    title = html.escape(str(exp.get("name", folder.name)))
    desc = html.escape(str(exp.get("description", "")))
    page = (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{t['title']} — {title}</title><style>{CSS}</style></head><body>"
            f"<h1>{t['title']} — {title}</h1><p>{desc}</p><p class='meta'>{meta}</p>"
            f"{''.join(sections)}<p class='meta'>{t['footer']}</p>{CHECK_IMAGES}</body></html>")
    from .cli import write_atomic
    out = folder / "report.html"
    write_atomic(out, lambda p: p.write_text(page, encoding="utf-8"))
    return out


def add_parser(sub) -> None:
    """Register ``mixsim report``."""
    p = sub.add_parser("report", help="self-contained HTML report of an experiment's outputs",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="the experiment's output folder (--out)")
    p.add_argument("--lang", default="fr", choices=("fr", "en"), help="language (default fr)")
    p.add_argument("--reference", help="reference scenario (default: the experiment's)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``mixsim report`` (holding the experiment folder's lock while writing)."""
    from mixsim.experiments.outdir import OutDir
    with OutDir(args.folder, "report", option="folder"):
        out = build_report(args.folder, lang=args.lang, reference=args.reference)
    print(f"report written to {out} (figures in {out.parent / 'figures'}/)")
    return 0


_ = json

"""Charts of ``mixsim report``: trajectories, paired differences, cohort matrices, sensitivity.

Colours are the Okabe–Ito palette (Okabe & Ito 2008, *Color Universal Design*), distinguishable
with the common colour-vision deficiencies; the reference scenario is always drawn in dark grey.
Axes are formatted by unit (percent, months, whole counts) in the report's language; legends sit
outside the plotting area.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .report_data import ReportData, beyond_noise, mean_by_year, scenario_title
from .report_i18n import fmt_number, fmt_percent, kind, label, text

#: Okabe–Ito palette without black (kept for the reference) and yellow (too light on white),
#: then Paul Tol's colour-blind-safe wine and olive for a 7th and 8th scenario.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#882255",
             "#999933")
REFERENCE_COLOUR = "#333333"


def colour(i: int) -> str:
    """Colour of the ``i``-th non-reference scenario (the palette repeats after 7)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


class Figures:
    """Renders matplotlib figures to PNG and SVG files and to embeddable ``<img>`` tags."""

    def __init__(self, out: Path, lang: str):
        self.out = out
        self.lang = lang
        out.mkdir(parents=True, exist_ok=True)

    def save(self, fig, name: str, alt: str) -> str:
        """Write ``name.png`` and ``name.svg``; return an ``<img>`` tag with the PNG embedded."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        (self.out / f"{name}.png").write_bytes(buf.getvalue())
        import matplotlib
        with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text (editable)
            fig.savefig(self.out / f"{name}.svg", format="svg", bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode()
        return (f'<img alt="{html.escape(alt)}" data-name="{html.escape(name)}" '
                f'src="data:image/png;base64,{data}">')

    def axis(self, ax, name: str, which: str = "y", diff: bool = False) -> None:
        """Tick labels by the indicator's unit (percent or points, months, whole counts)."""
        from matplotlib.ticker import MaxNLocator
        axis = ax.yaxis if which == "y" else ax.xaxis
        if kind(name) in ("count", "days"):
            axis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        axis.set_major_formatter(unit_formatter(kind(name), self.lang, diff))


def unit_formatter(unit_kind: str, lang: str, diff: bool = False):
    """Return a matplotlib tick formatter for a unit kind.

    As few decimals as the ticks need, decimal comma and true minus in French, ``%`` for shares
    (points for differences), whole numbers for counts (no ``140,00``).
    """
    from matplotlib.ticker import Formatter

    class UnitFormatter(Formatter):
        digits = 0

        def format_ticks(self, values):
            factor = 100.0 if unit_kind == "share" else 1.0
            vals = np.array([v * factor for v in values if math.isfinite(v)])
            self.digits = 0
            if unit_kind not in ("count", "days"):
                # the fewest decimals that write every tick exactly (2.5 keeps one decimal)
                self.digits = next((d for d in range(4) if np.allclose(
                    vals * 10**d, np.round(vals * 10**d), atol=1e-6)), 3)
            return [self(v, i) for i, v in enumerate(values)]

        def __call__(self, v, pos=None):
            if unit_kind == "share":
                num = fmt_number(100 * v, lang, self.digits, signed=diff)
                return num if diff else f"{num}{chr(0x202f)}%" if lang == "fr" else f"{num}%"
            return fmt_number(v, lang, self.digits, signed=diff)

    return UnitFormatter()


def _unit_suffix(name: str, lang: str, diff: bool, scale: float) -> str:
    k = kind(name)
    if k == "share":
        return ("points de %" if lang == "fr" else "percentage points") if diff else "%"
    if k == "count":
        return text(lang, "count_note", scale=fmt_number(scale, lang, 2))
    return ""


def trajectories(data: ReportData, figs: Figures, names: list[str], lang: str) -> str:
    """One figure per indicator: small multiples, one panel per scenario against the reference."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    e = data.epci()
    imgs = []
    others = data.scenarios[1:] or data.scenarios
    for idx, name in enumerate(names):
        d = e[e.indicator == name].dropna(subset=["value"]).copy()
        if kind(name) == "count":
            d["value"] = d["value"] / data.scale
        ref = mean_by_year(d[d.scenario == data.reference])
        ncol = min(4, len(others))
        nrow = math.ceil(len(others) / ncol)
        fig = Figure(figsize=(3.1 * ncol, 2.3 * nrow + 0.6))
        axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=True)
        for ax in axes.ravel()[len(others):]:
            ax.set_visible(False)
        for i, (ax, sc) in enumerate(zip(axes.ravel(), others, strict=False)):
            ax.fill_between(ref.index, ref.p05, ref.p95, color=REFERENCE_COLOUR, alpha=0.15,
                            lw=0)
            ax.plot(ref.index, ref["mean"], color=REFERENCE_COLOUR, lw=1.6,
                    label=text(lang, "reference"))
            if sc != data.reference:
                m = mean_by_year(d[d.scenario == sc])
                ax.fill_between(m.index, m.p05, m.p95, color=colour(i), alpha=0.25, lw=0)
                ax.plot(m.index, m["mean"], color=colour(i), lw=2.0)
            ax.set_title(_wrap(scenario_title(data, sc, lang), 34), fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7, labelbottom=True)
            figs.axis(ax, name)
        for ax in axes[-1]:
            ax.set_xlabel(text(lang, "year"), fontsize=8)
        unit = _unit_suffix(name, lang, False, data.scale)
        fig.suptitle(label(name, lang) + (f" — {unit}" if unit and unit != "%" else ""),
                     fontsize=10)
        fig.tight_layout()
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], color=REFERENCE_COLOUR, lw=1.6),
                   Line2D([], [], color=colour(0), lw=2.0)]
        names_ = [f"{text(lang, 'reference')} : {scenario_title(data, data.reference, lang)}"
                  if lang == "fr" else
                  f"{text(lang, 'reference')}: {scenario_title(data, data.reference, lang)}",
                  "scénario du graphique (moyenne et bande à 90 %)".replace(" %", "\u202f%")
                  if lang == "fr" else "the panel's scenario (mean and 90% band)"]
        fig.legend(handles, names_, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
                   fontsize=8, frameon=False)  # below the panels, outside the data
        imgs.append(figs.save(fig, f"trajectories_{idx}", label(name, lang)))
    return "".join(f"<figure>{i}</figure>" for i in imgs)


def _wrap(s: str, width: int) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(s, width)[:3]) or s


def differences(data: ReportData, figs: Figures, stats: pd.DataFrame, names: list[str],
                lang: str) -> str:
    """Dot-and-bar chart of each scenario's paired difference to the reference, per indicator."""
    from matplotlib.figure import Figure
    others = data.scenarios[1:]
    if not others or stats.empty or "diff" not in stats.columns:
        return ""
    present = [n for n in names if n in set(stats.indicator)]
    ncol = min(3, len(present))
    nrow = math.ceil(len(present) / ncol)
    height = 0.32 * len(others) + 1.0
    fig = Figure(figsize=(4.3 * ncol, height * nrow))
    axes = fig.subplots(nrow, ncol, squeeze=False, sharey=True)
    for ax in axes.ravel()[len(present):]:
        ax.set_visible(False)
    y = np.arange(len(others))[::-1]
    titles = [_wrap(scenario_title(data, s, lang), 38) for s in others]
    for ax, name in zip(axes.ravel(), present, strict=False):
        st = stats[stats.indicator == name].set_index("scenario")
        for i, (sc, yy) in enumerate(zip(others, y, strict=True)):
            if sc not in st.index:
                continue
            r = st.loc[sc]
            sig = beyond_noise(r)
            c = colour(i)
            ax.plot([r.diff_p05, r.diff_p95], [yy, yy], color=c, lw=3 if sig else 1.6,
                    solid_capstyle="butt")
            ax.plot([r["diff"]], [yy], "o", color=c, ms=6,
                    mfc=c if sig else "white", mec=c)
        ax.axvline(0, color=REFERENCE_COLOUR, lw=1)
        unit = _unit_suffix(name, lang, True, data.scale)
        ax.set_title(_wrap(label(name, lang), 44), fontsize=9)
        if unit:
            ax.set_xlabel(unit, fontsize=7)
        ax.set_yticks(y, titles, fontsize=7)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=7)
        figs.axis(ax, name, which="x", diff=True)
    fig.tight_layout()
    return f"<figure>{figs.save(fig, 'paired_differences', text(lang, 'differences'))}</figure>"


def cohort(data: ReportData, figs: Figures, lang: str) -> str:
    """Transition matrices of the starting cohort (QPV / non-QPV / gone), every scenario."""
    from matplotlib.figure import Figure
    e = data.epci()
    tr = e[e.indicator.str.startswith("transition_qpv_") & ~e.indicator.str.endswith("_social")]
    if tr.empty:
        return ""
    scen = [s for s in data.scenarios if s in set(tr.scenario)]
    rows, cols = ("qpv", "non_qpv"), ("qpv", "non_qpv", "gone")
    names = {c: text(lang, c) for c in cols}
    ncol = min(4, len(scen))
    nrow = math.ceil(len(scen) / ncol)
    fig = Figure(figsize=(3.2 * ncol, 2.6 * nrow))
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax in axes.ravel()[len(scen):]:
        ax.set_visible(False)
    for ax, sc in zip(axes.ravel(), scen, strict=False):
        d = tr[tr.scenario == sc].groupby("indicator")["value"].mean()
        m = np.array([[d.get(f"transition_qpv_{a}_to_{b}", np.nan) for b in cols] for a in rows])
        ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
        for r in range(2):
            for c in range(3):
                ax.text(c, r, fmt_percent(m[r, c], lang, 0), ha="center", va="center",
                        fontsize=8, color="white" if m[r, c] > 0.6 else "black")
        ax.set_xticks(range(3), [names[c] for c in cols], fontsize=7)
        ax.set_yticks(range(2), [names[r] for r in rows], fontsize=7)
        ax.set_title(_wrap(scenario_title(data, sc, lang), 34), fontsize=8,
                     fontweight="bold" if sc == data.reference else "normal")
        ax.set_xlabel(text(lang, "at_horizon"), fontsize=7)
        ax.set_ylabel(text(lang, "at_start"), fontsize=7)
    fig.tight_layout()
    return f"<figure>{figs.save(fig, 'cohort_transitions', text(lang, 'cohort'))}</figure>"


def sensitivity(df: pd.DataFrame, figs: Figures, lang: str, outcome: str, idx: int) -> str:
    """Horizontal bars of one outcome's Sobol' (S1, ST) or Morris (μ*) indices, in the language."""
    from matplotlib.figure import Figure
    rows = df[df["outcome"] == outcome]
    if {"S1", "ST"} <= set(df.columns):
        bars = [("S1", "S1_conf", text(lang, "s1")), ("ST", "ST_conf", text(lang, "st"))]
        xlabel = text(lang, "sobol_index")
    else:
        bars = [("mu_star", "mu_star_conf", text(lang, "mu_star"))]
        xlabel = text(lang, "mu_star")
    fig = Figure(figsize=(6.4, 1.0 + 0.45 * len(rows) * len(bars)))
    ax = fig.subplots()
    y = np.arange(len(rows))
    h = 0.8 / len(bars)
    for k, (col, conf, lab) in enumerate(bars):
        err = rows[conf].to_numpy() if conf in rows else None
        ax.barh(y + (k - (len(bars) - 1) / 2) * h, rows[col].to_numpy(), height=h, xerr=err,
                capsize=3, label=lab, color=colour(k + 2))
    ax.set_yticks(y, rows["parameter"].tolist(), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(label(outcome, lang), fontsize=9)
    from matplotlib.ticker import FuncFormatter
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_number(v, lang, 1)))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return f"<figure>{figs.save(fig, f'sensitivity_{idx}', label(outcome, lang))}</figure>"

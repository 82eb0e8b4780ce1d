"""Maps and the per-commune table of ``mixsim report``.

Neighbourhoods are drawn with their polygons when the territory ships a ``geometry.geojson``
(:func:`mixsim.model.territory.load_geometry`: features whose ``properties.neighbourhood`` is the
id of ``neighbourhoods.csv``, planar coordinates in the units of its ``x``/``y``), and as discs at
``x``/``y`` otherwise. Commune names are written at the centre of their neighbourhoods. Colour
maps are perceptually ordered and colour-blind safe: ``YlOrBr`` for shares, the diverging
``PuOr_r`` (orange = more Q1 households) for differences to the reference.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from .report_charts import Figures
from .report_data import ReportData, scenario_title
from .report_i18n import fmt_number, fmt_percent, fmt_points, text


class MapBase:
    """The territory's neighbourhoods (id, commune, name, QPV flag, x, y) and polygons."""

    def __init__(self, neighbourhoods: pd.DataFrame, communes: pd.DataFrame,
                 geometry: dict | None):
        self.nb = neighbourhoods.set_index("neighbourhood")
        self.communes = communes.set_index("commune")
        self.polygons: dict[str, list[np.ndarray]] = {}
        for feat in (geometry or {}).get("features", []):
            props = feat.get("properties") or {}
            geom = feat.get("geometry") or {}
            rings = _outer_rings(geom)
            nid = str(props.get("neighbourhood", ""))
            if rings and nid in self.nb.index:
                self.polygons.setdefault(nid, []).extend(rings)

    @property
    def has_polygons(self) -> bool:
        """Whether polygons cover every neighbourhood."""
        return bool(self.polygons) and set(self.polygons) >= set(self.nb.index)

    def centre(self, nid: str) -> tuple[float, float]:
        """Centre of a neighbourhood: the mean of its polygon's vertices, else ``x``/``y``."""
        if nid in self.polygons:
            pts = np.concatenate(self.polygons[nid])
            return float(pts[:, 0].mean()), float(pts[:, 1].mean())
        return float(self.nb.at[nid, "x"]), float(self.nb.at[nid, "y"])

    def draw(self, ax, values: pd.Series, cmap, norm, names: bool) -> object:
        """Draw every neighbourhood coloured by ``values`` (index: neighbourhood id)."""
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Polygon
        ids = [n for n in self.nb.index if n in values.index]
        qpv = {n: int(self.nb.at[n, "qpv"]) == 1 for n in ids}
        if self.has_polygons:
            patches, vals, edges, widths = [], [], [], []
            for n in ids:
                for ring in self.polygons[n]:
                    patches.append(Polygon(ring, closed=True))
                    vals.append(values[n])
                    edges.append("black" if qpv[n] else "white")
                    widths.append(1.6 if qpv[n] else 0.4)
            coll = PatchCollection(patches, cmap=cmap, norm=norm, edgecolors=edges,
                                   linewidths=widths)
            coll.set_array(np.asarray(vals, dtype=float))
            ax.add_collection(coll)
            ax.autoscale_view()
            mappable = coll
        else:
            xy = self.nb.loc[ids]
            mappable = ax.scatter(xy.x, xy.y, c=values[ids].to_numpy(float), s=90, cmap=cmap,
                                  norm=norm, edgecolors=["black" if qpv[n] else "none"
                                                         for n in ids],
                                  linewidths=[1.8 if qpv[n] else 0.0 for n in ids])
        if names:
            for com, group in self.nb.loc[ids].groupby("commune"):
                pts = np.array([self.centre(n) for n in group.index])
                name = (self.communes.at[com, "name"] if com in self.communes.index
                        else str(com))
                ax.text(pts[:, 0].mean(), pts[:, 1].mean(), name, ha="center", va="center",
                        fontsize=7, fontweight="bold", color="#111",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.7})
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_visible(False)
        return mappable


def _outer_rings(geom: dict) -> list[np.ndarray]:
    """Outer rings of a GeoJSON Polygon or MultiPolygon, as (n, 2) arrays."""
    kind, coords = geom.get("type"), geom.get("coordinates") or []
    polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    out = []
    for poly in polys:
        if poly and len(poly[0]) >= 3:
            out.append(np.asarray(poly[0], dtype=float)[:, :2])
    return out


def load_map_base(data: ReportData) -> MapBase:
    """Read the territory's neighbourhoods, communes and polygons (raises on a missing folder)."""
    from mixsim.model.territory import load_geometry, load_territory
    source = data.territory_source
    territory = load_territory(source, 1.0)
    return MapBase(territory.neighbourhoods, territory.communes, load_geometry(source))


def neighbourhood_values(data: ReportData) -> pd.DataFrame:
    """Neighbourhood ``q1_share`` rows (scenario, replicate, year, unit, value)."""
    i = data.indicators
    return i[(i.scale == "neighbourhood") & (i.indicator == "q1_share")]


def maps(data: ReportData, base: MapBase, figs: Figures, lang: str) -> str:
    """Draw the reference maps (start, horizon) and the difference-to-reference maps."""
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
    rows = neighbourhood_values(data)
    horizon = int(rows.year.max())
    mean = rows.groupby(["scenario", "year", "unit"])["value"].mean()
    ref = data.reference
    ratio = (np.ptp(base.nb.y) + 1.0) / (np.ptp(base.nb.x) + 1.0)
    # 1. the reference at the start and at the horizon
    fig = Figure(figsize=(11.0, 5.2 * ratio + 0.8))
    axes = fig.subplots(1, 2, squeeze=False)
    vmax = float(rows.value.quantile(0.98)) or 1.0
    norm = Normalize(0.0, vmax)
    mappable = None
    for ax, year in zip(axes[0], (0, horizon), strict=True):
        v = mean.loc[(ref, year)] if (ref, year) in mean.index else pd.Series(dtype=float)
        mappable = base.draw(ax, v, "YlOrBr", norm, names=True)
        ax.set_title(text(lang, "start") if year == 0 else
                     f"{scenario_title(data, ref, lang)} — {text(lang, 'year')} {year}",
                     fontsize=9)
    cb = fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.8, location="right")
    cb.set_label(_q1_label(lang))
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_percent(v, lang, 0)))
    out = figs.save(fig, "map_q1_share", text(lang, "map"))
    html_parts = [f"<figure>{out}</figure>"]
    # 2. each scenario's difference to the reference at the horizon
    others = [s for s in data.scenarios[1:] if (s, horizon) in mean.index]
    if others and (ref, horizon) in mean.index:
        refv = mean.loc[(ref, horizon)]
        diffs = {s: (mean.loc[(s, horizon)] - refv).dropna() for s in others}
        amp = max(float(np.nanmax(np.abs(d.to_numpy()))) if len(d) else 0.0
                  for d in diffs.values()) or 0.01
        dnorm = TwoSlopeNorm(vcenter=0.0, vmin=-amp, vmax=amp)
        ncol = min(3, len(others))
        nrow = math.ceil(len(others) / ncol)
        fig = Figure(figsize=(3.9 * ncol, (3.6 * ratio + 0.6) * nrow))
        axes = fig.subplots(nrow, ncol, squeeze=False)
        for ax in axes.ravel()[len(others):]:
            ax.set_visible(False)
        for ax, s in zip(axes.ravel(), others, strict=False):
            mappable = base.draw(ax, diffs[s], "PuOr_r", dnorm, names=False)
            from .report_charts import _wrap
            ax.set_title(_wrap(scenario_title(data, s, lang), 40), fontsize=8)
        cb = fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.8, location="right")
        cb.set_label(("Écart à la référence, points de %" if lang == "fr"
                      else "Difference to the reference, percentage points"))
        cb.ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: fmt_number(100 * v, lang, 1, signed=True)))
        img = figs.save(fig, "map_differences", text(lang, "map_diff_intro"))
        html_parts.append(f"<div class='keep'><p>{text(lang, 'map_diff_intro')}</p>"
                          f"<figure>{img}</figure></div>")
    return "".join(html_parts)


def _q1_label(lang: str) -> str:
    return "Part de ménages Q1" if lang == "fr" else "Share of Q1 households"


def commune_table(data: ReportData, base: MapBase, lang: str, codes: dict[str, str],
                  table_no: int) -> str:
    """Per-commune Q1 share (start, reference horizon) and each scenario's paired difference."""
    i = data.indicators
    q1 = neighbourhood_values(data)
    hh = i[(i.scale == "neighbourhood") & (i.indicator == "households")]
    keys = ["scenario", "replicate", "year", "unit"]
    frame = q1[keys + ["value"]].rename(columns={"value": "q1"})
    if hh.empty:  # constant weights: the initial households of the territory
        frame["hh"] = 1.0
    else:
        frame = frame.merge(hh[keys + ["value"]].rename(columns={"value": "hh"}), on=keys)
    frame["commune"] = frame.unit.map(base.nb["commune"])
    frame["q1n"] = frame.q1 * frame.hh
    g = frame.groupby(["scenario", "replicate", "year", "commune"])[["q1n", "hh"]].sum()
    share = (g.q1n / g.hh).rename("share").reset_index()
    horizon = int(share.year.max())
    ref = data.reference
    start = share[(share.scenario == ref) & (share.year == 0)].groupby("commune")["share"].mean()
    at_h = share[share.year == horizon].pivot_table(index=["commune", "replicate"],
                                                    columns="scenario", values="share")
    others = [s for s in data.scenarios[1:] if s in at_h.columns]
    head = (f"<th>{text(lang, 'col_commune')}</th><th>{text(lang, 'col_sru')}</th>"
            f"<th>{text(lang, 'col_start')}</th>"
            f"<th>{text(lang, 'col_ref_horizon', year=horizon)}</th>"
            + "".join(f"<th title='{html.escape(scenario_title(data, s, lang))}'>Δ "
                      f"{codes[s]}</th>" for s in others))
    body = []
    for com in base.communes.index:
        if com not in start.index:
            continue
        name = html.escape(str(base.communes.at[com, "name"]))
        sru = int(base.communes.at[com, "sru_applies"]) == 1
        cells = [f"<th>{name}</th>", f"<td class='c'>{text(lang, 'yes' if sru else 'no')}</td>",
                 f"<td>{fmt_percent(start[com], lang, 1)}</td>"]
        sub = at_h.xs(com, level="commune") if com in at_h.index.get_level_values(0) else None
        cells.append(f"<td>{fmt_percent(sub[ref].mean(), lang, 1)}</td>" if sub is not None
                     and ref in sub else "<td>—</td>")
        for s in others:
            if sub is None:
                cells.append("<td>—</td>")
                continue
            d = (sub[s] - sub[ref]).dropna()
            sig = len(d) >= 2 and (d.quantile(0.05) > 0 or d.quantile(0.95) < 0)
            txt = fmt_points(d.mean(), lang)
            cells.append(f"<td class='sig'>{txt}</td>" if sig else f"<td>{txt}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = (f"Tableau {table_no}{chr(0x202f)}: " if lang == "fr" else f"Table {table_no}: ")
    caption += text(lang, "communes")
    return (f"<table class='data'><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")

"""``mixsim territory``: build a territory folder from public files, check it, draw its map.

``mixsim territory build --out DIR --filosofi … --rpls … --contours … --communes … --census …``
writes the six territory tables, ``geometry.geojson``, the fit reports and a ``targets.toml``
skeleton (:mod:`mixsim.calibration.territory_build`); ``mixsim territory check DIR`` prints its
summary and consistency report (exit 1 when inconsistent); ``mixsim territory show DIR --out
map.png`` draws its polygons, QPV outlined, social share and commune names. docs/territory.md
documents every source and option.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from mixsim.experiments.common import positive_float, seed_int, write_atomic
from mixsim.model.errors import InputError


def add_parser(sub) -> None:
    """Register ``mixsim territory`` and its sub-commands."""
    p = sub.add_parser("territory", help="build a territory from public data, check it, map it",
                       description="Build a territory folder from an EPCI's public files "
                       "(docs/territory.md), check a folder, or draw its map.")
    tsub = p.add_subparsers(dest="territory_command", metavar="ACTION")
    b = tsub.add_parser("build", help="build a territory folder from public files",
                        description="Read the public sources, fit the population and write the "
                        "territory folder (six tables, geometry.geojson, fit reports, "
                        "targets.toml). Nothing is written unless every source is valid.")
    b.add_argument("--out", type=Path, required=True, help="territory folder to write")
    b.add_argument("--filosofi", type=Path, required=True,
                   help="INSEE Filosofi IRIS CSV, disposable income (BASE_TD_FILO_IRIS_*_DISP)")
    b.add_argument("--rpls", type=Path, required=True,
                   help="SDES RPLS results by commune: resultats_rpls_YYYY.xlsx (sheet "
                   "COMMUNES) or its CSV export")
    b.add_argument("--contours", type=Path, required=True,
                   help="IGN CONTOURS-IRIS polygons: .gpkg or .geojson")
    b.add_argument("--layer", help="GeoPackage layer of --contours when it has several")
    b.add_argument("--communes", required=True,
                   help="the EPCI's communes: a CSV/xlsx list (e.g. INSEE composition of "
                   "EPCIs, column CODGEO) or codes separated by commas")
    b.add_argument("--epci", help="EPCI code (SIREN) selecting its communes in --communes")
    b.add_argument("--census", type=Path, action="append", required=True,
                   help="INSEE census IRIS base (repeat): base-ic-logement (P21_RP, "
                   "P21_RP_PROP, P21_RP_LOCHLMV) and optionally base-ic-couples-familles-"
                   "menages (C21_MENPSEUL…)")
    q = b.add_mutually_exclusive_group()
    q.add_argument("--qpv", type=Path,
                   help="QPV perimeters, GeoJSON (data.gouv, 2024 décret) or GeoPackage")
    q.add_argument("--qpv-iris", type=Path, help="list of the QPV IRIS codes (CSV or text)")
    b.add_argument("--qpv-threshold", type=positive_float, default=0.5,
                   help="share of an IRIS's area inside QPV perimeters to count it as QPV "
                   "(default 0.5)")
    b.add_argument("--sne", type=Path,
                   help="optional SNE demands and allocations by commune (CSV)")
    b.add_argument("--households", type=positive_float,
                   help="rescale the census households to this total")
    b.add_argument("--cuts", choices=("national", "territory"), default="national",
                   help="income quartile cut points (default national)")
    b.add_argument("--seed", type=seed_int, default=0, help="seed of the rounding (default 0)")
    b.set_defaults(func=cmd_build)
    c = tsub.add_parser("check", help="summary and consistency report of a territory folder",
                        description="Validate a territory folder and report its summary; exit "
                        "1 when it is inconsistent (polygons, fit, targets).")
    c.add_argument("folder", type=Path, help="territory folder")
    c.set_defaults(func=cmd_check)
    s = tsub.add_parser("show", help="draw the territory's map as a PNG",
                        description="Draw the neighbourhoods (polygons, or discs without a "
                        "geometry), coloured by their social share, QPV outlined, commune "
                        "names.")
    s.add_argument("folder", help="territory folder, or 'default'")
    s.add_argument("--out", type=Path, default=Path("territory.png"),
                   help="PNG file to write (default territory.png)")
    s.set_defaults(func=cmd_show)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_build(args: argparse.Namespace) -> int:
    """Build and write a territory folder; print what was written and any warning."""
    from mixsim.calibration.territory_build import (
        BuildOptions,
        PublicSources,
        build_territory,
        write_territory,
    )

    if args.out.exists() and not args.out.is_dir():
        raise InputError("exists and is not a folder; give a folder path", source="--out",
                         field=str(args.out))
    if not args.qpv_threshold <= 1:
        raise InputError(f"got {args.qpv_threshold}; expected a share in (0, 1]",
                         source="--qpv-threshold")
    src = PublicSources(filosofi=args.filosofi, rpls=args.rpls, contours=args.contours,
                        communes=args.communes, census=tuple(args.census), qpv=args.qpv,
                        qpv_iris=args.qpv_iris, sne=args.sne, epci=args.epci,
                        layer=args.layer)
    opts = BuildOptions(seed=args.seed, quartile_cuts=args.cuts,
                        qpv_threshold=args.qpv_threshold, households=args.households)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        built = build_territory(src, opts)
    notes = [str(w.message) for w in caught]
    for n in notes:
        print(f"mixsim territory build: warning: {n}", file=sys.stderr)
    write_territory(built, args.out, warnings_text=notes)
    nb = built.tables["neighbourhoods"]
    fit = built.tables["ipf_fit"]
    print(f"wrote {args.out}/: {len(built.tables['communes'])} communes, {len(nb)} "
          f"neighbourhoods ({int(nb.qpv.sum())} QPV), "
          f"{int(built.tables['population']['count'].sum()):,} households; population fit "
          f"within {fit.max_abs_error.max():g} household(s) of every margin")
    print(f"next: mixsim territory check {args.out}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Print the summary and consistency report; 0 when consistent, 1 otherwise."""
    from mixsim.calibration.territory_build import check_territory

    rep = check_territory(args.folder)
    width = max(len(k) for k, _ in rep.summary)
    print(f"territory {args.folder}")
    for k, v in rep.summary:
        print(f"  {k:<{width}}  {v}")
    for n in rep.notes:
        print(f"  note: {n}")
    if rep.problems:
        print(f"{len(rep.problems)} problem(s):")
        for pr in rep.problems:
            print(f"  - {pr}")
        return 1
    print("consistent")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Draw the territory's map into ``--out`` (PNG)."""
    if args.out.suffix.lower() != ".png":
        raise InputError(f"got {args.out.name!r}; expected a .png file name", source="--out")
    from mixsim.model.territory import load_geometry, load_territory

    territory = load_territory(args.folder)
    fc = load_geometry(args.folder)
    fig = draw_map(territory, fc)
    write_atomic(args.out, lambda p: fig.savefig(p, format="png", dpi=130))
    print(f"wrote {args.out}")
    return 0


def draw_map(territory, fc):
    """Matplotlib figure of the neighbourhoods: social share, QPV outlined, commune names.

    A :class:`matplotlib.figure.Figure` made directly: no pyplot state, whatever the backend.
    """
    import matplotlib
    import numpy as np
    import shapely
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    nb = territory.neighbourhoods.set_index("neighbourhood")
    soc = territory.social_stock.groupby("neighbourhood")["count"].sum()
    other = territory.dwellings.groupby("neighbourhood")["count"].sum()
    share = (soc.reindex(nb.index, fill_value=0)
             / (soc.reindex(nb.index, fill_value=0) + other.reindex(nb.index, fill_value=0))
             .replace(0, np.nan)).fillna(0.0)
    fig = Figure(figsize=(8, 7))
    ax = fig.subplots()
    cmap = matplotlib.colormaps["YlOrRd"]
    names = dict(zip(territory.communes.commune, territory.communes.name, strict=True))
    if fc is None:
        sc = ax.scatter(nb.x, nb.y, c=share, cmap=cmap, vmin=0, vmax=max(0.6, share.max()),
                        s=180, edgecolors=np.where(nb.qpv == 1, "black", "none"), linewidths=2)
        fig.colorbar(sc, ax=ax, label="social share of dwellings")
        for com, grp in nb.groupby("commune"):
            ax.annotate(names.get(com, com), (grp.x.mean(), grp.y.max()), ha="center",
                        va="bottom", fontsize=9)
    else:
        from mixsim.model.geometry import geometries
        polys = geometries(fc)

        def patch(geom):
            verts, codes = [], []
            for poly in getattr(geom, "geoms", [geom]):
                for ring in (poly.exterior, *poly.interiors):
                    xy = np.asarray(ring.coords)
                    verts.extend(xy)
                    codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2)
                                 + [MplPath.CLOSEPOLY])
            return PathPatch(MplPath(verts, codes))

        ids = [i for i in nb.index if str(i) in polys]
        coll = PatchCollection([patch(polys[str(i)]) for i in ids], cmap=cmap,
                               edgecolor="white", linewidths=0.6)
        coll.set_array(share.reindex(ids).to_numpy())
        coll.set_clim(0, max(0.6, float(share.max())))
        ax.add_collection(coll)
        fig.colorbar(coll, ax=ax, label="social share of dwellings")
        qpv = [polys[str(i)] for i in ids if nb.qpv[i] == 1]
        if qpv:
            outline = shapely.union_all(qpv)
            for poly in getattr(outline, "geoms", [outline]):
                ax.plot(*poly.exterior.xy, color="black", linewidth=2.0)
        for com, grp in nb.loc[ids].groupby("commune"):
            shape = shapely.union_all([polys[str(i)] for i in grp.index])
            for poly in getattr(shape, "geoms", [shape]):
                ax.plot(*poly.exterior.xy, color="#333333", linewidth=0.9, linestyle="--")
            pt = shape.representative_point()
            ax.annotate(names.get(com, com), (pt.x, pt.y), ha="center", va="center",
                        fontsize=9, fontweight="bold",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.7,
                              "lw": 0})
        ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_xlabel("km")
    ax.set_title(f"{territory.name}: social share of dwellings by neighbourhood "
                 "(QPV outlined in black)", fontsize=10)
    fig.tight_layout()
    return fig

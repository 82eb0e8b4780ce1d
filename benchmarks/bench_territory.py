"""Wall time of reading a national-size IRIS contours GeoPackage (docs/territory.md).

Writes a synthetic GeoPackage of 50,000 IRIS (60-vertex polygons, ~68 MB, the order of IGN's
CONTOURS-IRIS for France) into a temporary folder, then times `read_contours` keeping the IRIS
of three communes (what `mixsim territory build` does) and keeping all of them.

Run: python benchmarks/bench_territory.py
"""

import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from mixsim.calibration import geometry as geo


def main(n: int = 50_000) -> None:
    angles = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    records = []
    for i in range(n):
        com = f"{1 + i // 1000:02d}{(i // 10) % 100:03d}"
        x = 100_000 + (i % 250) * 4_000.0
        y = 6_100_000 + (i // 250) * 4_000.0
        ring = np.column_stack([x + 2_000 * np.cos(angles), y + 2_000 * np.sin(angles)])
        records.append({"CODE_IRIS": f"{com}{i % 10:04d}", "NOM_IRIS": f"iris {i}",
                        "INSEE_COM": com, "NOM_COM": f"commune {com}",
                        "geometry": shapely.MultiPolygon([shapely.Polygon(ring)])})
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "contours.gpkg"
        geo.write_gpkg(f, "contours_iris", records)
        size = f.stat().st_size / 1e6
        for communes in (["01001", "01002", "01003"], None):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                kept = geo.read_contours(f, communes=communes)
                best = min(best, time.perf_counter() - start)
            print(f"{n:,} IRIS ({size:.0f} MB), kept {len(kept):,}: best of 3 {best:.2f} s")


if __name__ == "__main__":
    main()

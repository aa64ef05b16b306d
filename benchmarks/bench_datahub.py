"""Data-hub benchmark (issue: one-map data hub, part 1), peers in the same run.

On the demo county (default 300,000 parcels):

* import of the 规划用地 FileGDB (GHYD) and the GBK 三调 Shapefile (DLTB) into a fresh
  workspace vs a plain pyogrio read + write of the same file to a GeoPackage
  (goal: ours ≤ 1.5× pyogrio);
* ellipsoidal areas of all GHYD parcels: ours vs PostGIS ``ST_Area(geography)`` on the same
  geometries (loaded beforehand, not timed; two parallel workers allowed) and vs a
  per-feature ``pyproj.Geod`` loop (goal: ≥ 5× PostGIS);
* 用地平衡表 of GHYD: ours vs PostGIS ``GROUP BY`` the code.

Each measurement runs in its own subprocess so its peak memory (max RSS) is its own.
Results go to ``benchmarks/results/datahub-<parcels>.json`` and a table on stdout.

Usage::

    python benchmarks/bench_datahub.py [--parcels 300000] [--workdir /tmp/guotu-bench]
        [--no-postgis] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# -- measurements (each runs in a child process: `bench_datahub.py --child NAME ...`) ------
def child_build(workdir: Path, parcels: int) -> dict[str, Any]:
    from guotu.demo.build import build_demo

    t = time.perf_counter()
    result = build_demo(workdir / "county.gpkg", workdir / "files", parcels=parcels, force=True)
    return {"seconds": time.perf_counter() - t, "layers": getattr(result, "layers", None)}


def _source(workdir: Path, which: str) -> tuple[Path, str | None, str]:
    files = workdir / "files"
    if which == "GHYD":
        return files / "规划用地.gdb", None, "planned_land_use"
    return (
        next(files.glob("*DLTB*.shp"), None) or next(files.glob("*地类图斑*.shp")),
        None,
        "land_survey",
    )


def child_import_ours(workdir: Path, which: str) -> dict[str, Any]:
    from guotu.services.importing import import_file
    from guotu.store.geopackage import GeoPackageStore

    path, source_layer, role = _source(workdir, which)
    target = workdir / f"ours-{which}.gpkg"
    for p in workdir.glob(f"ours-{which}.gpkg*"):
        p.unlink()
    # The workspace CRS is fixed before timing, as it is in a real workspace.
    with GeoPackageStore.open(target, create=True) as store:
        from pyproj import CRS

        store.set_crs(CRS.from_epsg(4527))
        t = time.perf_counter()
        r = import_file(store, path, role=role, layer=which, source_layer=source_layer)
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "features": r.layer.features}


def child_import_pyogrio(workdir: Path, which: str) -> dict[str, Any]:
    import pyogrio

    path, source_layer, _role = _source(workdir, which)
    target = workdir / f"pyogrio-{which}.gpkg"
    for p in workdir.glob(f"pyogrio-{which}.gpkg*"):
        p.unlink()
    # The peer gets the attribute encoding it needs for correct text (GBK 三调 Shapefile);
    # without it GDAL is faster but every Chinese name comes out as mojibake.
    encoding = "GB18030" if path.suffix.lower() == ".shp" else None
    t = time.perf_counter()
    frame = pyogrio.read_dataframe(path, layer=source_layer, encoding=encoding)
    if frame.crs is not None and frame.crs.to_epsg() != 4527:
        frame = frame.to_crs(4527)  # the same reprojection ours does (GDB is EPSG:4548)
    pyogrio.write_dataframe(frame, target, layer=which, driver="GPKG")
    return {"seconds": time.perf_counter() - t, "features": len(frame)}


def _ghyd(workdir: Path):  # type: ignore[no-untyped-def]
    from guotu.store.geopackage import GeoPackageStore

    with GeoPackageStore.open(workdir / "county.gpkg") as store:
        return store.read_layer("GHYD")


def child_area_ours(workdir: Path) -> dict[str, Any]:
    import numpy as np

    from guotu.domain.geometry.area import ellipsoidal_area_m2

    frame = _ghyd(workdir)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        area = ellipsoidal_area_m2(geoms, frame.crs, workers=2)
        best = min(best, time.perf_counter() - t)
    t = time.perf_counter()
    one = ellipsoidal_area_m2(geoms, frame.crs)
    one_thread = time.perf_counter() - t
    t = time.perf_counter()
    trapezoid = ellipsoidal_area_m2(geoms, frame.crs, method="trapezoid")
    trapezoid_s = time.perf_counter() - t
    return {
        "seconds": best,
        "features": len(geoms),
        "total_m2": float(area.sum()),
        "one_thread_seconds": one_thread,
        "trapezoid_seconds": trapezoid_s,
        "max_diff_vs_trapezoid_m2": float(np.abs(one - trapezoid).max()),
    }


def child_area_geod_loop(workdir: Path) -> dict[str, Any]:
    import shapely
    from pyproj import Geod, Transformer

    frame = _ghyd(workdir)
    geod = Geod(a=6378137.0, f=1 / 298.257222101)
    tr = Transformer.from_crs(frame.crs, frame.crs.geodetic_crs, always_xy=True)
    t = time.perf_counter()
    total = 0.0
    for g in frame.geometry.values:
        if g is None or g.is_empty:
            continue
        ll = shapely.ops.transform(tr.transform, shapely.segmentize(g, 50.0))
        total += abs(geod.geometry_area_perimeter(ll)[0])
    return {"seconds": time.perf_counter() - t, "features": len(frame), "total_m2": total}


def _pg_load(workdir: Path, dsn: str) -> None:
    import psycopg
    import shapely

    frame = _ghyd(workdir)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS ghyd")
        conn.execute("CREATE TABLE ghyd (fid bigint, code text, geom geometry(MultiPolygon, 4527))")
        wkb = shapely.to_wkb(frame.geometry.values, include_srid=False)
        with conn.cursor().copy("COPY ghyd (fid, code, geom) FROM STDIN") as copy:
            for fid, code, w in zip(
                frame.index.tolist(), frame["YDYHFLDM"].tolist(), wkb.tolist(), strict=True
            ):
                copy.write_row((fid, code, None if w is None else w.hex()))
        conn.execute("UPDATE ghyd SET geom = ST_SetSRID(geom, 4527)")
        conn.execute("VACUUM ANALYZE ghyd")


def child_area_postgis(workdir: Path, dsn: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 2")
        conn.execute("SET parallel_setup_cost = 0")
        conn.execute("SET min_parallel_table_scan_size = 0")
        best, total = float("inf"), 0.0
        for _ in range(3):
            t = time.perf_counter()
            total = conn.execute(
                "SELECT sum(ST_Area(ST_Transform(geom, 4490)::geography)) FROM ghyd"
            ).fetchone()[0]
            best = min(best, time.perf_counter() - t)
    return {"seconds": best, "total_m2": float(total)}


def child_balance_ours(workdir: Path) -> dict[str, Any]:
    from guotu.services.stats import land_use_balance
    from guotu.store.geopackage import GeoPackageStore

    with GeoPackageStore.open(workdir / "county.gpkg") as store:
        t = time.perf_counter()
        table = land_use_balance(store, "GHYD")
        seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "rows": len(table.rows),
        "total_m2": table.total_area_m2,
        "note": "includes reading the layer from the GeoPackage",
    }


def child_balance_postgis(workdir: Path, dsn: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 2")
        t = time.perf_counter()
        rows = conn.execute(
            "SELECT code, sum(ST_Area(ST_Transform(geom, 4490)::geography)) FROM ghyd "
            "GROUP BY code ORDER BY code"
        ).fetchall()
    return {
        "seconds": time.perf_counter() - t,
        "rows": len(rows),
        "note": "level-2 codes only; the table is already in the database",
    }


CHILDREN = {
    "build": child_build,
    "import_ours": child_import_ours,
    "import_pyogrio": child_import_pyogrio,
    "area_ours": child_area_ours,
    "area_geod_loop": child_area_geod_loop,
    "area_postgis": child_area_postgis,
    "balance_ours": child_balance_ours,
    "balance_postgis": child_balance_postgis,
}


# -- driver --------------------------------------------------------------------------------
def run_child(name: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, *args], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_postgis() -> str | None:
    script = ROOT / "scripts" / "pg-throwaway"
    proc = subprocess.run(["bash", str(script), "start"], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"PostGIS not available, its peers are skipped:\n{proc.stderr[-500:]}")
        return None
    return proc.stdout.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/guotu-bench"))
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each import (best counts)")
    ap.add_argument("--keep", action="store_true", help="reuse an existing demo county")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        fn = CHILDREN[ns.child]
        args: list[Any] = [Path(ns.rest[0]), *ns.rest[1:]]
        if ns.child == "build":
            args[1] = int(args[1])
        out = fn(*args)
        out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out, default=str))
        return

    work = ns.workdir / f"p{ns.parcels}"
    if not ns.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {
        "parcels": ns.parcels,
        "machine": os.uname().machine,
        "cpus": os.cpu_count(),
    }
    if not (work / "county.gpkg").exists():
        res["build"] = run_child("build", str(work), str(ns.parcels))
        print(f"demo county built in {res['build']['seconds']:.1f} s")

    for which in ("GHYD", "DLTB"):
        ours = min(
            (run_child("import_ours", str(work), which) for _ in range(ns.repeat)),
            key=lambda r: r["seconds"],
        )
        peer = min(
            (run_child("import_pyogrio", str(work), which) for _ in range(ns.repeat)),
            key=lambda r: r["seconds"],
        )
        res[f"import_{which}"] = {
            "ours": ours,
            "pyogrio": peer,
            "ratio_ours_over_pyogrio": ours["seconds"] / peer["seconds"],
        }

    area = {
        "ours": run_child("area_ours", str(work)),
        "geod_loop": run_child("area_geod_loop", str(work)),
    }
    dsn = None if ns.no_postgis else start_postgis()
    if dsn:
        _pg_load(work, dsn)
        area["postgis"] = run_child("area_postgis", str(work), dsn)
        area["speedup_vs_postgis"] = area["postgis"]["seconds"] / area["ours"]["seconds"]
    area["speedup_vs_geod_loop"] = area["geod_loop"]["seconds"] / area["ours"]["seconds"]
    res["area"] = area
    balance = {"ours": run_child("balance_ours", str(work))}
    if dsn:
        balance["postgis"] = run_child("balance_postgis", str(work), dsn)
    res["balance"] = balance

    out = HERE / "results" / f"datahub-{ns.parcels}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str))
    print_table(res)
    print(f"\nwritten to {out}")


def print_table(res: dict[str, Any]) -> None:
    print(f"\nparcels: {res['parcels']}")
    for which in ("GHYD", "DLTB"):
        r = res[f"import_{which}"]
        print(
            f"import {which}: ours {r['ours']['seconds']:.2f} s ({r['ours']['max_rss_mb']:.0f} MB)"
            f" vs pyogrio read+write {r['pyogrio']['seconds']:.2f} s "
            f"({r['pyogrio']['max_rss_mb']:.0f} MB) → ratio {r['ratio_ours_over_pyogrio']:.2f}×"
        )
    a = res["area"]
    line = (
        f"ellipsoidal area: ours {a['ours']['seconds']:.3f} s ({a['ours']['max_rss_mb']:.0f} MB)"
        f", Geod loop {a['geod_loop']['seconds']:.2f} s (×{a['speedup_vs_geod_loop']:.1f})"
    )
    if "postgis" in a:
        line += (
            f", PostGIS {a['postgis']['seconds']:.3f} s (×{a['speedup_vs_postgis']:.1f}); "
            f"totals ours {a['ours']['total_m2']:.1f} / PostGIS {a['postgis']['total_m2']:.1f}"
            f" / Geod {a['geod_loop']['total_m2']:.1f} m²"
        )
    print(line)
    b = res["balance"]
    line = f"用地平衡表: ours {b['ours']['seconds']:.2f} s ({b['ours']['max_rss_mb']:.0f} MB)"
    if "postgis" in b:
        line += f", PostGIS GROUP BY {b['postgis']['seconds']:.2f} s"
    print(line)


if __name__ == "__main__":
    main()

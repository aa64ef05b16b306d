"""Monitoring benchmark (issue 6 §6): incremental vs full indicator recomputation, and change
patch classification vs the same matching in PostGIS, in the same run.

* **indicators**: on the demo county (300,000 parcels by default, with its five survey
  versions), a 1 % amendment of the land survey (1 % of the patches recoded, recorded as a new
  version) is followed by every indicator of the catalogue, (a) by an engine that had computed
  the previous version (incremental: it reads the changed revisions only) and (b) by a fresh
  engine (full). The two must give identical values. Median of ``--repeat`` runs; the
  incremental engine is rebuilt, untimed, before each.
* **cases**: 10,000 seeded change patches (20–120 m boxes) replace the demo's, and every patch
  is classified (:func:`guotu.services.cases.classify_patches`: overlaps with approved
  projects split by approval date, red line, permanent farmland and development boundary).
  PostGIS does the same matching (GiST indexes, the four overlap sums per patch with
  ``ST_Intersection`` / ``ST_Area`` on the same tables), loaded by ``COPY`` (not timed); the
  overlap areas are compared (PostGIS's planar, ours ellipsoidal: within 0.1 %).

Usage::

    python benchmarks/bench_monitor.py [--parcels 300000] [--quick] [--repeat 3]
        [--patches 10000] [--workdir /tmp/guotu-bench-monitor] [--no-postgis]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRID = 4527
PG_DIR, PG_PORT = "/tmp/guotu-bench-monitor-pg", "55437"


def build(workdir: Path, parcels: int) -> Path:
    from guotu.demo.build import build_demo

    gpkg = workdir / f"demo-{parcels}.gpkg"
    if not gpkg.exists():
        t = time.perf_counter()
        build_demo(gpkg, workdir / f"files-{parcels}", parcels=parcels, force=True)
        print(f"demo built in {time.perf_counter() - t:.0f} s")
    return gpkg


def amend(src: Path, dst: Path, share: float, seed: int = 11) -> dict[str, Any]:
    """Copy ``src`` and record a new survey version with ``share`` of the patches recoded."""
    from guotu.domain.core.catalog import VersionSpec
    from guotu.store.geopackage import GeoPackageStore

    shutil.copy(src, dst)
    with GeoPackageStore.open(dst) as store:
        info = store.layer("DLTB")
        frame = store.read_layer("DLTB", as_of=date(2025, 12, 31)).reset_index(drop=True)
        rng = np.random.default_rng(seed)
        rows = rng.choice(len(frame), size=max(1, int(share * len(frame))), replace=False)
        codes = frame["DLBM"].astype(object).to_numpy().copy()
        codes[rows] = np.where(np.char.startswith(codes[rows].astype(str), "01"), "0701", "0103")
        frame["DLBM"] = codes
        t = time.perf_counter()
        store.write_layer(
            "DLTB",
            info.role,
            frame,
            column_types=info.columns,
            geometry_type=info.geometry_type,
            version=VersionSpec(
                info.plan, "2026年度国土变更调查（基准测试）", valid_from=date(2026, 6, 30)
            ),
            reason="benchmark amendment",
        )
        record_s = time.perf_counter() - t
    return {"features": len(frame), "changed": int(len(rows)), "record_s": record_s}


def bench_indicators(gpkg: Path, repeat: int) -> dict[str, Any]:
    from guotu.services.monitoring import IndicatorEngine
    from guotu.services.monitoring_inputs import load_catalogue
    from guotu.store.geopackage import GeoPackageStore

    cat = load_catalogue()
    before, after = date(2026, 1, 1), date(2026, 7, 1)
    inc, full = [], []
    values: dict[str, list[Any]] = {}
    reads: dict[str, list[int]] = {}
    with GeoPackageStore.open(gpkg) as store:
        for _ in range(repeat):
            engine = IndicatorEngine(store, cat)
            engine.compute(before)
            start = list(engine.reads)
            t = time.perf_counter()
            got = engine.compute(after)
            inc.append(time.perf_counter() - t)
            reads["incremental"] = [b - a for a, b in zip(start, engine.reads, strict=True)]
            fresh = IndicatorEngine(store, cat)
            t = time.perf_counter()
            ref = fresh.compute(after)
            full.append(time.perf_counter() - t)
            reads["full"] = fresh.reads
            values = {"incremental": [v.value for v in got], "full": [v.value for v in ref]}
    same = values["incremental"] == values["full"]
    return {
        "incremental_s": statistics.median(inc),
        "full_s": statistics.median(full),
        "runs_incremental": inc,
        "runs_full": full,
        "identical": same,
        "speedup": statistics.median(full) / statistics.median(inc),
        "reads": reads,
    }


def patches(gpkg: Path, n: int, seed: int = 5) -> gpd.GeoDataFrame:
    from guotu.store.geopackage import GeoPackageStore

    with GeoPackageStore.open(gpkg) as store:
        outline = store.read_layer("XZQ", as_of=date(2025, 12, 31))
        county = outline[outline["JB"] == "县级"].geometry.values[0]
        crs = store.crs
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = county.bounds
    out: list[Any] = []
    while len(out) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        w, h = rng.uniform(20, 120, 2)
        box = shapely.box(x, y, x + w, y + h)
        if county.contains(box):
            out.append(box)
    days = [date(2025, 4, 20)] * n
    return gpd.GeoDataFrame(
        {
            "TBBH": [f"BM{i + 1:06d}" for i in range(n)],
            "HSXRQ": days,
            "QSXRQ": [date(2024, 10, 15)] * n,
            "BHLX": ["新增建设用地"] * n,
        },
        geometry=out,
        crs=crs,
    )


def bench_cases(gpkg: Path, frame: gpd.GeoDataFrame, repeat: int) -> dict[str, Any]:
    from guotu.services.cases import classify_patches
    from guotu.store.geopackage import GeoPackageStore

    with GeoPackageStore.open(gpkg) as store:
        store.write_layer(
            "BHTB",
            "change_patch",
            frame,
            column_types={"TBBH": "text", "HSXRQ": "date", "QSXRQ": "date", "BHLX": "text"},
            geometry_type="POLYGON",
            replace=True,
        )
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            report = classify_patches(store, as_of=date(2026, 1, 1))
            times.append(time.perf_counter() - t)
    summary = report.summary()["by_class"]
    overlaps = {
        c.tbbh: (
            c.facts.approved_m2 + c.facts.approved_later_m2,
            c.facts.redline_m2,
            c.facts.farmland_m2,
            c.facts.area_m2 - c.facts.outside_udb_m2,
        )
        for c in report.cases
    }
    return {
        "seconds": statistics.median(times),
        "runs": times,
        "by_class": summary,
        "overlaps": overlaps,
    }


def bench_cases_postgis(
    gpkg: Path, frame: gpd.GeoDataFrame, dsn: str, repeat: int
) -> dict[str, Any]:
    import psycopg

    from guotu.store.geopackage import GeoPackageStore

    def load(conn: Any, name: str, geoms: Any, extra: dict[str, list[Any]]) -> None:
        cols = "".join(f", {k} {'date' if k == 'day' else 'text'}" for k in extra)
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(
            f"CREATE TABLE {name} (id bigint PRIMARY KEY, geom geometry(Geometry, {SRID}){cols})"
        )
        wkb = shapely.to_wkb(
            shapely.set_srid(np.asarray(geoms, dtype=object), SRID), hex=True, include_srid=True
        )
        names = ", ".join(["id", "geom", *extra])
        with conn.cursor().copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for i, w in enumerate(wkb.tolist()):
                copy.write_row((i, w, *(extra[k][i] for k in extra)))
        conn.execute(f"CREATE INDEX ON {name} USING gist (geom)")
        conn.execute(f"VACUUM ANALYZE {name}")

    with GeoPackageStore.open(gpkg) as store, psycopg.connect(dsn, autocommit=True) as conn:
        day = date(2026, 1, 1)
        for role, table in (
            ("ecological_redline", "red"),
            ("permanent_farmland", "farm"),
            ("urban_boundary", "udb"),
        ):
            name = store.layers_with_role(role)[0].name
            load(
                conn,
                table,
                shapely.make_valid(store.read_layer(name, as_of=day).geometry.values),
                {},
            )
        js = store.read_layer("JSXM", as_of=day)
        load(
            conn,
            "proj",
            shapely.make_valid(js.geometry.values),
            {"day": [str(d)[:10] if d else None for d in js["PZRQ"]]},
        )
        load(conn, "patch", frame.geometry.values, {"day": [d.isoformat() for d in frame["HSXRQ"]]})
    sql = """
        SELECT p.id,
          (SELECT coalesce(sum(ST_Area(ST_Intersection(p.geom, j.geom))), 0) FROM proj j
             WHERE ST_Intersects(p.geom, j.geom)) AS approved,
          (SELECT coalesce(sum(ST_Area(ST_Intersection(p.geom, r.geom))), 0) FROM red r
             WHERE ST_Intersects(p.geom, r.geom)) AS red,
          (SELECT coalesce(sum(ST_Area(ST_Intersection(p.geom, f.geom))), 0) FROM farm f
             WHERE ST_Intersects(p.geom, f.geom)) AS farm,
          (SELECT coalesce(sum(ST_Area(ST_Intersection(p.geom, u.geom))), 0) FROM udb u
             WHERE ST_Intersects(p.geom, u.geom)) AS in_udb,
          (SELECT count(*) FROM proj j WHERE ST_Intersects(p.geom, j.geom) AND j.day > p.day)
             AS later
        FROM patch p ORDER BY p.id"""
    times = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(repeat):
            t = time.perf_counter()
            rows = conn.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
    return {
        "seconds": statistics.median(times),
        "runs": times,
        "overlaps": {f"BM{r[0] + 1:06d}": tuple(float(v) for v in r[1:5]) for r in rows},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--quick", action="store_true", help="30,000 parcels, 2,000 patches")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--patches", type=int, default=10_000)
    ap.add_argument("--share", type=float, default=0.01, help="share of patches amended")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/guotu-bench-monitor"))
    ap.add_argument("--no-postgis", action="store_true")
    args = ap.parse_args()
    parcels = 30_000 if args.quick else args.parcels
    n_patches = 2_000 if args.quick else args.patches
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = build(args.workdir, parcels)
    amended = args.workdir / "amended.gpkg"
    res: dict[str, Any] = {
        "machine": platform.platform(),
        "parcels": parcels,
        "amendment": amend(base, amended, args.share),
    }
    res["indicators"] = bench_indicators(amended, args.repeat)
    frame = patches(base, n_patches)
    cases_ws = args.workdir / "cases.gpkg"
    shutil.copy(base, cases_ws)
    ours = bench_cases(cases_ws, frame, args.repeat)
    res["cases"] = {
        "patches": n_patches,
        "ours_s": ours["seconds"],
        "runs": ours["runs"],
        "by_class": ours["by_class"],
    }
    if not args.no_postgis:
        pg = subprocess.run(
            ["bash", str(ROOT / "scripts" / "pg-throwaway"), "start", PG_DIR, PG_PORT],
            capture_output=True,
            text=True,
            check=False,
        )
        if pg.returncode == 0:
            try:
                peer = bench_cases_postgis(
                    cases_ws, frame, pg.stdout.strip().splitlines()[-1], args.repeat
                )
                worst = max(
                    abs(a - b) / max(abs(b), 1.0)
                    for k, row in peer["overlaps"].items()
                    for a, b in zip(ours["overlaps"][k], row, strict=True)
                )
                res["cases"].update(
                    postgis_s=peer["seconds"],
                    postgis_runs=peer["runs"],
                    ratio=peer["seconds"] / ours["seconds"],
                    worst_relative_difference=worst,
                )
            finally:
                subprocess.run(
                    ["bash", str(ROOT / "scripts" / "pg-throwaway"), "stop", PG_DIR],
                    capture_output=True,
                    check=False,
                )
        else:
            print(f"PostGIS not available: {pg.stderr.strip()[-300:]}")
    ind = res["indicators"]
    print(
        f"indicators after a {args.share:.0%} amendment of {parcels} parcels: incremental "
        f"{ind['incremental_s']:.3f} s, full {ind['full_s']:.3f} s, {ind['speedup']:.1f}× "
        f"(identical: {ind['identical']}); reads {ind['reads']}"
    )
    c = res["cases"]
    line = f"{n_patches} change patches classified: ours {c['ours_s']:.2f} s"
    if "postgis_s" in c:
        line += (
            f", PostGIS {c['postgis_s']:.2f} s ({c['ratio']:.1f}× ours), worst overlap "
            f"difference {c['worst_relative_difference']:.2e}"
        )
    print(line)
    out = HERE / "results" / f"monitor-{parcels}.json"
    out.write_text(json.dumps(res, indent=1, ensure_ascii=False, default=str) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    sys.exit(main())

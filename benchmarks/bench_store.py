"""Versioned-store benchmark (issue: versioned plan store on GeoPackage and PostGIS).

On the demo county's master-plan layer (GHYD, ~300k parcels), for the GeoPackage and the
PostGIS store, peers in the same run:

* load: record the layer as version v1 of a plan;
* as-of read of the whole layer, vs a plain pyogrio read of the same GeoPackage table
  (in a child process: GDAL's SQLite must not share a process with ours) and, for PostGIS,
  a plain ``SELECT`` of a copy of the table;
* as-of read of a 2 km × 2 km window, vs pyogrio's bbox read and a plain PostGIS
  ``geom && ST_MakeEnvelope`` query on the copy (GiST-indexed);
* an amendment changing 1 % of the parcels (their code): record it, the storage it adds,
  and the diff against its parent, vs diffing two full copies (read both versions whole and
  compare them feature by feature). Goal: ≥ 10× faster.

Usage: ``python benchmarks/bench_store.py [--parcels 300000] [--no-postgis]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from guotu.domain.core.catalog import VersionSpec  # noqa: E402
from guotu.domain.core.model import PlanLevel, PlanType, VersionStatus  # noqa: E402
from guotu.services.diff import diff_versions  # noqa: E402
from guotu.store.geopackage import GeoPackageStore  # noqa: E402

PLAN = "示范县总体规划"
TYPES = {"BSM": "text", "XZQDM": "text", "YDYHFLDM": "code", "YDYHFLMC": "text", "MJ": "real"}


def best(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def pyogrio_child(path: Path, layer: str, bbox: tuple[float, ...] | None) -> float:
    code = (
        "import sys, time, json, pyogrio\n"
        "b = json.loads(sys.argv[3])\n"
        "best = 9e9\n"
        "for _ in range(3):\n"
        "    t = time.perf_counter()\n"
        "    pyogrio.read_dataframe(sys.argv[1], layer=sys.argv[2], bbox=tuple(b) if b "
        "else None, use_arrow=True)\n"
        "    best = min(best, time.perf_counter() - t)\n"
        "print(best)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), layer, json.dumps(bbox)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def full_copy_diff(store: Any, old_id: int, new_id: int) -> int:
    """The naive peer: read both versions whole and compare them feature by feature."""
    a = store.read_layer("GHYD", version_id=old_id)
    b = store.read_layer("GHYD", version_id=new_id)
    a = a.set_index("BSM")
    b = b.set_index("BSM")
    common = a.index.intersection(b.index)
    attrs = [c for c in a.columns if c != a.geometry.name]
    changed = (a.loc[common, attrs].astype(str) != b.loc[common, attrs].astype(str)).any(axis=1)
    geom_changed = ~a.geometry.loc[common].geom_equals_exact(b.geometry.loc[common], 0.0)
    return int(
        (changed | geom_changed).sum()
        + len(a.index.difference(b.index))
        + len(b.index.difference(a.index))
    )


def run_store(
    name: str,
    store: Any,
    frame: Any,
    window: tuple[float, ...],
    gpkg_path: Path | None,
    dsn: str | None,
) -> dict[str, Any]:
    res: dict[str, Any] = {"store": name}
    store.create_plan(PLAN, level=PlanLevel.COUNTY, type=PlanType.MASTER)
    t = time.perf_counter()
    store.write_layer(
        "GHYD",
        "planned_land_use",
        frame,
        column_types=TYPES,
        geometry_type="MULTIPOLYGON",
        version=VersionSpec(PLAN, "v1"),
        crs=frame.crs,
    )
    res["load_s"] = time.perf_counter() - t
    res["read_s"], whole = best(lambda: store.read_layer("GHYD"))
    res["features"] = len(whole)
    res["bbox_read_s"], part = best(lambda: store.read_layer("GHYD", bbox=window), 5)
    res["bbox_features"] = len(part)
    if gpkg_path is not None:
        res["peer_read_s"] = pyogrio_child(gpkg_path, "GHYD", None)
        res["peer_bbox_read_s"] = pyogrio_child(gpkg_path, "GHYD", window)
        res["peer"] = "pyogrio read of the same GeoPackage table"
    if dsn is not None:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {store.schema}, public")
            conn.execute("DROP TABLE IF EXISTS plain_copy")
            conn.execute('CREATE TABLE plain_copy AS SELECT * FROM "GHYD"')
            conn.execute("CREATE INDEX ON plain_copy USING gist (geom)")
            conn.execute("VACUUM ANALYZE plain_copy")
            res["peer_read_s"], _ = best(
                lambda: conn.execute(
                    'SELECT fid, ST_AsBinary(geom), "BSM", "YDYHFLDM" FROM plain_copy'
                ).fetchall()
            )
            env = (window[0], window[1], window[2], window[3])
            res["peer_bbox_read_s"], _ = best(
                lambda: conn.execute(
                    'SELECT fid, ST_AsBinary(geom), "BSM", "YDYHFLDM" FROM plain_copy WHERE '
                    "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4527)",
                    env,
                ).fetchall(),
                5,
            )
        res["peer"] = "plain PostGIS SELECT (GiST bbox) on a copy of the table"
    # Amendment: 1 % of the parcels get a new code.
    rng = np.random.default_rng(7)
    amended = frame.copy()
    pick = rng.choice(len(amended), size=len(amended) // 100, replace=False)
    amended.iloc[pick, amended.columns.get_loc("YDYHFLDM")] = "0901"
    rows_before = store.revision_count("GHYD")
    t = time.perf_counter()
    store.write_layer(
        "GHYD",
        "planned_land_use",
        amended,
        column_types=TYPES,
        geometry_type="MULTIPOLYGON",
        version=VersionSpec(PLAN, "v2", status=VersionStatus.AMENDED),
    )
    res["amend_s"] = time.perf_counter() - t
    res["changed_features"] = len(pick)
    res["rows_added"] = store.revision_count("GHYD") - rows_before
    v1, v2 = store.version(PLAN, "v1"), store.version(PLAN, "v2")
    res["diff_s"], d = best(lambda: diff_versions(store, PLAN, "v1", "v2"))
    res["diff_changed"] = d.layers[0].count("changed")
    res["full_copy_diff_s"], n = best(lambda: full_copy_diff(store, v1.id, v2.id), 1)
    res["full_copy_diff_changed"] = n
    res["diff_speedup"] = res["full_copy_diff_s"] / res["diff_s"]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/guotu-bench"))
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument(
        "--only",
        choices=["geopackage", "postgis"],
        help="run one store in this process (the driver runs each in its own "
        "process, so each reports its own peak memory)",
    )
    ns = ap.parse_args()
    if ns.only is None:
        results = []
        for only in ("geopackage", *(() if ns.no_postgis else ("postgis",))):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--parcels",
                    str(ns.parcels),
                    "--workdir",
                    str(ns.workdir),
                    "--only",
                    only,
                ],
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise SystemExit(f"{only} failed:\n{out.stderr[-3000:]}")
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        path = HERE / "results" / f"store-{ns.parcels}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
        print(pd.DataFrame(results).set_index("store").T.to_string())
        print(f"\nwritten to {path}")
        return
    work = ns.workdir / f"p{ns.parcels}"
    county = work / "county.gpkg"
    if not county.exists():
        from guotu.demo.build import build_demo

        build_demo(county, work / "files", parcels=ns.parcels, force=True)
    with GeoPackageStore.open(county) as src:
        frame = src.read_layer("GHYD")
    frame = frame.reset_index(drop=True)
    minx, miny = frame.total_bounds[:2] + 5000
    window = (float(minx), float(miny), float(minx) + 2000, float(miny) + 2000)
    if ns.only == "geopackage":
        gpkg = work / "store-bench.gpkg"
        for p in work.glob("store-bench.gpkg*"):
            p.unlink()
        with GeoPackageStore.open(gpkg, create=True) as store:
            result = run_store("geopackage", store, frame, window, gpkg, None)
        result["file_mb_after"] = gpkg.stat().st_size / 1e6
    else:
        import psycopg

        from guotu.store.postgis import PostGISStore

        dsn = subprocess.run(
            ["bash", str(ROOT / "scripts" / "pg-throwaway"), "start"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        schema = "bench_store"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        with PostGISStore.open(dsn, create=True, schema=schema) as store:
            result = run_store("postgis", store, frame, window, None, dsn)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()

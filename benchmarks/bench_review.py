"""Plan-review overlay benchmark (issue 4), peers in the same run.

The 三区三线 review of all parcels of the demo county (GHYD) against:

* ``red``: 2,000 synthetic red-line polygons (生态保护红线) with holes, ~2,000 vertices each,
  wiggly boundaries, over the county extent;
* ``farmland``: 50,000 small farmland patches (永久基本农田), small × small;
* ``red200`` / ``red200x30k``: every tenth red line (200 polygons) with ~2,000 and with
  30,000 vertices per polygon: the same shapes, 15 times as many vertices per metre of
  boundary (a vertex every 4 cm), so every crossing parcel meets 15 times as many;
* ``red12x30k``: 12 large red lines of 33,000 vertices (30,000 + a hole of 3,000), 1.5 km
  across, at about the vertex spacing of ``red200`` (0.45 m against 0.58 m) — real large
  红线 are large because they are long, not because they are dense. Together with
  ``red200`` it gives the cost per boundary pair of a 30,000-vertex polygon at equal density.

Peers, each computing pairs + intersection area (+ the intersection geometry): ours
(:func:`guotu.domain.geometry.overlay.overlay`, 2 threads; the area-only path too), the bare kernel
(STRtree candidate pairs + ``shapely.intersection`` + area, 2 threads), ``geopandas.overlay``,
PostGIS plain (GiST, ST_Intersects/ST_Intersection, one process) and tuned (red lines cut with
ST_Subdivide — not timed — ST_CoveredBy shortcut, two parallel workers), DuckDB spatial and
SedonaDB. Every peer's total planar intersection area must agree with ours (relative 1e-6)
before its time is reported. Each peer runs in its own process (peak memory = its max RSS).
Times are medians of ``--repeat`` runs; data loading and index building of the databases are
not timed, ours includes everything after :func:`~guotu.domain.geometry.overlay.prepare_zones`
(reported separately).

Usage::

    python benchmarks/bench_review.py [--parcels 300000] [--quick] [--repeat 3]
        [--workdir /tmp/guotu-bench-review] [--no-postgis] [--only ours,duckdb]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
X0, Y0, X1, Y1 = 39_523_000.0, 4_044_000.0, 39_548_000.0, 4_059_500.0  # demo county extent
EPSG = 4527
THREADS = 2
AGREE_REL = 1e-6


# -- data (seeded, deterministic) ------------------------------------------------------------
def _star(rng: np.random.Generator, cx: float, cy: float, r: float, n: int) -> np.ndarray:
    """A star-shaped ring of ``n`` vertices around (cx, cy): a simple, wiggly boundary."""
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    k = np.arange(2, 40)
    amp = rng.uniform(0.0, 1.0, len(k)) * 0.25 / k**0.9
    phase = rng.uniform(0.0, 2 * np.pi, len(k))
    rr = r * (1.0 + (amp[:, None] * np.sin(k[:, None] * theta + phase[:, None])).sum(0))
    rr = np.maximum(rr, 0.2 * r)
    return np.column_stack([cx + rr * np.cos(theta), cy + rr * np.sin(theta)])


def red_lines(n: int, vertices: int, seed: int = 20261122, every: int = 1) -> np.ndarray:
    """``n`` red-line polygons with one hole each on a jittered grid over the county; with
    ``every`` > 1 only every such polygon (same shapes, any vertex count)."""
    rng = np.random.default_rng(seed)
    nx = int(np.ceil(np.sqrt(n * (X1 - X0) / (Y1 - Y0))))
    ny = int(np.ceil(n / nx))
    sx, sy = (X1 - X0) / nx, (Y1 - Y0) / ny
    out = []
    for i in range(n):
        sub = np.random.default_rng([seed, i])
        cx = X0 + (i % nx + 0.5) * sx + rng.uniform(-0.05, 0.05) * sx
        cy = Y0 + (i // nx + 0.5) * sy + rng.uniform(-0.05, 0.05) * sy
        if i % every:
            continue
        r = 0.3 * min(sx, sy)
        shell = _star(sub, cx, cy, r, vertices)
        hole = _star(sub, cx + 0.1 * r, cy, 0.25 * r, max(vertices // 10, 16))
        out.append(shapely.Polygon(shell, [hole]))
    return np.array(out, dtype=object)


def farmland(n: int, seed: int = 7) -> np.ndarray:
    """``n`` small farmland patches (8-vertex star-shaped polygons, ~30 m across)."""
    rng = np.random.default_rng(seed)
    nx = int(np.ceil(np.sqrt(n * (X1 - X0) / (Y1 - Y0))))
    ny = int(np.ceil(n / nx))
    sx, sy = (X1 - X0) / nx, (Y1 - Y0) / ny
    i = np.arange(n)
    cx = X0 + (i % nx + 0.5 + rng.uniform(-0.2, 0.2, n)) * sx
    cy = Y0 + (i // nx + 0.5 + rng.uniform(-0.2, 0.2, n)) * sy
    theta = np.sort(rng.uniform(0, 2 * np.pi, (n, 8)), axis=1)
    r = rng.uniform(0.2, 0.45, (n, 8)) * min(sx, sy)
    ring = np.stack([cx[:, None] + r * np.cos(theta), cy[:, None] + r * np.sin(theta)], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return np.asarray(shapely.make_valid(shapely.polygons(ring)), dtype=object)


def _save(path: Path, geoms: np.ndarray) -> None:
    np.save(path, np.asarray(shapely.to_wkb(geoms), dtype=object), allow_pickle=True)


def _load(path: Path) -> np.ndarray:
    return np.asarray(shapely.from_wkb(np.load(path, allow_pickle=True)), dtype=object)


def build_data(workdir: Path, sizes: list[int], quick: bool) -> None:
    """Parcels of the demo county for each size, and the zone layers (cached in workdir)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        path = workdir / f"parcels-{n}.npy"
        if not path.exists():
            _run_child(workdir, ["parcels", str(n)], timeout=3600)
    layers: dict[str, Callable[[], np.ndarray]] = (
        {
            "red": lambda: red_lines(200, 500),
            "farmland": lambda: farmland(5_000),
            "red200": lambda: red_lines(200, 2_000, every=10),
            "red200x30k": lambda: red_lines(200, 30_000, every=10),
            "red12x30k": lambda: red_lines(12, 7_500),
        }
        if quick
        else {
            "red": lambda: red_lines(2_000, 2_000),
            "farmland": lambda: farmland(50_000),
            "red200": lambda: red_lines(2_000, 2_000, every=10),
            "red200x30k": lambda: red_lines(2_000, 30_000, every=10),
            "red12x30k": lambda: red_lines(12, 30_000),
        }
    )
    for name, make in layers.items():
        path = workdir / f"zones-{name}.npy"
        if not path.exists():
            _save(path, make())


# -- peers (each runs in a child process) ---------------------------------------------------
def _timed(fn: Callable[[], tuple[float, int]], repeat: int) -> dict[str, Any]:
    times, total, pairs = [], 0.0, 0
    for _ in range(repeat):
        t = time.perf_counter()
        total, pairs = fn()
        times.append(time.perf_counter() - t)
    return {
        "seconds": statistics.median(times),
        "runs": times,
        "total_m2": float(total),
        "pairs": int(pairs),
    }


def peer_ours(
    parcels: np.ndarray, zones: np.ndarray, repeat: int, *, geometry: bool = True
) -> dict[str, Any]:
    from pyproj import CRS

    from guotu.domain.geometry.overlay import overlay
    from guotu.domain.geometry.zone_index import prepare_zones

    t = time.perf_counter()
    idx = prepare_zones(zones, CRS.from_epsg(EPSG), threads=THREADS)
    prepare_s = time.perf_counter() - t

    def run() -> tuple[float, int]:
        r = overlay(parcels, idx, geometry=geometry, workers=THREADS)
        return float(r.planar_area_m2.sum()), len(r)

    out = _timed(run, repeat)
    r = overlay(parcels, idx, geometry=False, workers=THREADS)
    out.update(
        prepare_seconds=prepare_s,
        ellipsoidal_m2=float(r.area_m2.sum()),
        boundary_pairs=int((r.relation == "overlaps").sum()),
    )
    return out


def peer_ours_area(parcels: np.ndarray, zones: np.ndarray, repeat: int) -> dict[str, Any]:
    return peer_ours(parcels, zones, repeat, geometry=False)


def peer_bare(parcels: np.ndarray, zones: np.ndarray, repeat: int) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    def chunk(part: np.ndarray, tree: shapely.STRtree) -> tuple[float, int]:
        a, b = tree.query(part, predicate="intersects")
        area = shapely.area(shapely.intersection(part[a], zones[b]))
        return float(area.sum()), int((area > 0).sum())

    def run() -> tuple[float, int]:
        tree = shapely.STRtree(zones)
        with ThreadPoolExecutor(THREADS) as pool:
            res = list(pool.map(lambda p: chunk(p, tree), np.array_split(parcels, THREADS * 4)))
        return sum(r[0] for r in res), sum(r[1] for r in res)

    return _timed(run, repeat)


def peer_geopandas(parcels: np.ndarray, zones: np.ndarray, repeat: int) -> dict[str, Any]:
    import geopandas as gpd

    left = gpd.GeoDataFrame({"pid": np.arange(len(parcels))}, geometry=parcels, crs=EPSG)
    right = gpd.GeoDataFrame({"zid": np.arange(len(zones))}, geometry=zones, crs=EPSG)

    def run() -> tuple[float, int]:
        out = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
        return float(out.geometry.area.sum()), len(out)

    return _timed(run, repeat)


def _pg_dsn(workdir: Path) -> str:
    return (workdir / "pg.dsn").read_text().strip()


def pg_load(workdir: Path, scenario: str, n: int) -> dict[str, Any]:
    """Load parcels and zones into PostGIS with GiST indexes, and the subdivided zones (not
    timed: the issue does not count the cutting)."""
    import psycopg

    parcels, zones = _load(workdir / f"parcels-{n}.npy"), _load(workdir / f"zones-{scenario}.npy")
    with psycopg.connect(_pg_dsn(workdir), autocommit=True) as conn:
        for table, geoms in ((f"p{n}", parcels), (f"z_{scenario}", zones)):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (id int, geom geometry(Geometry, {EPSG}))")
            with conn.cursor().copy(f"COPY {table} (id, geom) FROM STDIN") as copy:
                wkb = shapely.to_wkb(shapely.set_srid(geoms, EPSG), hex=True, include_srid=True)
                for i, w in enumerate(wkb.tolist()):
                    copy.write_row((i, w))
            conn.execute(f"CREATE INDEX ON {table} USING gist (geom)")
            conn.execute(f"VACUUM ANALYZE {table}")
        t = time.perf_counter()
        conn.execute(f"DROP TABLE IF EXISTS zs_{scenario}")
        conn.execute(
            f"CREATE TABLE zs_{scenario} AS SELECT id, ST_Subdivide(geom, 256) AS geom "
            f"FROM z_{scenario}"
        )
        conn.execute(f"CREATE INDEX ON zs_{scenario} USING gist (geom)")
        conn.execute(f"VACUUM ANALYZE zs_{scenario}")
        return {"subdivide_seconds": time.perf_counter() - t}


def _pg_query(workdir: Path, sql: str, settings: list[str], repeat: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(_pg_dsn(workdir), autocommit=True) as conn:
        for s in settings:
            conn.execute(s)

        def run() -> tuple[float, int]:
            count, total = conn.execute(sql).fetchone()  # type: ignore[misc]
            return float(total or 0.0), int(count)

        return _timed(run, repeat)


def peer_postgis(workdir: Path, scenario: str, n: int, repeat: int) -> dict[str, Any]:
    sql = (
        f"SELECT count(*), sum(ST_Area(g)) FROM (SELECT ST_Intersection(p.geom, z.geom) g "
        f"FROM p{n} p JOIN z_{scenario} z ON ST_Intersects(p.geom, z.geom)) q"
    )
    return _pg_query(workdir, sql, ["SET max_parallel_workers_per_gather = 0"], repeat)


def peer_postgis_tuned(workdir: Path, scenario: str, n: int, repeat: int) -> dict[str, Any]:
    sql = (
        f"SELECT count(*), sum(ST_Area(g)) FROM (SELECT CASE WHEN ST_CoveredBy(p.geom, z.geom) "
        f"THEN p.geom ELSE ST_Intersection(p.geom, z.geom) END g "
        f"FROM p{n} p JOIN zs_{scenario} z ON ST_Intersects(p.geom, z.geom)) q"
    )
    return _pg_query(
        workdir,
        sql,
        [
            "SET max_parallel_workers_per_gather = 2",
            "SET parallel_setup_cost = 0",
            "SET parallel_tuple_cost = 0",
            "SET min_parallel_table_scan_size = 0",
            "SET min_parallel_index_scan_size = 0",
        ],
        repeat,
    )


def peer_duckdb(parcels: np.ndarray, zones: np.ndarray, repeat: int) -> dict[str, Any]:
    import duckdb
    import duckdb_extension_spatial
    import pyarrow as pa

    ext = next(
        Path(duckdb_extension_spatial.__file__).parent.glob(
            f"extensions/v{duckdb.__version__}/spatial.duckdb_extension"
        )
    )
    con = duckdb.connect(
        config={
            "threads": THREADS,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute(f"LOAD '{ext}'")  # offline: the extension file from the PyPI package
    for name, geoms in (("p", parcels), ("z", zones)):
        tbl = pa.table(
            {
                "id": np.arange(len(geoms)),
                "wkb": pa.array(shapely.to_wkb(geoms).tolist(), pa.binary()),
            }
        )
        con.register(f"{name}_arrow", tbl)
        con.execute(
            f"CREATE TABLE {name} AS SELECT id, ST_GeomFromWKB(wkb) AS geom FROM {name}_arrow"
        )

    def run() -> tuple[float, int]:
        count, total = con.execute(
            "SELECT count(*), sum(ST_Area(ST_Intersection(p.geom, z.geom))) FROM p JOIN z "
            "ON ST_Intersects(p.geom, z.geom)"
        ).fetchone()  # type: ignore[misc]
        return float(total), int(count)

    out = _timed(run, repeat)
    out["version"] = f"duckdb {duckdb.__version__}, spatial from duckdb-extension-spatial"
    return out


def peer_sedonadb(parcels: np.ndarray, zones: np.ndarray, repeat: int) -> dict[str, Any]:
    import pyarrow as pa
    import sedonadb

    con = sedonadb.connect()
    for name, geoms in (("p", parcels), ("z", zones)):
        tbl = pa.table(
            {
                "id": np.arange(len(geoms)),
                "wkb": pa.array(shapely.to_wkb(geoms).tolist(), pa.binary()),
            }
        )
        con.create_data_frame(tbl).to_view(f"{name}_raw")
        # Parsed once, kept in memory (as the other databases' tables are).
        con.sql(f"SELECT id, ST_GeomFromWKB(wkb) AS geom FROM {name}_raw").to_memtable().to_view(
            name
        )

    def run() -> tuple[float, int]:
        t = con.sql(
            "SELECT count(*) AS n, sum(ST_Area(ST_Intersection(p.geom, z.geom))) AS s "
            "FROM p JOIN z ON ST_Intersects(p.geom, z.geom)"
        ).to_arrow_table()
        return float(t["s"][0].as_py()), int(t["n"][0].as_py())

    out = _timed(run, repeat)
    out["version"] = f"sedonadb {sedonadb.__version__}"
    return out


IN_MEMORY_PEERS: dict[str, Callable[..., dict[str, Any]]] = {
    "ours": peer_ours,
    "ours-area": peer_ours_area,
    "bare": peer_bare,
    "geopandas": peer_geopandas,
    "duckdb": peer_duckdb,
    "sedonadb": peer_sedonadb,
}
PG_PEERS = {"postgis": peer_postgis, "postgis-tuned": peer_postgis_tuned}


def child_main(args: list[str]) -> dict[str, Any]:
    workdir, what = Path(args[0]), args[1]
    if what == "parcels":
        from guotu.demo import generate_county

        n = int(args[2])
        from guotu.domain.geometry.polygons import repair_polygonal

        county = generate_county(n)
        geoms = np.asarray(county.layers["GHYD"].geometry.values, dtype=object)
        # The overlay's contract: the caller repairs invalid input (the demo plants a bow-tie).
        bad = ~shapely.is_valid(geoms)
        geoms[bad] = repair_polygonal(geoms[bad])
        _save(workdir / f"parcels-{n}.npy", geoms)
        return {}
    if what == "pg_load":
        return pg_load(workdir, args[2], int(args[3]))
    scenario, n, repeat = args[2], int(args[3]), int(args[4])
    if what in PG_PEERS:
        return PG_PEERS[what](workdir, scenario, n, repeat)
    parcels, zones = _load(workdir / f"parcels-{n}.npy"), _load(workdir / f"zones-{scenario}.npy")
    return IN_MEMORY_PEERS[what](parcels, zones, repeat)


def _run_child(workdir: Path, args: list[str], timeout: float = 3600) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(workdir), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- agreement and report ------------------------------------------------------------------
def agrees(total: float, reference: float, rel: float = AGREE_REL) -> bool:
    """Whether a peer's total intersection area equals ours within ``rel`` (relative).

    >>> agrees(1000.0000001, 1000.0), agrees(1001.0, 1000.0)
    (True, False)
    """
    return abs(total - reference) <= rel * max(abs(reference), 1e-12)


def _fmt_row(name: str, r: dict[str, Any], ours: dict[str, Any]) -> str:
    if "error" in r:
        return f"| {name} | — | — | — | not run: {r['error'][:160]} |"
    ok = agrees(r["total_m2"], ours["total_m2"])
    ratio = r["seconds"] / ours["seconds"]
    check = "agrees" if ok else f"DISAGREES ({r['total_m2']:.1f} m² vs {ours['total_m2']:.1f})"
    return (
        f"| {name} | {r['seconds']:.2f} s | {ratio:.2f}× | {r['maxrss_mb']:.0f} MB | "
        f"{check}; {r['pairs']:,} pairs |"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        out = child_main(sys.argv[2:])
        out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--quick", action="store_true", help="10k parcels, small zones (< 1 min)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/guotu-bench-review"))
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated peers to run")
    args = ap.parse_args()
    n = 10_000 if args.quick else args.parcels
    workdir = args.workdir / ("quick" if args.quick else "full")
    sizes = [n] if args.quick else sorted({10_000, 30_000, 100_000, n})
    t0 = time.perf_counter()
    build_data(workdir, sizes, args.quick)
    print(f"data ready in {time.perf_counter() - t0:.0f} s ({workdir})", flush=True)
    only = set(filter(None, args.only.split(",")))
    want = lambda p: not only or p in only  # noqa: E731

    pg_ok, pg_started = False, False
    pg_script, pg_dir = str(ROOT / "scripts/pg-throwaway"), "/tmp/guotu-bench-pg"
    if not args.no_postgis and (want("postgis") or want("postgis-tuned")):
        pg_started = (
            subprocess.run(["bash", pg_script, "status", pg_dir], check=False).returncode != 0
        )
        pg = subprocess.run(
            ["bash", pg_script, "start", pg_dir, "55433"],
            capture_output=True,
            text=True,
            check=False,
        )
        pg_ok = pg.returncode == 0
        if pg_ok:
            (workdir / "pg.dsn").write_text(pg.stdout.strip().splitlines()[-1])
        else:
            print(f"PostGIS not available: {pg.stderr.strip()[-200:]}")

    results: dict[str, dict[str, dict[str, Any]]] = {}
    scenarios = ["red", "farmland", "red200", "red200x30k", "red12x30k"]
    for scenario in scenarios:
        peers = (
            [
                "ours",
                "ours-area",
                "bare",
                "geopandas",
                "postgis",
                "postgis-tuned",
                "duckdb",
                "sedonadb",
            ]
            if scenario in ("red", "farmland")
            else ["ours", "ours-area", "bare"]
        )
        res = results.setdefault(scenario, {})
        if pg_ok and any(p.startswith("postgis") and want(p) for p in peers):
            res["pg_load"] = _run_child(workdir, ["pg_load", scenario, str(n)])
        for peer in peers:
            if not want(peer) and peer != "ours":
                continue
            if peer.startswith("postgis") and not pg_ok:
                res[peer] = {"error": "PostGIS could not be started here"}
                continue
            print(f"{scenario}: {peer} …", flush=True)
            res[peer] = _run_child(workdir, [peer, scenario, str(n), str(args.repeat)])
    if pg_ok and pg_started:  # leave no cluster behind that this run started
        subprocess.run(["bash", pg_script, "stop", pg_dir], check=False)
    linear: dict[int, dict[str, Any]] = {}
    for size in sizes:
        if size != n:
            print(f"linearity: ours at {size} …", flush=True)
            linear[size] = _run_child(workdir, ["ours", "red", str(size), str(args.repeat)])
    linear[n] = results["red"]["ours"]

    print(f"\n## Plan review overlay — {n:,} parcels, {THREADS} threads, median of {args.repeat}\n")
    for scenario in scenarios:
        res = results[scenario]
        ours = res["ours"]
        print(f"\n### {scenario}\n")
        if "error" in ours:
            print(f"ours failed: {ours['error']}")
            continue
        print(
            f"ours: prepare_zones {ours['prepare_seconds']:.2f} s (not in the times below); "
            f"{ours['pairs']:,} pairs, {ours['boundary_pairs']:,} crossing a zone boundary; "
            f"ellipsoidal total {ours['ellipsoidal_m2']:,.2f} m², planar "
            f"{ours['total_m2']:,.2f} m²\n"
        )
        print("| peer | time | vs ours | peak memory | check |\n|---|---|---|---|---|")
        for peer, r in res.items():
            if peer != "pg_load":
                print(_fmt_row(peer, r, ours))
        if "pg_load" in res and "subdivide_seconds" in res["pg_load"]:
            print(
                f"\nPostGIS ST_Subdivide (not timed above): "
                f"{res['pg_load']['subdivide_seconds']:.2f} s"
            )
        if "ours-area" in res and "error" not in res["ours-area"]:
            a = res["ours-area"]
            print(
                f"\narea-only path: {a['seconds']:.2f} s, {ours['seconds'] / a['seconds']:.2f}× "
                f"faster than the geometry path; totals equal: "
                f"{agrees(a['total_m2'], ours['total_m2'], 1e-9)}"
            )
    for big, what in (
        ("red200x30k", "same shapes, 15× denser"),
        ("red12x30k", "large polygons, equal density"),
    ):
        for peer in ("ours", "ours-area"):
            r2, r30 = results["red200"].get(peer, {}), results[big].get(peer, {})
            if "seconds" not in r2 or "seconds" not in r30:
                continue
            per2 = r2["seconds"] / max(results["red200"]["ours"]["boundary_pairs"], 1) * 1e6
            per30 = r30["seconds"] / max(results[big]["ours"]["boundary_pairs"], 1) * 1e6
            print(
                f"\n30,000-vertex red lines ({what}), {peer}: {per30:.1f} µs per boundary "
                f"pair vs {per2:.1f} µs with 2,000 vertices ({per30 / per2:.2f}×)"
            )
    print(
        "\n### linearity (red lines, geometry path)\n\n| parcels | time | µs per parcel |"
        "\n|---|---|---|"
    )
    for size, r in sorted(linear.items()):
        if "error" not in r:
            print(f"| {size:,} | {r['seconds']:.2f} s | {r['seconds'] / size * 1e6:.1f} |")
    out = HERE / "results" / f"review-{n}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "parcels": n,
                "results": results,
                "linearity": {str(k): v for k, v in linear.items()},
                "cpus": os.cpu_count(),
            },
            indent=1,
        )
    )
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()

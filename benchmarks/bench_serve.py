"""Serving benchmark (issue 5 §7): site query and vector tiles, peers in the same run.

On the demo county (300,000 parcels by default, every role loaded):

* **site query** for 10,000 points drawn uniformly inside the county (seeded): ours
  in-process (:class:`guotu.services.site_query.SiteQuery`: the service call with its
  data-version check, the call on a built index, and :func:`guotu.domain.site.locate_point`
  alone), ours over HTTP (``guotu serve`` on loopback, one keep-alive ``http.client``
  connection, ``GET /query?point=X,Y``), PostGIS point-in-polygon over loopback (one
  prepared statement per point, ``ST_Intersects`` against every layer, GiST indexes) and a
  bare STRtree point query as the reference. p50/p99 latency and sequential throughput,
  median of ``--repeat`` passes; the answers of a sample of points must agree (the same
  (layer, fid) sets in-process and in PostGIS, the same (layer, feature) sets over HTTP).
* **vector tiles** of ``GHYD`` at z12 and z14 over every tile covering the county: ours
  uncached (:class:`guotu.services.tiles.TileCache` with no tile cache, in-process) vs
  PostGIS ``ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y)))``
  (prepared, loopback), and ours cached (a second pass through the service cache, and over
  HTTP with keep-alive). Feature counts per tile, and the feature ids, are compared with
  PostGIS.

Each measurement runs in its own process (peak memory = its max RSS). PostGIS is started
on loopback by ``scripts/pg-throwaway`` in its own directory and stopped at the end; its
data is loaded from the workspace (the features in force today) with ``COPY``, not timed.

Usage::

    python benchmarks/bench_serve.py [--parcels 300000] [--quick] [--repeat 3]
        [--points 10000] [--workdir /tmp/bench-serve] [--no-postgis] [--only query,tiles]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
SRID = 4527
TILE_LAYER = "GHYD"
ZOOMS = (12, 14)
SAMPLE = 500  # points whose answers are compared between peers
PG_DIR, PG_PORT = "/tmp/guotu-bench-serve-pg", "55435"


# -- data ------------------------------------------------------------------------------------
def build_demo(workdir: Path, parcels: int) -> Path:
    """The demo county workspace for ``parcels`` (built once, then reused)."""
    gpkg = workdir / f"p{parcels}" / "demo.gpkg"
    if not gpkg.exists():
        gpkg.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        subprocess.run(
            [
                str(BIN / "guotu"),
                "demo",
                "-w",
                str(gpkg),
                "--parcels",
                str(parcels),
                "--force",
                "--no-check",
            ],
            check=True,
            capture_output=True,
        )
        print(f"demo county built in {time.perf_counter() - t:.0f} s: {gpkg}", flush=True)
    return gpkg


def _county(gpkg: Path) -> Any:
    from guotu.services.workspace import open_workspace

    with open_workspace(gpkg) as store:
        xzq = store.read_layer("XZQ")
    return shapely.union_all(np.asarray(xzq.geometry.values, dtype=object))


def sample_points(gpkg: Path, n: int, seed: int = 20261122) -> np.ndarray:
    """``n`` points uniform inside the county (XZQ union), by rejection from its box."""
    county = _county(gpkg)
    shapely.prepare(county)
    x0, y0, x1, y1 = county.bounds
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while sum(len(o) for o in out) < n:
        xy = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
        out.append(xy[shapely.contains_xy(county, xy[:, 0], xy[:, 1])])
    return np.round(np.concatenate(out)[:n], 3)


def tiles_covering(gpkg: Path, z: int) -> list[tuple[int, int, int]]:
    """Every XYZ tile at zoom ``z`` meeting the county's box."""
    from pyproj import Transformer

    from guotu.services.tiles import tile_bounds

    county = _county(gpkg)
    tr = Transformer.from_crs(SRID, 3857, always_xy=True)
    minx, miny, maxx, maxy = tr.transform_bounds(*county.bounds, densify_pts=21)
    size = tile_bounds(z, 0, 0)[2] - tile_bounds(z, 0, 0)[0]
    half = -tile_bounds(0, 0, 0)[0]
    xs = range(int((minx + half) // size), int((maxx + half) // size) + 1)
    ys = range(int((half - maxy) // size), int((half - miny) // size) + 1)
    return [(z, x, y) for x in xs for y in ys]


# -- timing ----------------------------------------------------------------------------------
def _stats(lat_ns: list[int], wall_s: float) -> dict[str, float]:
    a = np.asarray(lat_ns, dtype=np.float64) / 1e3  # µs
    return {
        "p50_us": float(np.percentile(a, 50)),
        "p99_us": float(np.percentile(a, 99)),
        "mean_us": float(a.mean()),
        "max_us": float(a.max()),
        "per_s": len(a) / wall_s,
    }


def timed_passes(
    items: list[Any], fn: Callable[[Any], Any], repeat: int, warmup: int = 200
) -> dict[str, Any]:
    """``fn`` over ``items`` ``repeat`` times: per pass p50/p99/mean and throughput; the
    reported figures are the medians over the passes."""
    for it in items[:warmup]:
        fn(it)
    passes = []
    for _ in range(repeat):
        lat: list[int] = []
        t0 = time.perf_counter()
        for it in items:
            t = time.perf_counter_ns()
            fn(it)
            lat.append(time.perf_counter_ns() - t)
        passes.append(_stats(lat, time.perf_counter() - t0))
    out: dict[str, Any] = {k: statistics.median(p[k] for p in passes) for k in passes[0]}
    out["passes"] = passes
    out["n"] = len(items)
    return out


# -- peers: site query -----------------------------------------------------------------------
def _fid_set(index: Any, hits: Iterable[Any]) -> list[list[Any]]:
    out = set()
    for h in hits:
        g = index.groups[h.group]
        if g.change is None:  # in force (pending amendments are not in the PostGIS tables)
            out.add((g.layer, int(g.fids[h.row])))
    return sorted([list(t) for t in out])


def _applies(doc: dict[str, Any]) -> list[list[Any]]:
    return sorted([e["layer"], e["feature"]] for e in doc["applies"])


def peer_query_ours(gpkg: Path, points: np.ndarray, repeat: int) -> dict[str, Any]:
    from guotu.domain.site.query import locate_point
    from guotu.services.site_query import SiteQuery, data_version_token
    from guotu.services.workspace import open_workspace

    store = open_workspace(gpkg)
    q = SiteQuery()
    t = time.perf_counter()
    index = q.index(store)
    build_s = time.perf_counter() - t
    token = data_version_token(store)
    texts = [f"{x!r},{y!r}" for x, y in points.tolist()]
    xy = points.tolist()
    res: dict[str, Any] = {
        "index_build_s": build_s,
        "index_features": len(index),
        "groups": len(index.groups),
    }
    res["service"] = timed_passes(texts, lambda p: q.query(store, point=p).to_dict(), repeat)
    res["on_index"] = timed_passes(
        texts, lambda p: q.query_index(index, point=p, token=token).to_dict(), repeat
    )
    res["locate_point"] = timed_passes(xy, lambda p: locate_point(index, p[0], p[1]), repeat)
    # the bare kernel: an STRtree over unprepared copies of the same geometries
    bare = shapely.from_wkb(shapely.to_wkb(index.geometries))
    tree = shapely.STRtree(bare)
    res["bare_strtree"] = timed_passes(
        xy, lambda p: tree.query(shapely.Point(p[0], p[1]), predicate="intersects"), repeat
    )
    res["sample_fids"] = [_fid_set(index, locate_point(index, x, y)) for x, y in xy[:SAMPLE]]
    res["sample_applies"] = [
        _applies(q.query_index(index, point=p, token=token).to_dict()) for p in texts[:SAMPLE]
    ]
    res["hits_per_point"] = float(np.mean([len(s) for s in res["sample_fids"]]))
    store.close()
    return res


class _Server:
    """``guotu serve`` on loopback in its own process (stopped by its pid)."""

    def __init__(self, gpkg: Path, port: int) -> None:
        import tempfile

        self.port = port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (a file, not a pipe, which could fill)
        self.proc = subprocess.Popen(
            [str(BIN / "guotu"), "serve", "-w", str(gpkg), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.time() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"guotu serve exited: {self._log()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/conformance")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"guotu serve did not start: {self._log()}") from None
                time.sleep(0.2)

    def _log(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-500:]

    def max_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peer_http(
    gpkg: Path, points: np.ndarray, repeat: int, tiles: list[tuple[int, int, int]], what: set[str]
) -> dict[str, Any]:
    port = _free_port()  # never a port another server on this machine already answers on
    server = _Server(gpkg, port)
    res: dict[str, Any] = {}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        if "query" in what:
            paths = [f"/query?point={x!r},{y!r}" for x, y in points.tolist()]
            t = time.perf_counter()
            status, body = _get(conn, paths[0])  # builds the index in the server
            res["first_request_s"] = time.perf_counter() - t
            if status != 200:
                raise RuntimeError(f"GET {paths[0]} answered {status}: {body[:300]!r}")
            bad: list[int] = []

            def one(path: str) -> None:
                s, _ = _get(conn, path)
                if s != 200:
                    bad.append(s)

            res["query"] = timed_passes(paths, one, repeat)
            res["query"]["errors"] = len(bad)
            res["sample_applies"] = [_applies(json.loads(_get(conn, p)[1])) for p in paths[:SAMPLE]]
        if "tiles" in what:
            paths = [f"/tiles/{TILE_LAYER}/{z}/{x}/{y}.mvt" for z, x, y in tiles]
            t = time.perf_counter()
            statuses = [_get(conn, p)[0] for p in paths]  # fills the server's tile cache
            res["tiles_fill_s"] = time.perf_counter() - t
            res["tiles_status"] = {str(s): statuses.count(s) for s in sorted(set(statuses))}
            res["tiles_cached"] = timed_passes(paths, lambda p: _get(conn, p), repeat, warmup=0)
        conn.close()
        res["server_max_rss_mb"] = server.max_rss_mb()
    finally:
        server.stop()
    return res


def _pg_dsn(workdir: Path) -> str:
    return (workdir / "pg.dsn").read_text().strip()


def pg_load(gpkg: Path, workdir: Path) -> dict[str, Any]:
    """Every layer's features in force today into PostGIS (fid, props jsonb, geom), GiST."""
    import psycopg

    from guotu.services.workspace import open_workspace

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    with open_workspace(gpkg) as store, psycopg.connect(_pg_dsn(workdir), autocommit=True) as conn:
        for info in store.layers():
            frame = store.read_layer(info.name, as_of=date.today())
            table = f'"{info.name}"'
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(
                f"CREATE TABLE {table} (fid bigint PRIMARY KEY, props jsonb, "
                f"geom geometry(Geometry, {SRID}))"
            )
            attrs = frame.drop(columns=[frame.geometry.name])
            rows = (
                json.loads(attrs.to_json(orient="records", date_format="iso", force_ascii=False))
                if len(attrs.columns)
                else [{}] * len(frame)
            )
            wkb = shapely.to_wkb(
                shapely.set_srid(np.asarray(frame.geometry.values, dtype=object), SRID),
                hex=True,
                include_srid=True,
            )
            with conn.cursor().copy(f"COPY {table} (fid, props, geom) FROM STDIN") as copy:
                for fid, props, w in zip(frame.index.tolist(), rows, wkb.tolist(), strict=True):
                    clean = {k: v for k, v in props.items() if v is not None}
                    copy.write_row((int(fid), json.dumps(clean, ensure_ascii=False), w))
            conn.execute(f"CREATE INDEX ON {table} USING gist (geom)")
            conn.execute(f"VACUUM ANALYZE {table}")
            out[info.name] = len(frame)
    return {"layers": out, "load_s": time.perf_counter() - t0}


def peer_query_postgis(workdir: Path, points: np.ndarray, repeat: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(_pg_dsn(workdir), autocommit=True) as conn:
        layers = [
            r[0]
            for r in conn.execute(
                "SELECT f_table_name FROM geometry_columns WHERE f_table_schema = 'public' "
                "ORDER BY 1"
            ).fetchall()
        ]
        sql = " UNION ALL ".join(
            f"SELECT '{name}' AS layer, fid FROM \"{name}\" WHERE ST_Intersects(geom, "
            f"ST_SetSRID(ST_Point(%(x)s, %(y)s), {SRID}))"
            for name in layers
        )
        xy = [{"x": x, "y": y} for x, y in points.tolist()]
        res: dict[str, Any] = {
            "layers": len(layers),
            "server": conn.execute("SELECT version()").fetchone()[0],  # type: ignore[index]
            "postgis": conn.execute("SELECT postgis_lib_version()").fetchone()[0],
        }  # type: ignore[index]
        res["query"] = timed_passes(
            xy, lambda p: conn.execute(sql, p, prepare=True).fetchall(), repeat
        )
        res["sample_fids"] = [
            sorted([list(r) for r in conn.execute(sql, p, prepare=True)]) for p in xy[:SAMPLE]
        ]
    return res


# -- peers: tiles ----------------------------------------------------------------------------
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return out, i


def _fields(buf: bytes) -> Iterable[tuple[int, Any]]:
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        else:
            value, i = buf[i : i + 4], i + 4
        yield key >> 3, value


def tile_fids(tile: bytes) -> list[int]:
    """The feature ids of every layer of an MVT tile (sorted)."""
    out = []
    for number, layer in _fields(tile):
        if number == 3:
            for n, feature in _fields(layer):
                if n == 2:
                    out.extend(v for k, v in _fields(feature) if k == 1)
    return sorted(out)


def peer_tiles_ours(
    gpkg: Path, tiles: dict[int, list[tuple[int, int, int]]], repeat: int
) -> dict[str, Any]:
    from guotu.services.tiles import TileCache
    from guotu.services.workspace import open_workspace

    store = open_workspace(gpkg)
    res: dict[str, Any] = {"layer_features": store.layer(TILE_LAYER).features}
    for z, zt in tiles.items():
        uncached = TileCache(0)  # no tile cache; the layer is kept whole if it fits the budget
        t = time.perf_counter()
        first = uncached.tile(store, TILE_LAYER, *zt[0])
        r: dict[str, Any] = {
            "first_tile_s": time.perf_counter() - t,
            "index_path": len(uncached._frames) > 0,
            "index_mb": uncached._frames.nbytes / 2**20,
        }
        r["uncached"] = timed_passes(
            zt, lambda k, c=uncached: c.tile(store, TILE_LAYER, *k), repeat, warmup=0
        )
        built = [uncached.tile(store, TILE_LAYER, *k) for k in zt]
        r["features"] = [b.features for b in built]
        r["bytes"] = sum(len(b.content) for b in built)
        r["fids"] = [tile_fids(b.content) for b in built]
        if r["index_path"]:  # the other path: one bbox read of the store per tile
            other = TileCache(0, max_index_features=0)
            r["uncached_read"] = timed_passes(
                zt, lambda k, c=other: c.tile(store, TILE_LAYER, *k), repeat, warmup=0
            )
        else:  # the layer is over the limits: try it kept whole too
            other = TileCache(0, max_index_features=10**9, max_index_bytes=2**40)
            t = time.perf_counter()
            other.tile(store, TILE_LAYER, *zt[0])
            r["indexed_first_tile_s"] = time.perf_counter() - t
            r["uncached_indexed"] = timed_passes(
                zt, lambda k, c=other: c.tile(store, TILE_LAYER, *k), repeat, warmup=0
            )
        del other
        cached = TileCache(100_000)
        for k in zt:
            cached.tile(store, TILE_LAYER, *k)
        r["cached"] = timed_passes(
            zt * max(1, 2000 // len(zt)),
            lambda k, c=cached: c.tile(store, TILE_LAYER, *k),
            repeat,
            warmup=0,
        )
        del first
        res[str(z)] = r
    store.close()
    return res


def peer_tiles_postgis(
    workdir: Path, tiles: dict[int, list[tuple[int, int, int]]], repeat: int
) -> dict[str, Any]:
    import psycopg

    from guotu.services.tiles import TILE_BUFFER, TILE_EXTENT

    margin = TILE_BUFFER / TILE_EXTENT
    # The tile plus its buffer, densified, taken to the table's CRS for the GiST filter.
    sql = (
        f"WITH e AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env, "
        f"ST_Transform(ST_Segmentize(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, "
        f"margin => {margin}), 40075016.7 / (2 ^ %(z)s) / 20), {SRID}) AS area), "
        f"q AS (SELECT t.fid, t.props, ST_AsMVTGeom(ST_Transform(t.geom, 3857), e.env, "
        f'{TILE_EXTENT}, {TILE_BUFFER}, true) AS geom FROM "{TILE_LAYER}" t, e '
        f"WHERE t.geom && e.area) "
        f"SELECT ST_AsMVT(q, '{TILE_LAYER}', {TILE_EXTENT}, 'geom', 'fid'), count(q.geom) "
        f"FROM q WHERE q.geom IS NOT NULL"
    )
    res: dict[str, Any] = {}
    with psycopg.connect(_pg_dsn(workdir), autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        for z, zt in tiles.items():
            params = [{"z": z, "x": x, "y": y} for _, x, y in zt]
            r: dict[str, Any] = {
                "uncached": timed_passes(
                    params,
                    lambda p: conn.execute(sql, p, prepare=True).fetchone(),
                    repeat,
                    warmup=min(3, len(params)),
                )
            }
            got = [conn.execute(sql, p, prepare=True).fetchone() for p in params]
            r["features"] = [int(g[1]) for g in got]  # type: ignore[index]
            r["bytes"] = sum(len(g[0] or b"") for g in got)  # type: ignore[index]
            r["fids"] = [tile_fids(bytes(g[0] or b"")) for g in got]  # type: ignore[index]
            res[str(z)] = r
    return res


# -- driver ----------------------------------------------------------------------------------
def child_main(args: list[str]) -> dict[str, Any]:
    workdir, what, gpkg, repeat = Path(args[0]), args[1], Path(args[2]), int(args[3])
    sys.path.insert(0, str(ROOT / "src"))
    points = np.load(workdir / "points.npy")
    tiles = {
        int(z): [tuple(t) for t in v]
        for z, v in json.loads((workdir / "tiles.json").read_text()).items()
    }
    if what == "pg_load":
        return pg_load(gpkg, workdir)
    if what == "query-ours":
        return peer_query_ours(gpkg, points, repeat)
    if what == "query-postgis":
        return peer_query_postgis(workdir, points, repeat)
    if what.startswith("http"):
        flat = [t for z in sorted(tiles) for t in tiles[z]]
        return peer_http(gpkg, points, repeat, flat, set(what.split(":")[1].split(",")))
    if what == "tiles-ours":
        return peer_tiles_ours(gpkg, tiles, repeat)
    if what == "tiles-postgis":
        return peer_tiles_postgis(workdir, tiles, repeat)
    raise SystemExit(f"unknown child {what}")


def _run_child(workdir: Path, args: list[str], timeout: float = 7200) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(workdir), *args]
    print(f"… {args[0]}", flush=True)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-4:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ms(us: float) -> str:
    return f"{us / 1000:.3f} ms" if us < 10_000 else f"{us / 1000:.0f} ms"


def _agree(a: list[Any], b: list[Any]) -> tuple[int, int]:
    """(points or tiles whose sets differ, how many were compared)."""
    return sum(x != y for x, y in zip(a, b, strict=True)), len(a)


def _only_in(a: list[list[int]], b: list[list[int]]) -> tuple[int, int]:
    """Features (tile, id) only in ``a``'s tiles, and only in ``b``'s."""
    return (
        sum(len(set(x) - set(y)) for x, y in zip(a, b, strict=True)),
        sum(len(set(y) - set(x)) for x, y in zip(a, b, strict=True)),
    )


def report(res: dict[str, Any], n_points: int, parcels: int) -> list[str]:
    out = [f"## Serving — {parcels:,} parcels, {n_points:,} points, median of the passes\n"]
    q, pg, h = res.get("query-ours", {}), res.get("query-postgis", {}), res.get("http", {})
    rows: list[tuple[str, dict[str, Any] | None]] = [
        ("ours, service `SiteQuery.query(...).to_dict()`", q.get("service")),
        ("ours, on a built index `query_index(...).to_dict()`", q.get("on_index")),
        ("ours, `locate_point` only", q.get("locate_point")),
        ("bare STRtree point query (reference)", q.get("bare_strtree")),
        ("ours over HTTP (keep-alive, `GET /query`)", h.get("query")),
        ("PostGIS over loopback (prepared, all layers)", pg.get("query")),
    ]
    base = (pg.get("query") or {}).get("per_s")
    out.append("| site query | p50 | p99 | throughput | vs PostGIS |\n|---|---|---|---|---|")
    for name, r in rows:
        if not r:
            continue
        ratio = f"{r['per_s'] / base:.1f}×" if base else "—"
        out.append(
            f"| {name} | {_ms(r['p50_us'])} | {_ms(r['p99_us'])} | {r['per_s']:,.0f}/s | {ratio} |"
        )
    if q and "index_build_s" in q:
        out.append(
            f"\nindex: {q['index_features']:,} features in {q['groups']} groups, built "
            f"in {q['index_build_s']:.1f} s; {q['hits_per_point']:.2f} features apply "
            f"per point (sample)"
        )
    if q.get("sample_fids") and pg.get("sample_fids"):
        d, n = _agree(q["sample_fids"], pg["sample_fids"])
        out.append(f"agreement ours vs PostGIS ((layer, fid) sets): {n - d}/{n} points equal")
    if q.get("sample_applies") and h.get("sample_applies"):
        d, n = _agree(q["sample_applies"], h["sample_applies"])
        out.append(f"agreement in-process vs HTTP (applies): {n - d}/{n} points equal")
    if h.get("first_request_s") is not None:
        out.append(
            f"HTTP: first request (index build in the server) "
            f"{h['first_request_s']:.1f} s; server peak memory "
            f"{h.get('server_max_rss_mb', 0):,.0f} MB"
        )
    t, tp = res.get("tiles-ours", {}), res.get("tiles-postgis", {})
    out.append(
        "\n| tiles (GHYD) | tiles | ours uncached | PostGIS ST_AsMVT | ours / PostGIS "
        "| ours cached (service) | features ours / PostGIS | fid sets equal |"
        "\n|---|---|---|---|---|---|---|---|"
    )
    for z in ZOOMS:
        r, p = t.get(str(z)), tp.get(str(z))
        if not r:
            continue
        u = r["uncached"]
        pu = p["uncached"] if p else None
        ratio = f"{u['per_s'] / pu['per_s']:.2f}×" if pu else "—"
        pcell = (
            f"{pu['per_s']:.1f}/s (p50 {_ms(pu['p50_us'])}, p99 {_ms(pu['p99_us'])})" if pu else "—"
        )
        feats = f"{sum(r['features']):,} / {sum(p['features']):,}" if p else "—"
        same = "—"
        if p and "fids" in r and "fids" in p:
            d, n = _agree(r["fids"], p["fids"])
            ours_only, pg_only = _only_in(r["fids"], p["fids"])
            same = f"{n - d}/{n} (only ours {ours_only}, only PostGIS {pg_only})"
        out.append(
            f"| z{z} | {len(r['features'])} | {u['per_s']:.1f}/s (p50 "
            f"{_ms(u['p50_us'])}, p99 {_ms(u['p99_us'])}) | {pcell} | {ratio} | "
            f"{r['cached']['per_s']:,.0f}/s | {feats} | {same} |"
        )
    for z in ZOOMS:
        r, p = t.get(str(z)), tp.get(str(z))
        for name, label in (
            ("uncached_indexed", "with the layer kept in memory (limits raised)"),
            ("uncached_read", "with a bbox read per tile (max_index_features=0)"),
        ):
            if r and name in r:
                u = r[name]
                ratio = f", {u['per_s'] / p['uncached']['per_s']:.2f}× PostGIS" if p else ""
                first = (
                    f"; the index took {r['indexed_first_tile_s']:.1f} s"
                    if "indexed_first_tile_s" in r and name == "uncached_indexed"
                    else ""
                )
                out.append(
                    f"\nz{z} {label}: {u['per_s']:.1f}/s (p50 {_ms(u['p50_us'])}, "
                    f"p99 {_ms(u['p99_us'])}){ratio}{first}"
                )
    if t:
        out.append(
            f"\nGHYD has {t['layer_features']:,} features; uncached build path: "
            + ", ".join(
                f"z{z} {'layer index' if t[str(z)]['index_path'] else 'bbox read'}"
                f" (first tile {t[str(z)]['first_tile_s']:.1f} s, index "
                f"{t[str(z)].get('index_mb', 0):,.0f} MB)"
                for z in ZOOMS
                if str(z) in t
            )
        )
    if h.get("tiles_cached"):
        c = h["tiles_cached"]
        out.append(
            f"cached over HTTP (keep-alive, z{ZOOMS[0]} and z{ZOOMS[1]}): "
            f"{c['per_s']:,.0f} tiles/s, p50 {_ms(c['p50_us'])}, p99 {_ms(c['p99_us'])}; "
            f"statuses {h['tiles_status']}"
        )
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        out = child_main(sys.argv[2:])
        out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out, default=str))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--quick", action="store_true", help="30k parcels, 2,000 points")
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench-serve"))
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument("--only", default="query,tiles", help="query and/or tiles")
    ap.add_argument(
        "--steps",
        default="",
        help="re-run only these steps (pg_load, query-ours, query-postgis, "
        "tiles-ours, tiles-postgis, http); the others' figures come from the last "
        "run's raw-*.json",
    )
    ap.add_argument(
        "--workspace",
        type=Path,
        help="an existing demo workspace (instead of building one in --workdir)",
    )
    args = ap.parse_args()
    parcels = 30_000 if args.quick else args.parcels
    n_points = 2_000 if args.quick else args.points
    only = set(args.only.split(","))
    gpkg = args.workspace or build_demo(args.workdir, parcels)
    workdir = args.workdir / f"run-p{parcels}"
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(workdir / "points.npy", sample_points(gpkg, n_points))
    (workdir / "tiles.json").write_text(json.dumps({z: tiles_covering(gpkg, z) for z in ZOOMS}))

    pg_script = str(ROOT / "scripts" / "pg-throwaway")
    pg_ok = False
    if not args.no_postgis and (
        not args.steps or "postgis" in args.steps or "pg_load" in args.steps
    ):
        pg = subprocess.run(
            ["bash", pg_script, "start", PG_DIR, PG_PORT],
            capture_output=True,
            text=True,
            check=False,
        )
        pg_ok = pg.returncode == 0
        if pg_ok:
            (workdir / "pg.dsn").write_text(pg.stdout.strip().splitlines()[-1])
        else:
            print(f"PostGIS not available: {pg.stderr.strip()[-300:]}")
    res: dict[str, Any] = {}
    common = [str(gpkg), str(args.repeat)]
    steps = [
        s
        for s in ("pg_load", "query-ours", "query-postgis", "tiles-ours", "tiles-postgis", "http")
        if (s in ("pg_load", "http") or s.split("-")[0] in only)
        and not (args.no_postgis and ("postgis" in s or s == "pg_load"))
    ]
    wanted = set(filter(None, args.steps.split(","))) or set(steps)
    if not pg_ok:
        wanted -= {"pg_load", "query-postgis", "tiles-postgis"}
    try:
        for step in steps:
            raw = workdir / f"raw-{step}.json"
            if step not in wanted and raw.exists():  # an earlier run's figures
                res[step] = json.loads(raw.read_text())
                continue
            if step not in wanted:
                continue
            child = f"http:{','.join(sorted(only))}" if step == "http" else step
            res[step] = _run_child(workdir, [child, *common])
            raw.write_text(json.dumps(res[step], default=str))
    finally:
        if pg_ok:
            subprocess.run(["bash", pg_script, "stop", PG_DIR], check=False)
    for name, r in res.items():
        if "error" in r:
            print(f"{name} failed: {r['error']}")
    lines = report(res, n_points, parcels)
    lines.append(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"CPUs; peak memory: "
        + ", ".join(f"{k} {v.get('maxrss_mb', 0):,.0f} MB" for k, v in res.items())
    )
    print("\n".join(lines))
    path = HERE / "results" / f"serve-{parcels}.json"
    path.parent.mkdir(exist_ok=True)

    def slim(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: slim(x) for k, x in v.items() if not k.startswith("sample") and k != "fids"}
        return v

    path.write_text(
        json.dumps(
            {"parcels": parcels, "points": n_points, "results": slim(res)}, default=str, indent=1
        )
    )
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()

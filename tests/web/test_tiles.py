"""Vector tiles and TileJSON on a small GeoPackage workspace built in tmp_path.

Tiles are decoded by a small protobuf reader written here (independent of the encoder), and
once by GDAL's MVT driver in a subprocess (never GDAL and an open sqlite3 store in one
process).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import CRS, Transformer

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.services.tiles import TileCache
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app

from ..conftest import X0, Y0

GK39 = CRS.from_epsg(4527)
TO_3857 = Transformer.from_crs(GK39, CRS.from_epsg(3857), always_xy=True)
TO_LONLAT = Transformer.from_crs(GK39, CRS.from_epsg(4326), always_xy=True)
HALF = 20037508.342789244
PLAN = "示范县总体规划"

SQUARE = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
HOLED = shapely.Polygon(
    shapely.box(X0 + 300, Y0, X0 + 500, Y0 + 200).exterior.coords,
    [shapely.box(X0 + 350, Y0 + 50, X0 + 450, Y0 + 150).exterior.coords],
)
CIRCLE = shapely.Point(X0 + 2000, Y0 + 2000).buffer(300, quad_segs=256)


# ------------------------------------------------------------------ a reader of MVT
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, Any]]:
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.append((number, value))
    return out


def _packed(buf: bytes) -> list[int]:
    out, i = [], 0
    while i < len(buf):
        v, i = _varint(buf, i)
        out.append(v)
    return out


def _unzig(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _decode_value(buf: bytes) -> Any:
    ((number, raw),) = _fields(buf)
    if number == 1:
        return raw.decode()
    if number == 3:
        import struct

        return struct.unpack("<d", raw)[0]
    if number == 6:
        return _unzig(raw)
    return bool(raw) if number == 7 else raw


def _geometry(commands: list[int]) -> list[list[tuple[int, int]]]:
    """Parts (rings or lines, or one list of points) in tile coordinates."""
    parts: list[list[tuple[int, int]]] = []
    x = y = i = 0
    while i < len(commands):
        cid, count = commands[i] & 7, commands[i] >> 3
        i += 1
        if cid == 7:
            continue
        if cid == 1:
            parts.append([])
        for _ in range(count):
            x += _unzig(commands[i])
            y += _unzig(commands[i + 1])
            i += 2
            parts[-1].append((x, y))
    return parts


def decode(tile: bytes) -> dict[str, dict[str, Any]]:
    """{layer name: {"extent", "features": [{"id", "type", "props", "parts"}]}}."""
    layers = {}
    for number, raw in _fields(tile):
        assert number == 3
        fields = _fields(raw)
        keys = [v.decode() for n, v in fields if n == 3]
        values = [_decode_value(v) for n, v in fields if n == 4]
        features = []
        for n, fraw in fields:
            if n != 2:
                continue
            f = dict(_fields(fraw))
            tags = _packed(f.get(2, b""))
            features.append(
                {
                    "id": f.get(1),
                    "type": f[3],
                    "parts": _geometry(_packed(f[4])),
                    "props": {keys[tags[j]]: values[tags[j + 1]] for j in range(0, len(tags), 2)},
                }
            )
        name = next(v.decode() for n, v in fields if n == 1)
        layers[name] = {
            "extent": dict(fields).get(5),
            "version": dict(fields)[15],
            "features": features,
        }
    return layers


def signed_area(ring: list[tuple[int, int]]) -> float:
    return (
        sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


# ------------------------------------------------------------------ the tile grid, by hand
def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return (
        int((lon + 180) / 360 * n),
        int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n),
    )


def pixel(x_gk: float, y_gk: float, z: int, tx: int, ty: int) -> tuple[float, float]:
    """Where a workspace point lands in tile z/tx/ty (tile units, y down)."""
    mx, my = TO_3857.transform(x_gk, y_gk)
    size = 2 * HALF / 2**z
    return ((mx - (-HALF + tx * size)) / size * 4096, ((HALF - ty * size) - my) / size * 4096)


def tile_at(geom: shapely.Geometry, z: int) -> tuple[int, int]:
    c = geom.centroid
    return tile_of(*TO_LONLAT.transform(c.x, c.y), z)


# ------------------------------------------------------------------ fixtures
def land_use(codes: list[str], geoms: list[Any], keys: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"BSM": keys, "YDYHFLDM": codes, "MJ": [g.area for g in geoms]}, geometry=geoms, crs=GK39
    )


def record(path: Path, frame: gpd.GeoDataFrame, label: str, valid_from: date) -> None:
    with GeoPackageStore.open(path) as store:
        store.write_layer(
            "GHYD",
            "planned_land_use",
            frame,
            column_types={"BSM": "text", "YDYHFLDM": "code", "MJ": "real"},
            geometry_type="POLYGON",
            version=VersionSpec(PLAN, label, valid_from=valid_from),
            crs=GK39,
        )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """GHYD: a 100 m square (A1, 0701), a square with a hole (A2) and a circle (A3)."""
    path = tmp_path / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        store.create_plan(PLAN, level=PlanLevel.COUNTY, type=PlanType.MASTER, xzqdm="370999")
    record(
        path,
        land_use(["0701", "0801", "1401"], [SQUARE, HOLED, CIRCLE], ["A1", "A2", "A3"]),
        "2021版",
        date(2021, 1, 1),
    )
    return path


@pytest.fixture
def client(workspace: Path) -> TestClient:
    return TestClient(create_app(Settings(workspace=str(workspace))))


def get_tile(client: TestClient, z: int, x: int, y: int, **params: str) -> dict[str, Any]:
    r = client.get(f"/tiles/GHYD/{z}/{x}/{y}.mvt", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return decode(r.content)["GHYD"]


def by_key(layer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["props"]["BSM"]: f for f in layer["features"]}


# ------------------------------------------------------------------ tests
def test_square_parcel_lands_at_the_expected_pixels(client: TestClient) -> None:
    z = 16
    tx, ty = tile_at(SQUARE, z)
    layer = get_tile(client, z, tx, ty)
    assert (layer["extent"], layer["version"]) == (4096, 2)
    square = by_key(layer)["A1"]
    assert square["type"] == 3
    (ring,) = square["parts"]
    expected = [pixel(x, y, z, tx, ty) for x, y in list(SQUARE.exterior.coords)[:-1]]
    assert len(ring) == 4
    for px, py in expected:  # every corner, to the grid's rounding
        assert min(math.hypot(px - x, py - y) for x, y in ring) <= 1.0


def test_polygon_rings_follow_the_mvt_winding(client: TestClient) -> None:
    z = 16
    layer = get_tile(client, z, *tile_at(HOLED, z))
    outer, hole = by_key(layer)["A2"]["parts"]
    assert signed_area(outer) > 0 > signed_area(hole)


def test_features_are_clipped_to_the_tile_and_its_buffer(client: TestClient) -> None:
    z = 19  # the circle (600 m across) spans many tiles
    tx, ty = tile_at(CIRCLE, z)
    (circle,) = get_tile(client, z, tx, ty)["features"]
    xs = [x for part in circle["parts"] for x, _ in part]
    ys = [y for part in circle["parts"] for _, y in part]
    assert min(xs) == min(ys) == -64 and max(xs) == max(ys) == 4096 + 64


def test_low_zoom_keeps_id_and_code_fields_high_zoom_every_column(client: TestClient) -> None:
    low = by_key(get_tile(client, 10, *tile_at(SQUARE, 10)))["A1"]["props"]
    high = by_key(get_tile(client, 16, *tile_at(SQUARE, 16)))["A1"]["props"]
    assert low == {"BSM": "A1", "YDYHFLDM": "0701"}
    assert high == {"BSM": "A1", "YDYHFLDM": "0701", "MJ": pytest.approx(10_000.0)}


def test_simplification_drops_vertices_at_low_zoom(client: TestClient) -> None:
    def vertices(z: int) -> int:
        feature = by_key(get_tile(client, z, *tile_at(CIRCLE, z)))["A3"]
        return sum(len(p) for p in feature["parts"])

    assert vertices(9) < vertices(12) < vertices(15) <= len(CIRCLE.exterior.coords)


def test_etag_and_not_modified(client: TestClient) -> None:
    url = "/tiles/GHYD/16/{}/{}.mvt".format(*tile_at(SQUARE, 16))
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and "max-age" in first.headers["cache-control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_new_version_rebuilds_the_tile(client: TestClient, workspace: Path) -> None:
    url = "/tiles/GHYD/16/{}/{}.mvt".format(*tile_at(SQUARE, 16))
    before = client.get(url)
    record(
        workspace,
        land_use(["0901", "0801", "1401"], [SQUARE, HOLED, CIRCLE], ["A1", "A2", "A3"]),
        "2023修改",
        date(2023, 1, 1),
    )
    after = client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert by_key(decode(after.content)["GHYD"])["A1"]["props"]["YDYHFLDM"] == "0901"


def test_as_of_picks_the_version_in_force(client: TestClient, workspace: Path) -> None:
    record(
        workspace,
        land_use(["0901", "0801", "1401"], [SQUARE, HOLED, CIRCLE], ["A1", "A2", "A3"]),
        "2023修改",
        date(2023, 1, 1),
    )
    tile = tile_at(SQUARE, 16)

    def code(**params: str) -> str:
        return str(by_key(get_tile(client, 16, *tile, **params))["A1"]["props"]["YDYHFLDM"])

    assert (code(as_of="2022-06-01"), code(as_of="2024-06-01"), code()) == ("0701", "0901", "0901")
    assert (
        client.get(
            "/tiles/GHYD/16/{}/{}.mvt".format(*tile), params={"as_of": "2020-01-01"}
        ).status_code
        == 204
    )


def test_an_empty_tile_answers_204_with_an_etag(client: TestClient) -> None:
    r = client.get("/tiles/GHYD/16/0/0.mvt")
    assert (r.status_code, r.content) == (204, b"") and r.headers["etag"]


@pytest.mark.parametrize(
    "limits",
    [
        {"max_index_features": 0},  # more features than layers may have to be kept whole
        {"max_index_bytes": 0},  # no memory for any layer kept whole
        {"max_index_bytes": 10_000},  # less than this layer needs: built once, not kept
    ],
)
def test_the_bbox_read_gives_the_same_tile_as_the_layer_index(
    workspace: Path, limits: dict[str, int]
) -> None:
    z, (x, y) = 15, tile_at(SQUARE, 15)
    with GeoPackageStore.open(workspace) as store:
        indexed = TileCache(10).tile(store, "GHYD", z, x, y)
        cache = TileCache(0, **limits)
        read = [cache.tile(store, "GHYD", z, x, y) for _ in range(2)]
    assert read[1].content == indexed.content and read[1].features == indexed.features == 2
    assert len(cache._frames) == 0


def test_concurrent_first_tiles_read_the_layer_once(workspace: Path) -> None:
    """The first tiles of a layer kept whole read it once: the others wait for that read."""
    reads: list[Any] = []

    class Counting(GeoPackageStore):
        def read_layer(self, name: str, **kwargs: Any) -> Any:
            reads.append(kwargs.get("bbox"))
            if kwargs.get("bbox") is None:
                time.sleep(0.2)  # a slow whole-layer read: the other threads come in meanwhile
            return super().read_layer(name, **kwargs)

    cache = TileCache(0)
    z = 16

    def build(tile: tuple[int, int]) -> int:
        with Counting.open(workspace) as store:  # a connection per thread
            return cache.tile(store, "GHYD", z, *tile).features

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(build, [tile_at(g, z) for g in (SQUARE, HOLED, CIRCLE)] * 4))
    assert reads == [None] and all(counts)


def test_features_broken_by_the_grid_snap_are_repaired(workspace: Path) -> None:
    """Two squares joined by a corridor narrower than a tile unit: rounding pinches the
    corridor, and the tile still holds a valid polygon."""
    w = 0.03  # metres; a tile unit at z16 is about 0.12 m on the ground here
    x0, y0 = X0 + 5000, Y0 + 5000
    dumbbell = shapely.union_all(
        [
            shapely.box(x0, y0, x0 + 20, y0 + 20),
            shapely.box(x0 + 20, y0 + 10, x0 + 40, y0 + 10 + w),
            shapely.box(x0 + 40, y0, x0 + 60, y0 + 20),
        ]
    )
    record(
        workspace,
        land_use(
            ["0701", "0801", "1401", "1401"],
            [SQUARE, HOLED, CIRCLE, dumbbell],
            ["A1", "A2", "A3", "A4"],
        ),
        "2023修改",
        date(2023, 1, 1),
    )
    client = TestClient(create_app(Settings(workspace=str(workspace))))
    z = 16
    feature = by_key(get_tile(client, z, *tile_at(dumbbell, z)))["A4"]
    polygons: list[list[Any]] = []
    for ring in feature["parts"]:
        if signed_area(ring) > 0:
            polygons.append([ring, []])
        else:
            polygons[-1][1].append(ring)
    shape = shapely.MultiPolygon([shapely.Polygon(e, h) for e, h in polygons])
    assert shape.is_valid and shape.area > 0.9 * 2 * (20 / 0.12) ** 2


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/tiles/NOPE/1/0/0.mvt", 404, "not-found"),  # unknown layer
        ("/tiles/NOPE.json", 404, "not-found"),
        ("/tiles/GHYD/23/0/0.mvt", 400, "input-error"),  # zoom beyond the grid
        ("/tiles/GHYD/2/4/0.mvt", 400, "input-error"),  # x and y outside the zoom's grid
        ("/tiles/GHYD/2/0/-1.mvt", 400, "input-error"),
        ("/tiles/GHYD/2/a/0.mvt", 400, "invalid-parameter"),  # not numbers or dates
        ("/tiles/GHYD/2/0/0.mvt?as_of=2024-13-01", 400, "invalid-parameter"),
        ("/tiles/GHYD.json?as_of=soon", 400, "invalid-parameter"),
    ],
)
def test_errors_use_the_json_envelope(
    client: TestClient, workspace: Path, url: str, status: int, code: str
) -> None:
    r = client.get(url)
    assert (r.status_code, r.json()["code"], r.json()["status"]) == (status, code, status)
    assert str(workspace.parent) not in r.text and "Traceback" not in r.text


def test_tilejson_describes_the_layer(client: TestClient) -> None:
    doc = client.get("/tiles/GHYD.json", params={"as_of": "2022-01-01"}).json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://testserver/tiles/GHYD/{z}/{x}/{y}.mvt?as_of=2022-01-01"]
    assert (doc["minzoom"], doc["maxzoom"]) == (0, 22)
    w, s, e, n = doc["bounds"]
    lon, lat = TO_LONLAT.transform(X0 + 50, Y0 + 50)
    assert w < lon < e and s < lat < n and e - w < 0.05
    (layer,) = doc["vector_layers"]
    assert layer["id"] == "GHYD"
    assert layer["fields"] == {"BSM": "String", "YDYHFLDM": "String", "MJ": "Number"}


GDAL_READER = """
import json, sys
import pyogrio
frame = pyogrio.read_dataframe(sys.argv[1], layer="GHYD")
print(json.dumps({"bsm": sorted(frame["BSM"]), "codes": sorted(frame["YDYHFLDM"]),
                  "crs": frame.crs.to_epsg(), "areas": dict(zip(frame["BSM"], frame.area)),
                  "bounds": dict(zip(frame["BSM"], [list(b) for b in frame.bounds.values]))}))
"""


def test_gdal_reads_a_served_tile(client: TestClient, tmp_path: Path) -> None:
    z = 15
    x, y = tile_at(SQUARE, z)
    body = client.get(f"/tiles/GHYD/{z}/{x}/{y}.mvt").content
    path = tmp_path / "tiles" / str(z) / str(x) / f"{y}.pbf"  # GDAL georeferences by z/x/y
    path.parent.mkdir(parents=True)
    path.write_bytes(body)
    out = subprocess.run(
        [sys.executable, "-c", GDAL_READER, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    got = json.loads(out.stdout)
    assert (got["bsm"], got["codes"], got["crs"]) == (["A1", "A2"], ["0701", "0801"], 3857)
    minx, miny = TO_3857.transform(X0, Y0)
    maxx, maxy = TO_3857.transform(X0 + 100, Y0 + 100)
    unit = 2 * HALF / 2**z / 4096
    assert got["bounds"]["A1"] == pytest.approx([minx, miny, maxx, maxy], abs=2 * unit)
    # the hole is a hole: 200² − 100² m² on the ground, times the Mercator scale squared
    scale = (maxx - minx) / 100
    assert got["areas"]["A2"] == pytest.approx(30_000 * scale**2, rel=0.02)

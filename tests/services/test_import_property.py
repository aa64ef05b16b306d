"""Property: an import that exits 0 stores exactly the features its file holds.

Hypothesis writes small layers (polygons, Chinese and ASCII text, integers, reals, blanks)
as a Shapefile (UTF-8 or GBK), a GeoPackage or a GeoJSON, in the workspace's CRS or in
lon/lat, sometimes cut short or with one byte flipped, and imports them with ``guotu
import``. Whatever the damage, the command either refuses (exit 2) or stores the same
number of features with the same geometry (WKB-equal after the documented reprojection
with ``to_crs`` and the promotion of polygons to multipolygons) and the same attributes.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from guotu.cli import root
from guotu.store.geopackage import GeoPackageStore

pytestmark = pytest.mark.slow

#: Characters of the text values: ASCII, and Chinese that GBK can hold.
_TEXT = "abcXYZ019 -_()国土空间规划用地耕地林地草地湿地住宅商业项目堃喆"
_CODES = ("0101", "0301", "0701", "070101", "0901", "1207", "1401")
_X0, _Y0 = 39_540_000.0, 4_052_000.0

settings.register_profile(
    "import",
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@st.composite
def layers(draw: st.DrawFn) -> gpd.GeoDataFrame:
    n = draw(st.integers(1, 8))
    geoms = []
    for i in range(n):
        x = _X0 + i * 300 + draw(st.floats(0, 100, allow_nan=False))
        y = _Y0 + draw(st.floats(0, 100, allow_nan=False))
        w = draw(st.floats(1, 150, allow_nan=False))
        h = draw(st.floats(1, 150, allow_nan=False))
        geoms.append(
            shapely.box(x, y, x + w, y + h)
            if draw(st.booleans())
            else shapely.Polygon([(x, y), (x + w, y), (x, y + h)])
        )
    text = st.one_of(st.none(), st.text(_TEXT, min_size=1, max_size=12).map(str.strip).filter(bool))
    return gpd.GeoDataFrame(
        {
            "YDYHFLDM": draw(st.lists(st.sampled_from(_CODES), min_size=n, max_size=n)),
            "BZ": draw(st.lists(text, min_size=n, max_size=n)),
            "SL": draw(
                st.lists(st.one_of(st.none(), st.integers(-(10**9), 10**9)), min_size=n, max_size=n)
            ),
            "ZB": draw(
                st.lists(
                    st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
                    min_size=n,
                    max_size=n,
                )
            ),
        },
        geometry=geoms,
        crs="EPSG:4527",
    )


def _write(frame: gpd.GeoDataFrame, folder: Path, fmt: str, lonlat: bool) -> Path:
    if lonlat:
        frame = frame.to_crs("EPSG:4490")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "shp-utf8":
            frame.to_file(folder / "l.shp", encoding="UTF-8")
            return folder / "l.shp"
        if fmt == "shp-gbk":
            frame.to_file(folder / "l.shp", encoding="GBK")
            return folder / "l.shp"
        if fmt == "gpkg":
            frame.to_file(folder / "l.gpkg", layer="l")
            return folder / "l.gpkg"
        frame.to_file(folder / "l.geojson", driver="GeoJSON")
        return folder / "l.geojson"


def _damage(path: Path, how: str, where: float) -> None:
    members = [
        p
        for p in path.parent.iterdir()
        if p.stem == path.stem and p.suffix.lower() in (".shp", ".shx", ".dbf", ".gpkg", ".geojson")
    ]
    target = sorted(members)[int(where * 997) % len(members)]
    data = bytearray(target.read_bytes())
    at = int(where * (len(data) - 1))
    if how == "cut":
        target.write_bytes(bytes(data[:at]))
    elif how == "flip":
        data[at] ^= 0xFF
        target.write_bytes(bytes(data))


def _values(series: pd.Series) -> list[object]:
    out: list[object] = []
    for v in series.astype(object).tolist():
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, np.integer | int) and not isinstance(v, bool):
            out.append(int(v))
        elif isinstance(v, float | np.floating):
            out.append(float(v))
        else:
            out.append(str(v))
    return out


def _as_stored(frame: gpd.GeoDataFrame) -> list[bytes]:
    geoms = np.asarray(frame.to_crs("EPSG:4527").geometry.values, dtype=object)
    single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    if single.any():
        geoms[single] = shapely.multipolygons(geoms[single][:, None])
    return [shapely.to_wkb(g) for g in geoms]


@settings(settings.get_profile("import"))
@given(
    frame=layers(),
    fmt=st.sampled_from(["shp-utf8", "shp-gbk", "gpkg", "geojson"]),
    lonlat=st.booleans(),
    damage=st.sampled_from(["cut", "flip", "none"]),
    where=st.floats(0, 1, allow_nan=False),
)
def test_an_import_that_exits_0_stores_exactly_what_the_file_holds(
    frame: gpd.GeoDataFrame, fmt: str, lonlat: bool, damage: str, where: float
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="guotu-prop-"))
    try:
        path = _write(frame, folder, fmt, lonlat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            written = gpd.read_file(path)  # what the whole file holds, read by GDAL alone
        _damage(path, damage, where)
        ws = folder / "ws.gpkg"
        res = CliRunner().invoke(
            root,
            ["import", str(path), "--role", "规划用地", "--layer", "L", "-w", str(ws), "--json"],
        )
        assert res.exit_code in (0, 2), res.output
        event(f"{damage}: exit {res.exit_code}")
        if damage == "none":
            assert res.exit_code == 0, res.output
        if res.exit_code == 2:
            assert not ws.exists() or "L" not in {i.name for i in GeoPackageStore.open(ws).layers()}
            return
        if damage == "flip":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                flipped = gpd.read_file(path)
            assert len(flipped) == len(written)
            written = flipped  # a flip inside a value is a different, valid value
        mapping = json.loads(res.output)["field_map"]
        with GeoPackageStore.open(ws) as store:
            stored = store.read_layer("L")
        assert len(stored) == len(written)
        assert [shapely.to_wkb(g) for g in stored.geometry.values] == _as_stored(written)
        for column in ("BZ", "SL", "ZB"):
            source = next((k for k, v in mapping.items() if v == column), column)
            if source in written.columns:
                assert _values(stored[column]) == _values(written[source]), column
        assert _values(stored["YDYHFLDM"]) == _values(written["YDYHFLDM"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)

"""The site query (空间码) on the demo county: known answers from the manifest's planted sites.

One demo county (3000 parcels) is built per module; each test asks one question of it. The
versioning tests use a small memory workspace with a plan amended in 2024 and a pending draft.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS, Transformer

from guotu.demo.build import build_demo
from guotu.demo.plans import MASTER_PLAN
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType, VersionStatus
from guotu.errors import InputError, NotFoundError
from guotu.services.site_query import SiteQuery
from guotu.services.workspace import open_workspace
from guotu.store.memory import MemoryStore

GK = CRS.from_epsg(4527)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("site_demo")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    store = open_workspace(result.workspace)
    items = {i["id"]: i for i in manifest["items"]}
    yield {"store": store, "items": items, "query": SiteQuery(), "workspace": result.workspace}
    store.close()


def _ghyd(store: Any, bsm: str) -> shapely.Geometry:
    frame = store.read_layer("GHYD")
    return frame.geometry[frame["BSM"] == bsm].iloc[0]


def _applies(doc: dict[str, Any], layer: str) -> dict[str, dict[str, Any]]:
    return {e["feature"]: e for e in doc["applies"] if e["layer"] == layer}


def test_point_inside_the_red_line_reports_zone_parcel_admin_and_forbidden_uses(
    demo: dict[str, Any],
) -> None:
    item = demo["items"]["conflict.redline.inside.1"]
    c = shapely.from_wkt(item["geometry_wkt"]).centroid
    doc = demo["query"].query(demo["store"], point=f"{c.x},{c.y}").to_dict()
    assert _applies(doc, "STBHHX")["HX00001"]["share_of_site"] == 1.0
    parcel = _applies(doc, "GHYD")[item["features"][0]]
    assert parcel["properties"]["YDYHFLDM"] == "0703" and parcel["relation"] == "within"
    assert (parcel["plan"], parcel["version"]["label"]) == (MASTER_PLAN.name, MASTER_PLAN.label)
    assert "370999" in _applies(doc, "XZQ")
    uses = doc["allowed_uses"]
    assert {f"{n:02d}" for n in range(6, 17)} <= set(uses["forbidden"])
    assert "01" in uses["allowed"] and "03" in uses["allowed"]
    redline = [
        r
        for c in uses["codes"]
        if c["code"] == "07"
        for r in c["reasons"]
        if r["rule"] == "sanqu.redline.construction"
    ]
    assert redline and redline[0]["unless"][0]["field"] == "HDLX"
    assert uses["master_plan"][0]["code"] == "0703"
    assert "16" in uses["master_plan"][0]["admits"] and "10" not in uses["master_plan"][0]["admits"]
    assert doc["touching"] == [] and doc["as_of"] == date.today().isoformat()


def test_polygon_straddling_the_red_line_gets_the_exact_share(demo: dict[str, Any]) -> None:
    item = demo["items"]["conflict.redline.straddle.1"]
    parcel = _ghyd(demo["store"], item["features"][0])
    inside = shapely.from_wkt(item["geometry_wkt"]).area
    body = {"type": "Feature", "geometry": shapely.geometry.mapping(parcel)}
    doc = demo["query"].query(demo["store"], polygon=json.dumps(body)).to_dict()
    red = _applies(doc, "STBHHX")["HX00001"]
    assert red["relation"] == "overlaps"
    assert red["share_of_site"] == pytest.approx(inside / parcel.area, abs=1e-6)
    assert red["area_m2"] == pytest.approx(item["planar_area_m2"], abs=1e-3)
    assert _applies(doc, "GHYD")[item["features"][0]]["relation"] == "within"


def test_parcel_code_bsm_is_the_same_site_as_its_polygon(demo: dict[str, Any]) -> None:
    bsm = demo["items"]["conflict.redline.straddle.1"]["features"][0]
    doc = demo["query"].query(demo["store"], parcel=bsm).to_dict()
    assert doc["site"]["kind"] == "parcel" and doc["site"]["area_m2"] == pytest.approx(15000.0)
    assert _applies(doc, "STBHHX")["HX00001"]["share_of_site"] == pytest.approx(1 / 3)


def test_touching_neighbour_is_reported_as_touching_only(demo: dict[str, Any]) -> None:
    bsm = demo["items"]["nonconflict.redline.touch.1"]["features"][0]
    doc = demo["query"].query(demo["store"], parcel=bsm).to_dict()
    assert "HX00001" not in _applies(doc, "STBHHX")
    touching = {(e["layer"], e["feature"]): e for e in doc["touching"]}
    assert touching[("STBHHX", "HX00001")]["relation"] == "touches"
    assert touching[("STBHHX", "HX00001")]["share_of_site"] == 0.0


def test_point_on_a_shared_edge_applies_to_both_on_boundary(demo: dict[str, Any]) -> None:
    edge = shapely.from_wkt(demo["items"]["nonconflict.redline.touch.1"]["geometry_wkt"])
    mid = edge.interpolate(0.5, normalized=True)
    doc = demo["query"].query(demo["store"], point=f"{mid.x},{mid.y}").to_dict()
    red = _applies(doc, "STBHHX")["HX00001"]
    assert red["relation"] == "on_boundary" and red["share_of_site"] is None
    homestead = _applies(doc, "GHYD")[demo["items"]["nonconflict.redline.touch.1"]["features"][0]]
    assert homestead["relation"] == "on_boundary"


def test_lon_lat_in_cgcs2000_finds_the_same_parcel(demo: dict[str, Any]) -> None:
    item = demo["items"]["conflict.redline.inside.1"]
    c = shapely.from_wkt(item["geometry_wkt"]).centroid
    lon, lat = Transformer.from_crs(GK, "EPSG:4490", always_xy=True).transform(c.x, c.y)
    doc = demo["query"].query(demo["store"], point=f"{lon},{lat}", crs="EPSG:4490").to_dict()
    assert item["features"][0] in _applies(doc, "GHYD")
    assert doc["site"]["given"]["crs"] == "EPSG:4490"
    assert doc["site"]["coordinates"] == pytest.approx([c.x, c.y], abs=1e-4)


def test_detailed_parcel_code_reports_its_indicators_and_unit(demo: dict[str, Any]) -> None:
    item = demo["items"]["conflict.rjl_cap.1"]
    doc = demo["query"].query(demo["store"], parcel=item["features"][0]).to_dict()
    parcel = _applies(doc, "XXGHDK")[item["features"][0]]
    assert parcel["properties"]["RJL"] == pytest.approx(item["value"])
    assert {"JZMD", "LDL", "JZXG"} <= set(parcel["properties"])
    unit = _applies(doc, "XXGHDY")[item["other_features"][0]]
    assert unit["share_of_site"] == pytest.approx(1.0)


def test_special_use_zone_allows_only_what_the_pack_allows(demo: dict[str, Any]) -> None:
    site = shapely.from_wkt(demo["items"]["conflict.udb.special_use.1"]["geometry_wkt"])
    c = site.centroid
    doc = demo["query"].query(demo["store"], point=f"{c.x},{c.y}").to_dict()
    zone = _applies(doc, "CZKFBJ")["KF003"]
    assert zone["properties"]["GHFQDM"] == "03"
    uses = doc["allowed_uses"]
    assert {"07", "09", "11"} <= set(uses["forbidden"])
    assert {"12", "13", "14"} <= set(uses["allowed"])


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"point": "abc"},  # not numbers
        {"point": "1,2,3"},  # three numbers
        {"point": "36.5,117.2", "crs": "EPSG:4490"},  # lat,lon typed the wrong way round
        {"point": "1,2", "crs": "EPSG:999999"},  # unknown CRS
        {"polygon": "{not json"},  # not JSON
        {"polygon": {"type": "Point", "coordinates": [0, 0]}},  # not a polygon
        {
            "polygon": {
                "type": "Polygon",
                "coordinates": [[[0, 0], [1, 1], [0, 1], [1, 0], [0, 0]]],
            }
        },  # self-intersecting
    ],
)
def test_bad_input_is_an_input_error(demo: dict[str, Any], kw: dict[str, Any]) -> None:
    with pytest.raises(InputError) as err:
        demo["query"].query(demo["store"], **kw)
    assert err.value.message_zh


def test_too_many_vertices_is_an_input_error(demo: dict[str, Any]) -> None:
    poly = shapely.Point(39_527_060, 4_056_040).buffer(10, quad_segs=64)
    with pytest.raises(InputError, match="vertices"):
        SiteQuery(max_vertices=100).query(demo["store"], polygon=shapely.geometry.mapping(poly))


@pytest.mark.parametrize("kw", [{"point": "1,2"}, {"parcel": "NO-SUCH-PARCEL"}])
def test_outside_and_unknown_are_not_found(demo: dict[str, Any], kw: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        demo["query"].query(demo["store"], **kw)


def test_index_is_built_once_and_reused(demo: dict[str, Any]) -> None:
    q = SiteQuery()
    first = q.index(demo["store"], as_of=date(2026, 1, 1))
    assert q.index(demo["store"], as_of=date(2026, 1, 1)) is first
    assert q.index(demo["store"], as_of=date(2026, 1, 2)) is not first


# -- versions ---------------------------------------------------------------------------------


def _frame(x0: float, bsm: str = "P1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"BSM": [bsm], "YDYHFLDM": ["0703"]},
        geometry=[shapely.box(39_540_000 + x0, 4_052_000, 39_540_000 + x0 + 100, 4_052_100)],
        crs=GK,
    )


def _write(mem: Any, frame: gpd.GeoDataFrame, spec: VersionSpec) -> None:
    mem.write_layer(
        "总规用地",
        "planned_land_use",
        frame,
        column_types={"BSM": "text", "YDYHFLDM": "code"},
        geometry_type="MULTIPOLYGON",
        version=spec,
        crs=GK,
    )


@pytest.fixture()
def amended(tmp_path: Path) -> Any:
    with MemoryStore.open() as mem:
        mem.create_plan("示范县总体规划", level=PlanLevel.COUNTY, type=PlanType.MASTER)
        _write(mem, _frame(0), VersionSpec("示范县总体规划", "2021版", valid_from=date(2021, 1, 1)))
        _write(
            mem,
            _frame(1000),
            VersionSpec("示范县总体规划", "2024修改", valid_from=date(2024, 6, 1)),
        )
        yield mem


@pytest.mark.parametrize(
    ("as_of", "x", "expected"),
    [
        (date(2023, 1, 1), 50, "2021版"),  # before the amendment: the old site holds P1
        (date(2025, 1, 1), 1050, "2024修改"),  # after it: P1 has moved east
    ],
)
def test_as_of_before_and_after_an_amendment(
    amended: Any, as_of: date, x: float, expected: str
) -> None:
    doc = SiteQuery().query(amended, point=f"{39_540_000 + x},4052050", as_of=as_of).to_dict()
    (entry,) = doc["applies"]
    assert entry["feature"] == "P1" and entry["plan"] == "示范县总体规划"
    assert entry["version"]["label"] == expected


def test_amended_away_site_is_empty_after_the_amendment(amended: Any) -> None:
    with pytest.raises(NotFoundError):
        SiteQuery().query(amended, point="39540050,4052050", as_of=date(2025, 1, 1))


def test_pending_version_is_reported_with_its_effective_date(amended: Any) -> None:
    _write(
        amended,
        _frame(2000, "P2"),
        VersionSpec(
            "示范县总体规划",
            "2026修改（公示）",
            status=VersionStatus.PUBLICITY,
            valid_from=date(2027, 1, 1),
        ),
    )
    doc = SiteQuery().query(amended, point="39542050,4052050", as_of=date(2025, 1, 1)).to_dict()
    (entry,) = doc["pending"]
    assert entry["feature"] == "P2" and entry["change"] == "added"
    assert entry["version"]["status"] == "publicity"
    assert entry["version"]["valid_from"] == "2027-01-01"
    gone = SiteQuery().query(amended, point="39541050,4052050", as_of=date(2025, 1, 1))
    assert [e["change"] for e in gone.to_dict()["pending"]] == ["removed"]


# -- command line -----------------------------------------------------------------------------


def test_cli_query_json_and_sheet(demo: dict[str, Any], tmp_path: Path) -> None:
    from click.testing import CliRunner

    import guotu.cli  # noqa: F401  (registers every command)
    from guotu.cli.base import root

    c = shapely.from_wkt(demo["items"]["conflict.redline.inside.1"]["geometry_wkt"]).centroid
    sheet = tmp_path / "sheet.html"
    out = CliRunner().invoke(
        root,
        [
            "query",
            "-w",
            str(demo["workspace"]),
            "--point",
            f"{c.x},{c.y}",
            "--json",
            "--html",
            str(sheet),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "HX00001" in _applies(json.loads(out.stdout), "STBHHX")
    page = sheet.read_text(encoding="utf-8")
    assert "<svg" in page and "<title>永久链接</title>" in page and "permalink" not in page
    human = CliRunner().invoke(
        root, ["query", "-w", str(demo["workspace"]), "--point", f"{c.x},{c.y}"]
    )
    assert human.exit_code == 0 and "禁止：06" in human.output


def test_cli_query_outside_exits_2(demo: dict[str, Any]) -> None:
    from click.testing import CliRunner

    import guotu.cli  # noqa: F401  (registers every command)
    from guotu.cli.base import root

    out = CliRunner().invoke(root, ["query", "-w", str(demo["workspace"]), "--point", "1,2"])
    assert out.exit_code == 2 and "不在" in out.output
    assert "经纬度请用 --crs 指定坐标系 EPSG:4490" in out.output  # the CLI's option, not crs=


@pytest.mark.parametrize(
    ("crs_parameter", "fix_zh", "fix"),
    [
        ("--crs", "经纬度请用 --crs 指定坐标系 EPSG:4490", "set --crs to EPSG:4490"),  # the CLI
        ("crs", "经纬度请用 crs 指定坐标系 EPSG:4490", "set crs to EPSG:4490"),  # HTTP
        (None, "经纬度须注明坐标系 EPSG:4490", "give the CRS EPSG:4490"),  # any caller
    ],
)
def test_coordinate_errors_name_the_callers_crs_parameter(
    demo: dict[str, Any], crs_parameter: str | None, fix_zh: str, fix: str
) -> None:
    query = SiteQuery(crs_parameter=crs_parameter)
    for point in ("1,2", "abc"):  # outside every layer; not numbers
        with pytest.raises((NotFoundError, InputError)) as err:
            query.query(demo["store"], point=point)
        assert fix_zh in (err.value.fix_zh or "") and fix in (err.value.fix or "")

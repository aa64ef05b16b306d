"""The demo county: determinism, tiling, and every planted answer recomputed after import."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from click.testing import CliRunner
from pyproj import CRS

import guotu.cli  # noqa: F401  (registers every command on the root group)
from guotu.cli.base import root
from guotu.demo.build import DemoResult, build_demo
from guotu.demo.county import generate_county
from guotu.demo.indicator_table import URBAN_RURAL
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.review.compat import is_compatible
from guotu.services.monitoring_inputs import load_catalogue
from guotu.services.site_query import SiteQuery
from guotu.store.geopackage import GeoPackageStore

PARCELS = 3000
SEED = 20261122
CRS_4527 = CRS.from_user_input("EPSG:4527")
#: Recomputed areas must match the manifest this closely (m²).
AREA_TOL_M2 = 0.01
CONSTRUCTION = tuple(f"{i:02d}" for i in range(6, 17))  # 用地用海 06–16
#: Urban construction: outside the development boundary only by planting.
URBAN = ("0701", "0702", "08", "09", "10", "11", "1207", "13", "14")


@dataclass
class Demo:
    result: DemoResult
    manifest: dict[str, Any]
    layers: dict[str, gpd.GeoDataFrame]

    def item(self, item_id: str) -> dict[str, Any]:
        return next(i for i in self.manifest["items"] if i["id"] == item_id)

    def features(self, layer: str, ids: list[str], field: str | None = None) -> gpd.GeoDataFrame:
        frame = self.layers[layer]
        key = field or self.manifest_id_field(layer)
        return frame[frame[key].isin(ids)]

    def manifest_id_field(self, layer: str) -> str:
        return str(self.manifest["id_fields"][layer])


def _read_workspace(path: Path, names: list[str]) -> dict[str, gpd.GeoDataFrame]:
    with GeoPackageStore.open(path) as store:
        return {name: store.read_layer(name) for name in names}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    base = tmp_path_factory.mktemp("demo")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=PARCELS, seed=SEED)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    return Demo(result, manifest, _read_workspace(result.workspace, list(manifest["layers"])))


def _layer_hash(frame: gpd.GeoDataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(b"".join(shapely.to_wkb(frame.geometry.values, hex=False)))
    digest.update(frame.drop(columns=frame.geometry.name).to_csv().encode("utf-8"))
    return digest.hexdigest()


def _ellipsoidal(geom: shapely.Geometry) -> float:
    return float(ellipsoidal_area_m2([geom], CRS_4527)[0])


def _one(frame: gpd.GeoDataFrame) -> shapely.Geometry:
    assert len(frame) == 1
    return frame.geometry.values[0]


# -- determinism and counts -------------------------------------------------------------------


def test_same_seed_gives_identical_manifest_and_layers(demo: Demo, tmp_path: Path) -> None:
    again = build_demo(tmp_path / "again.gpkg", tmp_path / "files", parcels=PARCELS, seed=SEED)
    assert again.manifest_path.read_bytes() == demo.result.manifest_path.read_bytes()
    layers = _read_workspace(again.workspace, list(demo.layers))
    assert {k: _layer_hash(v) for k, v in layers.items()} == {
        k: _layer_hash(v) for k, v in demo.layers.items()
    }


def test_another_seed_gives_another_county() -> None:
    a = generate_county(1000, seed=1).layers["GHYD"]
    b = generate_county(1000, seed=2).layers["GHYD"]
    assert _layer_hash(a) != _layer_hash(b)


def test_layer_counts_match_manifest_and_workspace(demo: Demo) -> None:
    expected = [
        "XZQ",
        "DLTB",
        "STBHHX",
        "YJJBNT",
        "CZKFBJ",
        "GHYD",
        "XXGHDY",
        "XXGHDK",
        "ZXGH",
        "JSXM",
        "TDZZXM",
        "BHTB",
    ]
    assert list(demo.manifest["layers"]) == expected
    assert demo.result.layers == demo.manifest["layers"]
    assert {k: len(v) for k, v in demo.layers.items()} == demo.manifest["layers"]
    assert demo.manifest["layers"]["STBHHX"] == max(20, PARCELS // 150)
    assert 0.9 * PARCELS <= demo.manifest["layers"]["GHYD"] <= 1.2 * PARCELS
    assert demo.manifest["crs"] == "EPSG:4527"


def test_every_feature_has_a_unique_id_but_the_planted_duplicates(demo: Demo) -> None:
    skip = {demo.item("qc.duplicate.1")["features"][0]}
    for name, frame in demo.layers.items():
        ids = frame[demo.manifest_id_field(name)].astype(str)
        ids = ids[(ids != "") & ~ids.isin(skip) & (ids != "None")]
        assert ids.is_unique, name


# -- tiling and the background ---------------------------------------------------------------


def test_ghyd_tiles_the_county_up_to_the_planted_gap_and_overlap(demo: Demo) -> None:
    ghyd = demo.layers["GHYD"].geometry.values
    covered = float(shapely.area(shapely.make_valid(ghyd)).sum())
    gap = demo.item("qc.gap.1")["planar_area_m2"]
    overlap = demo.item("qc.overlap.1")["planar_area_m2"]
    county = demo.manifest["county"]["planar_area_m2"]
    assert covered == pytest.approx(county - gap + overlap, abs=0.1)


def test_dltb_tiles_the_county_but_for_the_duplicate(demo: Demo) -> None:
    dltb = demo.layers["DLTB"]
    dup = demo.item("qc.duplicate.1")["planar_area_m2"]
    total = float(shapely.area(dltb.geometry.values).sum())
    assert total == pytest.approx(demo.manifest["county"]["planar_area_m2"] + dup, abs=0.1)
    assert (
        dltb.TBMJ - np.round(ellipsoidal_area_m2(dltb.geometry.values, CRS_4527), 2)
    ).abs().max() < 0.011


@pytest.mark.parametrize("layer", ["GHYD", "DLTB"])
def test_land_parcels_are_single_polygons_of_at_least_one_square_metre(
    demo: Demo, layer: str
) -> None:
    geoms = np.asarray(demo.layers[layer].geometry.values, dtype=object)
    geoms = geoms[shapely.is_valid(geoms)]  # the planted bow-tie repairs to two triangles
    assert (shapely.get_num_geometries(geoms) == 1).all()
    assert shapely.area(geoms).min() >= 1.0


@pytest.mark.parametrize("layer", ["STBHHX", "YJJBNT", "CZKFBJ"])
def test_zones_lie_within_one_town(demo: Demo, layer: str) -> None:
    xzq = demo.layers["XZQ"]
    towns = np.asarray(xzq[xzq.JB == "乡级"].geometry.values, dtype=object)
    zones = np.asarray(demo.layers[layer].geometry.values, dtype=object)
    inside = shapely.area(shapely.intersection(zones[:, None], towns[None, :])) > 1e-6
    assert (inside.sum(axis=1) == 1).all()


def _conflicting(frame: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, min_area_m2: float) -> set[str]:
    """BSM of features overlapping ``zones`` by more than ``min_area_m2``."""
    geoms = shapely.make_valid(frame.geometry.values)
    i, j = shapely.STRtree(zones.geometry.values).query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[i], zones.geometry.values[j]))
    return set(frame.BSM.values[i[area > min_area_m2]])


def _planted(demo: Demo, *ids: str) -> set[str]:
    return {f for i in ids for f in demo.item(i)["features"]}


def test_construction_inside_red_lines_is_only_planted(demo: Demo) -> None:
    ghyd = demo.layers["GHYD"]
    built = ghyd[ghyd.YDYHFLDM.str.startswith(CONSTRUCTION)]
    assert _conflicting(built, demo.layers["STBHHX"], 1e-6) == _planted(
        demo,
        "conflict.redline.inside.1",
        "conflict.redline.straddle.1",
        "conflict.redline.sliver.1",
        "compliant.redline.exempt.1",
    )


def test_construction_on_permanent_farmland_is_only_planted(demo: Demo) -> None:
    ghyd = demo.layers["GHYD"]
    built = ghyd[ghyd.YDYHFLDM.str.startswith(CONSTRUCTION)]
    assert _conflicting(built, demo.layers["YJJBNT"], 1e-6) == _planted(
        demo, "conflict.farmland.1", "compliant.farmland.exempt.1"
    )


def test_urban_use_outside_the_development_boundary_is_only_planted(demo: Demo) -> None:
    ghyd = demo.layers["GHYD"]
    urban = ghyd[ghyd.YDYHFLDM.str.startswith(URBAN)]
    udb = shapely.union_all(demo.layers["CZKFBJ"].geometry.values)
    outside = shapely.area(shapely.difference(urban.geometry.values, udb))
    assert set(urban.BSM.values[outside > 1e-6]) == _planted(demo, "conflict.udb.outside.1")


def test_parcels_lie_wholly_inside_or_outside_every_zone(demo: Demo) -> None:
    straddling = _planted(
        demo, "conflict.redline.straddle.1", "conflict.redline.sliver.1", "conflict.udb.outside.1"
    )
    for layer in ("GHYD", "DLTB"):
        frame = demo.layers[layer]
        geoms = shapely.make_valid(frame.geometry.values)
        for zone in ("STBHHX", "YJJBNT", "CZKFBJ"):
            zg = demo.layers[zone].geometry.values
            i, j = shapely.STRtree(zg).query(geoms, predicate="intersects")
            inter = shapely.area(shapely.intersection(geoms[i], zg[j]))
            partial = (inter > 1e-3) & (inter < shapely.area(geoms[i]) - 1e-3)
            assert set(frame.BSM.values[i[partial]]) <= straddling, (layer, zone)


# -- every manifest answer, recomputed from the imported layers -------------------------------


def _measure(demo: Demo, item: dict[str, Any]) -> tuple[shapely.Geometry, float | None]:
    """The planted geometry measured again from the workspace, and a length where relevant."""
    layer, kind = item["layer"], item["kind"]
    mine = demo.features(layer, item["features"], item["id_field"])
    other = (
        demo.features(item["other_layer"], item["other_features"], item["other_id_field"])
        if item["other_layer"]
        else None
    )
    if kind == "overlap":
        a, b = mine.geometry.values
        return shapely.intersection(a, b), None
    if kind == "gap":
        window = shapely.from_wkt(item["geometry_wkt"]).buffer(20, join_style="mitre")
        near = demo.layers[layer].geometry.values
        return shapely.difference(window, shapely.union_all(shapely.make_valid(near))), None
    if kind == "duplicate":
        assert len(mine) == 2
        return mine.geometry.values[0], None
    if kind == "self_intersection":
        geom = _one(mine)
        assert not shapely.is_valid(geom)
        return shapely.make_valid(geom), None
    if kind in (
        "redline_conflict",
        "below_tolerance",
        "touches_only",
        "farmland_conflict",
        "unapproved_construction_on_farmland",
        "disallowed_use_in_zone",
        "urban_use_in_flexible_zone",
        "declared_allowed_activity",
        "declared_major_project",
    ):
        assert other is not None
        return shapely.intersection(_one(mine), _one(other)), None
    if kind == "outside_urban_boundary":
        udb = shapely.union_all(demo.layers["CZKFBJ"].geometry.values)
        return shapely.difference(_one(mine), udb), None
    if kind in ("outside_parent", "outside_boundary"):
        assert other is not None
        return shapely.difference(_one(mine), _one(other)), None
    if kind == "linear_redline_conflict":
        assert other is not None
        line, red = _one(mine), _one(other)
        width = float(mine.KD.values[0])
        strip = shapely.buffer(line, width / 2, cap_style="flat")
        return shapely.intersection(strip, red), float(
            shapely.length(shapely.intersection(line, red))
        )
    if kind in ("approved_construction", "unapproved_construction"):
        patch = _one(mine)
        projects = demo.layers["JSXM"]
        inside = projects.XMDM.values[shapely.within(patch, projects.geometry.values)]
        assert sorted(inside) == sorted(item["other_features"])
        return patch, None
    return _one(mine), None


#: Every manifest item with a geometry (and so a planar and an ellipsoidal area).
AREA_ITEMS = [
    # quality problems
    "qc.self_intersection.1",
    "qc.overlap.1",
    "qc.gap.1",
    "qc.unknown_code.1",
    "qc.retired_code.1",
    "qc.code_name_mismatch.1",
    "qc.duplicate.1",
    "qc.outside_county.1",
    "qc.unit_overflow.1",
    # review conflicts, and the two near misses that are not conflicts
    "conflict.redline.inside.1",
    "conflict.redline.straddle.1",
    "nonconflict.redline.touch.1",
    "conflict.redline.sliver.1",
    "conflict.farmland.1",
    "conflict.udb.outside.1",
    "conflict.highway.redline.1",
    "conflict.change.unapproved.1",
    "conflict.change.unapproved_farmland.1",
    "compliant.change.approved.1",
    "conflict.change.redline.1",
    "conflict.change.compliant_unapproved.1",
    "conflict.change.before_approval.1",
    "conflict.udb.special_use.1",
    "conflict.udb.flexible.1",
    "compliant.redline.exempt.1",
    "compliant.farmland.exempt.1",
    # 传导 and projects
    "conflict.transmission.use.1",
    "conflict.project.use.1",
    "conflict.project.udb_outside.1",
]


def test_area_items_are_every_item_with_a_geometry(demo: Demo) -> None:
    with_geometry = {i["id"] for i in demo.manifest["items"] if i["geometry_wkt"]}
    assert with_geometry == set(AREA_ITEMS)


@pytest.mark.parametrize("item_id", AREA_ITEMS)
def test_manifest_area_matches_the_imported_layers(demo: Demo, item_id: str) -> None:
    item = demo.item(item_id)
    geom, length = _measure(demo, item)
    assert float(shapely.area(geom)) == pytest.approx(item["planar_area_m2"], abs=AREA_TOL_M2)
    assert _ellipsoidal(geom) == pytest.approx(item["area_m2"], abs=AREA_TOL_M2)
    if item["length_m"] is not None:
        assert length == pytest.approx(item["length_m"], abs=1e-3)


def test_touching_parcel_shares_only_an_edge_with_the_red_line(demo: Demo) -> None:
    item = demo.item("nonconflict.redline.touch.1")
    parcel = _one(demo.features("GHYD", item["features"]))
    red = _one(demo.features("STBHHX", item["other_features"]))
    assert shapely.length(shapely.intersection(parcel, red)) == pytest.approx(100.0, abs=1e-6)


def test_sliver_is_below_one_square_metre(demo: Demo) -> None:
    assert 0 < demo.item("conflict.redline.sliver.1")["planar_area_m2"] < 1.0


# -- attribute answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_id", "layer", "field", "value"),
    [
        # land-use codes in the master plan and the survey
        ("qc.unknown_code.1", "GHYD", "YDYHFLDM", "0999"),
        ("qc.retired_code.1", "GHYD", "YDYHFLDM", "090301"),
        ("qc.code_name_mismatch.1", "DLTB", "DLMC", "旱地"),
        # indicators of detailed-plan parcels (joined from the XLSX table)
        ("qc.range.rjl.1", "XXGHDK", "RJL", 0.0),
        ("qc.range.ldl.1", "XXGHDK", "LDL", 120.0),
    ],
)
def test_planted_attribute_values(
    demo: Demo, item_id: str, layer: str, field: str, value: object
) -> None:
    item = demo.item(item_id)
    assert (item["layer"], item["field"], item["value"]) == (layer, field, value)
    assert demo.features(layer, item["features"])[field].tolist() == [value]


def test_mismatched_survey_code_is_paddy_field(demo: Demo) -> None:
    item = demo.item("qc.code_name_mismatch.1")
    assert demo.features("DLTB", item["features"]).DLBM.tolist() == ["0101"]


def test_blank_parcel_number_is_found_by_bsm(demo: Demo) -> None:
    item = demo.item("qc.required.dkbh.1")
    row = demo.features("XXGHDK", item["features"], "BSM")
    assert item["id_field"] == "BSM"
    assert row.DKBH.fillna("").str.strip().tolist() == [""]


def test_empty_geometry_survives_import(demo: Demo) -> None:
    item = demo.item("qc.empty_geometry.1")
    geoms = demo.features("XXGHDK", item["features"]).geometry.values
    assert len(geoms) == 1
    assert geoms[0] is None or shapely.is_empty(geoms[0])


def test_duplicate_rows_are_identical(demo: Demo) -> None:
    rows = demo.features("DLTB", demo.item("qc.duplicate.1")["features"])
    assert len(rows) == 2
    assert shapely.equals_exact(rows.geometry.values[0], rows.geometry.values[1], 0)
    attrs = rows.drop(columns="geometry")
    assert attrs.iloc[0].tolist() == attrs.iloc[1].tolist()


def test_rjl_above_unit_cap_is_the_only_one(demo: Demo) -> None:
    dk, dy = demo.layers["XXGHDK"], demo.layers["XXGHDY"]
    cap = dk.DYBH.map(dict(zip(dy.DYBH, dy.RJL, strict=True)))
    above = dk[dk.RJL.gt(cap)]
    item = demo.item("conflict.rjl_cap.1")
    assert above.DKBH.tolist() == item["features"]
    assert above.RJL.tolist() == [item["value"]]
    assert cap[above.index].tolist() == [item["limit"]]


def test_change_patches_without_approval_are_only_planted(demo: Demo) -> None:
    patches, projects = demo.layers["BHTB"], demo.layers["JSXM"]
    i, _ = shapely.STRtree(projects.geometry.values).query(
        patches.geometry.values, predicate="within"
    )
    outside_projects = set(patches.TBBH) - set(patches.TBBH.values[i])
    assert outside_projects == _planted(
        demo,
        "conflict.change.unapproved.1",
        "conflict.change.unapproved_farmland.1",
        "conflict.change.redline.1",
        "conflict.change.compliant_unapproved.1",
    )
    # the patch built before its approval lies inside its project (approved later)
    late = _planted(demo, "conflict.change.before_approval.1")
    assert late <= set(patches.TBBH.values[i])


# -- 传导: detailed plan ↔ master plan, unit totals, projects ↔ parcels ------------------------


def _compat_table() -> dict[str, list[str]]:
    text = (resources.files("guotu") / "rulesets" / "cn-base.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text)["tables"]["use_compatibility"])


def _dominant_codes(parcels: gpd.GeoDataFrame, ghyd: gpd.GeoDataFrame) -> pd.Series:
    """The GHYD code covering the largest part of each parcel (by DKBH)."""
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    master = shapely.make_valid(ghyd.geometry.values)
    i, j = shapely.STRtree(master).query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[i], master[j]))
    frame = pd.DataFrame(
        {"dkbh": parcels.DKBH.values[i], "code": ghyd.YDYHFLDM.values[j], "area": area}
    )
    by_code = frame.groupby(["dkbh", "code"])["area"].sum().reset_index()
    top = by_code.sort_values("area", ascending=False).drop_duplicates("dkbh")
    return top.set_index("dkbh")["code"]


def _has_geometry(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def _review_parcels(demo: Demo) -> gpd.GeoDataFrame:
    """Parcels the 传导 rules see: a geometry, a DKBH and a construction code."""
    dk = demo.layers["XXGHDK"]
    has_geom = _has_geometry(dk)
    named = dk.DKBH.fillna("").str.strip() != ""
    return dk[has_geom & (named & dk.YDYHFLDM.str.startswith(CONSTRUCTION)).to_numpy()]


def test_parcel_uses_agree_with_the_master_plan_but_the_planted_one(demo: Demo) -> None:
    parcels = _review_parcels(demo)
    dominant = _dominant_codes(parcels, demo.layers["GHYD"])
    table = _compat_table()
    bad = {
        d
        for d, code in zip(parcels.DKBH, parcels.YDYHFLDM, strict=True)
        if not is_compatible(code, dominant[d], table)
    }
    assert bad == _planted(demo, "conflict.transmission.use.1")


def test_transmission_parcel_lies_wholly_in_one_master_plan_parcel(demo: Demo) -> None:
    item = demo.item("conflict.transmission.use.1")
    parcel = _one(demo.features("XXGHDK", item["features"]))
    master = demo.features("GHYD", item["other_features"])
    assert shapely.covers(_one(master), parcel)
    assert master.YDYHFLDM.tolist() == [item["value"]]
    assert item["value"].startswith(("07", "14"))
    code = demo.features("XXGHDK", item["features"]).YDYHFLDM.tolist()[0]
    assert code == "100101" and not is_compatible(code, item["value"], _compat_table())


def _unit_sums(demo: Demo, prefixes: tuple[str, ...], exclude: tuple[str, ...] = ()) -> pd.Series:
    """Ellipsoidal area of each unit's parcels with the codes (joined by DYBH)."""
    dk = demo.layers["XXGHDK"]
    dk = dk[_has_geometry(dk) & (dk.DYBH.fillna("") != "").to_numpy()]
    codes = dk.YDYHFLDM.astype(str)
    mask = codes.str.startswith(prefixes) & ~(codes.str.startswith(exclude) if exclude else False)
    area = pd.Series(ellipsoidal_area_m2(dk.geometry.values, CRS_4527), index=dk.index)
    units = demo.layers["XXGHDY"].DYBH
    return area[mask].groupby(dk.DYBH[mask]).sum().reindex(units, fill_value=0.0)


@pytest.mark.parametrize(
    ("field", "prefixes", "exclude", "compare"),
    [
        # caps: the parcels' total stays at or below the allocation
        ("JSYDGM", CONSTRUCTION, ("14",), "le"),
        ("JZYDGM", ("07",), (), "le"),
        # floors: the parcels' total stays at or above it
        ("GGFWYDGM", ("08",), (), "ge"),
        ("LDKJYDGM", ("14",), (), "ge"),
    ],
)
def test_unit_totals_keep_their_allocations_but_the_planted_one(
    demo: Demo, field: str, prefixes: tuple[str, ...], exclude: tuple[str, ...], compare: str
) -> None:
    measured = _unit_sums(demo, prefixes, exclude)
    limit = demo.layers["XXGHDY"].set_index("DYBH")[field]
    excess = measured - limit if compare == "le" else limit - measured
    broken = set(excess.index[excess > 1.0])
    expected = _planted(demo, "conflict.unit_total.residential.1") if field == "JZYDGM" else set()
    assert broken == expected


def test_residential_unit_total_is_the_stated_deficit_above_its_allocation(demo: Demo) -> None:
    item = demo.item("conflict.unit_total.residential.1")
    (unit,) = item["features"]
    measured = float(_unit_sums(demo, ("07",))[unit])
    limit = float(demo.features("XXGHDY", [unit]).JZYDGM.iloc[0])
    assert (item["field"], item["limit"]) == ("JZYDGM", limit)
    assert measured == pytest.approx(item["value"], abs=AREA_TOL_M2)
    assert item["value"] - item["limit"] == pytest.approx(2500.0, abs=1e-6)


def test_no_unit_has_more_than_15_percent_reserved_land(demo: Demo) -> None:
    share = _unit_sums(demo, ("16",)) / _unit_sums(demo, ("",))
    assert share.max() <= 0.15


def _project_parcels(demo: Demo) -> pd.DataFrame:
    """Each project in the county with the parcel it lies on (a copy of it)."""
    js, dk = demo.layers["JSXM"], demo.layers["XXGHDK"]
    dk = dk[_has_geometry(dk)]
    projects = np.asarray(js.geometry.values, dtype=object)
    i, j = shapely.STRtree(dk.geometry.values).query(projects, predicate="intersects")
    share = shapely.area(shapely.intersection(projects[i], dk.geometry.values[j])) / shapely.area(
        projects[i]
    )
    i, j = i[share > 0.999999], j[share > 0.999999]  # the parcel the project copies
    out = pd.DataFrame(
        {
            "XMDM": js.XMDM.values[i],
            "code": js.YDYHFLDM.values[i],
            "rjl": js.RJL.values[i],
            "DKBH": dk.DKBH.values[j],
            "parcel_code": dk.YDYHFLDM.values[j],
            "parcel_rjl": dk.RJL.values[j],
        }
    )
    assert len(out) == len(js) - 1  # all but the project outside the county
    return out


def test_projects_match_their_parcels_but_the_planted_ones(demo: Demo) -> None:
    pairs = _project_parcels(demo)
    use = pairs[pairs.code != pairs.parcel_code]
    rjl = pairs[pairs.rjl > pairs.parcel_rjl]
    assert set(use.XMDM) == _planted(demo, "conflict.project.use.1")
    assert set(rjl.XMDM) == _planted(demo, "conflict.project.rjl.1")


def test_planted_project_values(demo: Demo) -> None:
    pairs = _project_parcels(demo).set_index("XMDM")
    use, rjl = demo.item("conflict.project.use.1"), demo.item("conflict.project.rjl.1")
    row = pairs.loc[use["features"][0]]
    assert [row.code, row.parcel_code, row.DKBH] == [
        use["value"],
        use["limit"],
        use["other_features"][0],
    ]
    assert row.code[:2] != row.parcel_code[:2]
    row = pairs.loc[rjl["features"][0]]
    assert [row.rjl, row.parcel_rjl, row.DKBH] == [
        rjl["value"],
        rjl["limit"],
        rjl["other_features"][0],
    ]
    assert row.rjl == pytest.approx(row.parcel_rjl + 0.5)


def test_declarations_are_only_on_the_exempt_parcels(demo: Demo) -> None:
    ghyd = demo.layers["GHYD"]
    declared = ghyd[ghyd[["HDLX", "ZDXMLX", "PZJG"]].notna().any(axis=1)]
    assert set(declared.BSM) == _planted(
        demo, "compliant.redline.exempt.1", "compliant.farmland.exempt.1"
    )
    exempt = demo.features("GHYD", demo.item("compliant.farmland.exempt.1")["features"])
    assert exempt[["ZDXMLX", "PZJG"]].values.tolist() == [["交通类", "国务院"]]


# -- the indicator table ----------------------------------------------------------------------


def _table(demo: Demo) -> pd.DataFrame:
    spec = demo.manifest["indicator_table"]
    frame = pd.read_excel(demo.result.out_dir / spec["file"], sheet_name=spec["sheet"])
    assert list(frame.columns) == list(spec["columns"].values())
    return frame.set_index("指标名称")


def _layer_ha(demo: Demo, layer: str, prefixes: tuple[str, ...] | None = None) -> float:
    frame = demo.layers[layer]
    if prefixes is not None:
        frame = frame[frame.YDYHFLDM.str.startswith(prefixes)]
    return float(frame.MJ.sum()) / 1e4


def test_indicator_table_file_matches_the_manifest(demo: Demo) -> None:
    table = _table(demo)
    rows = demo.manifest["indicator_table"]["rows"]
    assert table.index.tolist() == [r["name"] for r in rows]
    assert table["规划目标值"].tolist() == [r["planned"] for r in rows]


def _exact_ha(demo: Demo, layer: str) -> float:
    geoms = shapely.make_valid(np.asarray(demo.layers[layer].geometry.values, dtype=object))
    return float(ellipsoidal_area_m2(geoms, CRS_4527).sum()) / 1e4


@pytest.mark.parametrize(
    ("name", "layer", "share"),
    [
        # floors: the upper-level task, 97 % of the delimited zone, rounded down to whole hectares
        ("生态保护红线面积", "STBHHX", 0.97),
        ("永久基本农田保护面积", "YJJBNT", 0.97),
        # the cap: 103 % of the delimited boundary, rounded up
        ("城镇开发边界面积", "CZKFBJ", 1.03),
    ],
)
def test_zone_rows_are_the_tasks_the_delimitation_meets(
    demo: Demo, name: str, layer: str, share: float
) -> None:
    row = _table(demo).loc[name]
    assert row["规划目标值"] == row["上级下达值"] and float(row["规划目标值"]).is_integer()
    assert abs(row["规划目标值"] - share * _exact_ha(demo, layer)) < 1.0
    if share < 1:
        assert row["规划目标值"] <= share * _exact_ha(demo, layer)
    else:
        assert row["规划目标值"] >= share * _exact_ha(demo, layer)


@pytest.mark.parametrize(
    ("name", "prefixes", "gap_ha"),
    [
        # planted: 0.6 ha over the map's 耕地 (within the 1 ha tolerance), 3.5 ha under the map's
        # 城乡建设用地 (a finding)
        ("耕地保有量", ("01",), 0.6),
        ("城乡建设用地规模", URBAN_RURAL, -3.5),
    ],
)
def test_plan_map_rows_against_the_layers(
    demo: Demo, name: str, prefixes: tuple[str, ...], gap_ha: float
) -> None:
    planned = float(_table(demo).loc[name, "规划目标值"])
    assert planned - _layer_ha(demo, "GHYD", prefixes) == pytest.approx(gap_ha, abs=2e-4)


def test_construction_total_and_intensity_agree_with_the_plan_map(demo: Demo) -> None:
    table = _table(demo)
    total = float(table.loc["建设用地总面积", "规划目标值"])
    mapped = _layer_ha(demo, "GHYD", tuple(f"{i:02d}" for i in range(7, 17)))
    assert 0 <= total - mapped < 2e-4
    county_ha = demo.manifest["county"]["area_m2"] / 1e4
    intensity = float(table.loc["国土开发强度", "规划目标值"])
    assert 0 <= intensity - 100 * total / county_ha < 0.01
    assert total >= float(table.loc["城乡建设用地规模", "规划目标值"])


def test_only_the_planted_indicator_is_below_its_allocation(demo: Demo) -> None:
    table = _table(demo).dropna(subset=["上级下达值"])
    ge = {"生态保护红线面积", "永久基本农田保护面积", "耕地保有量", "林地保有量", "湿地面积"}
    short = {
        n
        for n, row in table.iterrows()
        if (row["规划目标值"] < row["上级下达值"]) == (n in ge)
        and row["规划目标值"] != row["上级下达值"]
    }
    item = demo.item("conflict.indicator.allocation.1")
    assert short == set(item["features"])
    row = table.loc[item["features"][0]]
    assert [row["规划目标值"], row["上级下达值"]] == [item["value"], item["limit"]]
    assert item["limit"] - item["value"] == pytest.approx(25.0, abs=1e-6)


def test_map_indicator_items_carry_layer_and_table_hectares(demo: Demo) -> None:
    table = _table(demo)
    for item_id, prefixes in (
        ("conflict.indicator.map.1", URBAN_RURAL),
        ("nonconflict.indicator.map.within_tolerance.1", ("01",)),
    ):
        item = demo.item(item_id)
        assert item["other_layer"] == "GHYD"
        assert item["value"] == pytest.approx(_layer_ha(demo, "GHYD", prefixes), abs=1e-4)
        assert item["limit"] == table.loc[item["features"][0], "规划目标值"]


# -- plan targets and what monitoring makes of them -------------------------------------------


def _targets(demo: Demo) -> pd.DataFrame:
    frame = pd.read_excel(demo.result.out_dir / "规划目标.xlsx")
    assert list(frame.columns) == ["指标名称", "指标属性", "单位", "2025年", "2035年"]
    return frame.set_index("指标名称")


def test_targets_carry_the_indicator_tables_figures(demo: Demo) -> None:
    targets, table = _targets(demo), _table(demo)
    assert targets.index.tolist() == table.index.tolist()
    assert targets["2035年"].tolist() == table["规划目标值"].tolist()
    assert targets["单位"].tolist() == table["单位"].tolist()
    assert targets["指标属性"].tolist() == table["指标属性"].tolist()
    assert demo.manifest["history"]["targets"] == json.loads(
        targets.reset_index().to_json(orient="records", force_ascii=False)
    )


def test_targets_name_every_indicator_a_county_plan_sets(demo: Demo) -> None:
    catalogue = {i.name_zh: i for i in load_catalogue().indicators}
    targets = _targets(demo)
    assert set(targets.index) <= set(catalogue)
    kinds = {"binding": "约束性", "expected": "预期性"}
    assert all(targets.loc[n, "指标属性"] == kinds[catalogue[n].type] for n in targets.index)
    expected = demo.manifest["history"]["expected"]
    with_target = {catalogue[n].id for n in targets.index}
    assert with_target | set(expected["no_target"]) == {i.id for i in catalogue.values()}
    assert len(with_target) == 12 and not with_target & set(expected["no_target"])
    assert set(expected["status_2025"]) == with_target  # every target gives a status


def test_planted_statuses_cover_met_at_risk_and_one_breached(demo: Demo) -> None:
    statuses = demo.manifest["history"]["expected"]["status_2025"]
    assert [k for k, v in statuses.items() if v == "red"] == ["construction_land_total"]
    assert [k for k, v in statuses.items() if v == "yellow"] == [
        "cultivated_land",
        "water_use_total",
    ]
    assert {"redline_area", "permanent_farmland_area", "urban_boundary_area"} <= {
        k for k, v in statuses.items() if v == "green"
    }


def test_monitoring_gives_the_planted_statuses(demo: Demo) -> None:
    out = CliRunner().invoke(
        root,
        [
            "monitor",
            "indicators",
            "-w",
            str(demo.result.workspace),
            "--as-of",
            "2025-12-31",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    expected = demo.manifest["history"]["expected"]
    got = {r["id"]: r["status"] for r in doc["indicators"]}
    assert {k: v for k, v in got.items() if v is not None} == expected["status_2025"]
    assert [k for k, v in got.items() if v is None] == expected["no_target"]
    assert doc["inputs"]["targets"]["from"] == "workspace"


def test_monitoring_today_answers_to_the_2035_targets(demo: Demo) -> None:
    out = CliRunner().invoke(
        root, ["monitor", "indicators", "-w", str(demo.result.workspace), "--json"]
    )
    assert out.exit_code == 0, out.output
    got = {r["id"]: r["status"] for r in json.loads(out.stdout)["indicators"]}
    later = demo.manifest["history"]["expected"]["status_2035"]
    assert {k: v for k, v in got.items() if v is not None} == later
    assert [k for k, v in later.items() if v == "red"] == ["per_capita_urban_construction"]
    assert later["construction_land_total"] == "green" and later["water_use_total"] == "yellow"


# -- plans, versions and dates ----------------------------------------------------------------


def test_plans_are_recorded_with_their_approvals(demo: Demo) -> None:
    with GeoPackageStore.open(demo.result.workspace) as store:
        for plan in demo.manifest["plans"]:
            (version,) = store.versions(plan["name"])
            assert (version.label, version.status.value) == (plan["version"], "approved")
            assert version.valid_from == date.fromisoformat(plan["valid_from"])
            assert (version.approval_no, version.approval_organ) == (
                plan["approval_no"],
                plan["approval_organ"],
            )
            for layer in plan["layers"]:
                assert store.layer(layer).plan == plan["name"]
        names = {p["name"]: p for p in demo.manifest["plans"]}
        assert {p.name for p in store.plans() if p.name in names} == set(names)
        for data in ("XZQ", "JSXM", "TDZZXM", "BHTB"):  # data layers keep their own plan
            assert store.layer(data).plan == f"layer:{data}"


@pytest.mark.parametrize(
    "layer", ["GHYD", "STBHHX", "YJJBNT", "CZKFBJ", "XXGHDY", "XXGHDK", "ZXGH"]
)
def test_nothing_of_a_plan_is_in_force_before_its_approval(demo: Demo, layer: str) -> None:
    plan = next(p for p in demo.manifest["plans"] if layer in p["layers"])
    start = date.fromisoformat(plan["valid_from"])
    with GeoPackageStore.open(demo.result.workspace) as store:
        assert store.layer_version(layer, as_of=start - timedelta(days=1)) is None
        assert store.layer_version(layer, as_of=start) is not None
        assert len(store.read_layer(layer, as_of=date(2019, 1, 1))) == 0


def test_a_site_query_before_the_plans_finds_none_of_them(demo: Demo) -> None:
    site = shapely.from_wkt(demo.item("conflict.redline.inside.1")["geometry_wkt"]).centroid
    with GeoPackageStore.open(demo.result.workspace) as store:

        def layers(day: date) -> set[str]:
            doc = SiteQuery().query(store, point=f"{site.x},{site.y}", as_of=day).to_dict()
            return {e["layer"] for e in doc["applies"]}

        assert layers(date(2019, 1, 1)) == {"XZQ"}  # data only: no plan was in force
        assert layers(date(2022, 6, 1)) == {"XZQ", "DLTB"}  # the 2021 survey
        assert layers(date(2023, 6, 1)) == {"XZQ", "DLTB", "STBHHX"}  # 三区三线 from 2022-10
        assert layers(date.today()) == {"XZQ", "DLTB", "STBHHX", "GHYD"}


def test_plan_dates_are_in_procedural_order(demo: Demo) -> None:
    starts = {p["name"]: date.fromisoformat(p["valid_from"]) for p in demo.manifest["plans"]}
    by_layer = {
        layer: date.fromisoformat(p["valid_from"])
        for p in demo.manifest["plans"]
        for layer in p["layers"]
    }
    assert by_layer["STBHHX"].year == 2022  # 三区三线 delimited nationally in 2022
    assert by_layer["STBHHX"] < by_layer["GHYD"] < by_layer["XXGHDK"]  # 三区三线 → 总规 → 控规
    assert by_layer["GHYD"] < by_layer["ZXGH"]
    for plan in demo.manifest["plans"]:
        if plan["parent"] is not None:
            assert starts[plan["parent"]] < starts[plan["name"]]
    # projects are approved on the detailed plan in force
    approvals = pd.to_datetime(demo.layers["JSXM"].PZRQ).dt.date
    assert approvals.min() > by_layer["XXGHDK"]


def test_each_survey_version_carries_its_own_year(demo: Demo) -> None:
    with GeoPackageStore.open(demo.result.workspace) as store:
        for v in demo.manifest["history"]["versions"]:
            as_of = date.fromisoformat(v["valid_from"]) + timedelta(days=150)
            frame = store.read_layer("DLTB", columns=["SJNF"], as_of=as_of)
            assert set(frame.SJNF) == {v["year"]}, v["label"]
            raw = pyogrio.read_dataframe(
                demo.result.out_dir / v["file"],
                encoding="GBK",
                columns=["SJNF"],
                read_geometry=False,
            )
            assert set(raw.SJNF) == {v["year"]}, v["file"]


def test_consolidation_projects_start_before_their_acceptance(demo: Demo) -> None:
    done = demo.manifest["history"]["ledger"]["completed_project"]
    accepted = min(
        c["year"] for c in demo.manifest["history"]["changes"] if c["kind"] == "supplement"
    )
    assert int(done[8:12]) <= accepted
    assert all(2021 <= int(x[8:12]) <= 2023 for x in demo.layers["TDZZXM"].XMDM)


def test_facilities_only_on_parcels_that_have_buildings(demo: Demo) -> None:
    dk = demo.layers["XXGHDK"]
    with_facility = dk[dk.PTSS.fillna("") != ""]
    assert len(with_facility) and with_facility.RJL.notna().all()
    residents = with_facility[with_facility.PTSS.isin(["幼儿园", "社区服务站"])]
    assert residents.YDYHFLDM.str[:2].isin(["07", "08"]).all()


def test_handover_note_names_each_plan_and_its_approval(demo: Demo) -> None:
    note = (demo.result.out_dir / "数据说明.txt").read_text(encoding="utf-8")
    for plan in demo.manifest["plans"]:
        assert plan["name"] in note and plan["approval_no"] in note
    assert "虚构" in note


# -- the handover files ---------------------------------------------------------------------


def test_gbk_shapefile_has_no_cpg_and_reads_back_in_chinese(demo: Demo) -> None:
    shp = demo.result.out_dir / "DLTB.shp"
    assert shp.exists()
    assert not shp.with_suffix(".cpg").exists()
    raw = pyogrio.read_dataframe(shp, encoding="GBK", columns=["ZLDWMC"])
    assert "城关镇" in set(raw.ZLDWMC)
    assert set(demo.layers["DLTB"].ZLDWMC) == set(raw.ZLDWMC)
    assert "旱地" in set(demo.layers["DLTB"].DLMC)


def test_planned_land_use_gdb_is_in_the_crs_without_zone_prefix(demo: Demo) -> None:
    info = pyogrio.read_info(demo.result.out_dir / "规划用地.gdb", layer="GHYD")
    assert info["crs"] == "EPSG:4548"
    assert "用地用海代码" in list(info["fields"])


def test_parcel_indicators_come_from_the_table(demo: Demo) -> None:
    columns = list(pyogrio.read_info(demo.result.out_dir / "详细规划地块.geojson")["fields"])
    assert "容积率" not in columns and "地块编号" in columns
    assert demo.layers["XXGHDK"].RJL.notna().sum() > 0


# -- the command line -----------------------------------------------------------------------


def test_cli_json_summary(tmp_path: Path) -> None:
    ws = tmp_path / "cli.gpkg"
    run = CliRunner().invoke(root, ["demo", "-w", str(ws), "--parcels", "1000", "--json"])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.output)
    assert summary["layers"]["XZQ"] == 9
    assert Path(summary["manifest"]) == tmp_path / "cli_files" / "manifest.json"
    assert summary["items"] == len(
        json.loads(Path(summary["manifest"]).read_text("utf-8"))["items"]
    )


def test_cli_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    ws = tmp_path / "cli.gpkg"
    ws.write_bytes(b"")
    run = CliRunner().invoke(root, ["--lang", "en", "demo", "-w", str(ws), "--parcels", "1000"])
    assert run.exit_code == 2
    assert "--force" in run.output

"""Quality checks on hand-made layers with hand-computed answers (pure: no files)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from guotu.domain.checks.engine import (
    CHECKS,
    check_order,
    parse_check_list,
    register_check,
    run_checks,
)
from guotu.domain.checks.spec import CheckContext, CheckSpec
from guotu.domain.codes.validation import validate_code
from guotu.domain.core.findings import Finding, Severity, Skipped
from guotu.domain.core.layers import LayerData
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.errors import ConfigError

GK = CRS.from_epsg(4527)  # CGCS2000 3° GK zone 39
X0, Y0 = 39_500_000.0, 4_000_000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle in metres from the zone's central meridian at 4000 km north."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def ell(geom: shapely.Geometry) -> float:
    return float(ellipsoidal_area_m2([geom], GK)[0])


def layer(
    geoms: list[Any],
    role: str = "planned_land_use",
    name: str = "L",
    fids: list[int] | None = None,
    **attrs: list[Any],
) -> LayerData:
    n = len(geoms)
    return LayerData(
        name=name,
        role=role,
        crs=GK,
        fids=np.asarray(fids if fids is not None else range(1, n + 1), dtype=np.int64),
        geometries=np.asarray(geoms, dtype=object),
        attributes={k: np.asarray(v, dtype=object) for k, v in attrs.items()},
    )


def spec(operator: str, severity: str = "error", **params: Any) -> CheckSpec:
    return CheckSpec(
        id=f"test.{operator}",
        name_zh=operator,
        name_en=operator,
        severity=Severity(severity),
        operator=operator,
        params=params,
    )


def run(s: CheckSpec, target: LayerData, *others: LayerData) -> list[Finding]:
    result = CHECKS.get(s.operator)(s, target, CheckContext([target, *others]))
    assert not isinstance(result, Skipped), result
    return sorted(result, key=check_order)


BOUNDARY = layer([box(0, 0, 300, 100)], role="admin_boundary", name="范围", XZQDM=["1"])


# -- overlaps ---------------------------------------------------------------------------------
def test_overlap_of_two_squares_is_the_shared_strip() -> None:
    found = run(
        spec("overlaps", tolerance_area_m2=1.0), layer([box(0, 0, 100, 100), box(90, 0, 190, 100)])
    )
    assert len(found) == 1
    f = found[0]
    assert (f.fid, f.related_fids) == (1, (2,))
    assert f.geometry is not None and f.geometry.area == pytest.approx(1000.0)
    assert f.area_m2 == pytest.approx(ell(box(90, 0, 100, 100)), abs=1e-6)
    assert f.location is not None and shapely.Point(f.location).within(box(90, 0, 100, 100))
    assert "1000.00 m²" in f.message_zh and "要素 2" in f.message_zh


@pytest.mark.parametrize(
    "second",
    [
        box(100, 0, 200, 100),  # touching neighbours share an edge
        box(100, 100, 200, 200),  # touching at a corner
        box(99.999, 0, 200, 100),  # sliver overlap of 0.1 m², below the 1 m² tolerance
    ],
)
def test_touching_and_sliver_overlaps_are_not_findings(second: shapely.Polygon) -> None:
    assert run(spec("overlaps", tolerance_area_m2=1.0), layer([box(0, 0, 100, 100), second])) == []


def test_overlap_with_invalid_geometry_is_measured_repaired_and_says_so() -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 20, Y0 + 20), (X0 + 20, Y0), (X0, Y0 + 20)])
    found = run(spec("overlaps"), layer([bowtie, box(10, 0, 30, 20)]))
    assert len(found) == 1 and found[0].is_repaired
    assert found[0].area_m2 == pytest.approx(
        ell(shapely.Polygon([(X0 + 10, Y0 + 10), (X0 + 20, Y0 + 20), (X0 + 20, Y0)])), abs=1e-6
    )
    assert "make_valid" in found[0].message_zh


# -- gaps ----------------------------------------------------------------------------------
def test_gap_inside_the_boundary_is_found_with_its_area() -> None:
    tiles = layer([box(0, 0, 100, 100), box(100, 0, 190, 100), box(200, 0, 300, 100)])
    result = CHECKS.get("gaps")(spec("gaps"), tiles, CheckContext([tiles, BOUNDARY]))
    assert not isinstance(result, Skipped)
    (gap,) = result
    assert gap.fid is None and gap.related_fids == (2, 3)
    assert gap.area_m2 == pytest.approx(ell(box(190, 0, 200, 100)), abs=1e-6)
    assert gap.geometry is not None and gap.geometry.area == pytest.approx(1000.0)


def test_gap_check_is_skipped_without_a_boundary_layer() -> None:
    tiles = layer([box(0, 0, 100, 100), box(200, 0, 300, 100)])
    result = CHECKS.get("gaps")(spec("gaps"), tiles, CheckContext([tiles]))
    assert isinstance(result, Skipped)
    assert "admin_boundary" in result.reason_zh and "外轮廓" in result.reason_zh


def test_gap_below_tolerance_is_not_a_finding() -> None:
    tiles = layer([box(0, 0, 150, 100), box(150.005, 0, 300, 100)])  # 0.5 m² gap
    assert run(spec("gaps", tolerance_area_m2=1.0), tiles, BOUNDARY) == []


# -- containment ---------------------------------------------------------------------------
def test_parcel_sticking_out_of_its_unit_by_a_known_rectangle() -> None:
    units = layer(
        [box(0, 0, 200, 100), box(200, 0, 400, 100)],
        role="detailed_unit",
        name="单元",
        DYBH=["U1", "U2"],
    )
    parcels = layer(
        [box(0, 0, 100, 100), box(150, 0, 220, 50)],
        role="detailed_parcel",
        name="地块",
        DYBH=["U1", "U1"],
        DKBH=["A1", "A2"],
    )
    s = spec("outside_container", container_role="detailed_unit", join_field="DYBH")
    (f,) = run(s, parcels, units)
    assert (f.fid, f.id_field, f.id_value) == (2, "DKBH", "A2")
    assert f.area_m2 == pytest.approx(ell(box(200, 0, 220, 50)), abs=1e-6)


def test_feature_outside_the_plan_boundary() -> None:
    features = layer([box(0, 0, 100, 100), box(290, 0, 320, 100)])
    s = spec("outside_container", container_role="admin_boundary")
    (f,) = run(s, features, BOUNDARY)
    assert f.fid == 2
    assert f.area_m2 == pytest.approx(ell(box(300, 0, 320, 100)), abs=1e-6)


def test_outside_check_is_skipped_without_a_container_layer() -> None:
    features = layer([box(0, 0, 100, 100)])
    s = spec("outside_container", container_role="admin_boundary")
    assert isinstance(CHECKS.get(s.operator)(s, features, CheckContext([features])), Skipped)


# -- geometry ----------------------------------------------------------------------------
def test_bowtie_is_invalid_with_reason_and_location() -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    (f,) = run(spec("invalid_geometry"), layer([box(100, 0, 200, 100), bowtie]))
    assert f.fid == 2 and f.measured == "Self-intersection"
    assert f.location == (X0 + 5, Y0 + 5)
    assert "自相交" in f.message_zh and "--repair" in f.message_zh


def test_empty_geometry() -> None:
    found = run(spec("empty_geometry"), layer([box(0, 0, 1, 1), shapely.Polygon(), None]))
    assert [f.fid for f in found] == [2, 3]


def test_duplicates_name_every_fid_of_the_group() -> None:
    a = box(0, 0, 100, 100)
    rotated = shapely.Polygon(list(a.exterior.coords)[2:] + list(a.exterior.coords)[1:3])
    found = run(spec("duplicate_geometry"), layer([a, box(200, 0, 300, 100), rotated, a]))
    assert [(f.fid, f.related_fids) for f in found] == [(3, (1, 4)), (4, (1, 3))]


def test_small_part_and_small_hole_are_slivers() -> None:
    shell = box(0, 0, 100, 100)
    with_hole = shapely.Polygon(shell.exterior.coords, [box(10, 10, 10.5, 10.5).exterior.coords])
    multi = shapely.MultiPolygon([box(200, 0, 300, 100), box(400, 0, 401, 0.5)])
    found = run(
        spec("small_parts", min_part_area_m2=1.0, min_hole_area_m2=1.0),
        layer([with_hole, multi, box(500, 0, 600, 100)]),
    )
    assert [(f.fid, round(f.area_m2 or 0, 2)) for f in found] == [(1, 0.25), (2, 0.5)]
    assert "碎洞" in found[0].message_zh and "碎片部件" in found[1].message_zh


def test_degenerate_ring_with_repeated_points() -> None:
    flat = shapely.Polygon([(X0, Y0), (X0 + 5, Y0), (X0 + 5, Y0), (X0, Y0)])
    (f,) = run(spec("degenerate_rings", min_ring_vertex_count=3), layer([box(0, 0, 10, 10), flat]))
    assert f.fid == 2 and f.measured == 2.0


# -- attributes --------------------------------------------------------------------------
def test_codes_unknown_retired_and_name_mismatch() -> None:
    lyr = layer(
        [box(i, 0, i + 1, 1) for i in range(4)],
        YDYHFLDM=["0101", "090301", "0199", "0101"],
        YDYHFLMC=["水田", None, None, "旱地"],
    )
    kinds = {
        k: run(spec("land_use_code", kinds=[k]), lyr)
        for k in ("unknown", "retired", "name_mismatch")
    }
    assert [f.fid for f in kinds["unknown"]] == [3]
    assert [(f.fid, f.measured, f.limit) for f in kinds["retired"]] == [(2, "090301", "0903")]
    assert [(f.fid, f.field, f.limit) for f in kinds["name_mismatch"]] == [(4, "YDYHFLMC", "0103")]


def test_sandiao_codes_use_the_sandiao_table() -> None:
    lyr = layer(
        [box(i, 0, i + 1, 1) for i in range(3)],
        role="land_survey",
        DLBM=["0101", "0199", "0103"],
        DLMC=["水田", "x", "水田"],
    )
    assert [f.fid for f in run(spec("land_use_code", kinds=["unknown"]), lyr)] == [2]
    assert [f.fid for f in run(spec("land_use_code", kinds=["name_mismatch"]), lyr)] == [3]


def test_out_of_range_rjl_zero_and_ldl_120() -> None:
    lyr = layer(
        [box(0, 0, 1, 1), box(1, 0, 2, 1)],
        role="detailed_parcel",
        DKBH=["A", "B"],
        RJL=[0.0, 2.5],
        LDL=[120.0, 35.0],
    )
    found = run(spec("field_ranges"), lyr)
    assert [(f.fid, f.field, f.measured, f.limit) for f in found] == [
        (1, "LDL", 120.0, ">= 0 and <= 100"),
        (1, "RJL", 0.0, "> 0 and <= 30"),
    ]


def test_required_fields_blank_and_missing() -> None:
    lyr = layer([box(0, 0, 1, 1)] * 3, YDYHFLDM=["0101", None, "  "])
    assert [f.fid for f in run(spec("required_fields"), lyr)] == [2, 3]
    no_column = layer([box(0, 0, 1, 1)])
    (f,) = run(spec("required_fields"), no_column)
    assert f.fid is None and f.field == "YDYHFLDM"


# -- registry and check list ----------------------------------------------------------------
def test_unknown_operator_fails_at_load_listing_the_known_ones() -> None:
    data = {
        "schema_version": 1,
        "checks": [
            {"id": "x.y", "name_zh": "x", "name_en": "x", "severity": "error", "operator": "nope"}
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_check_list(data)
    assert "nope" in str(info.value) and "overlaps" in str(info.value)


def test_every_problem_of_a_check_list_is_listed_with_its_path() -> None:
    entry = {"name_zh": "x", "name_en": "x", "severity": "error", "operator": "overlaps"}
    data = {
        "schema_version": 1,
        "checks": [
            {**entry, "id": "a.b", "operator": "nope"},
            {**entry, "id": "a.b"},  # the same id again
            {**entry, "id": "c.d", "applies_to": {"roles": ["no_such_role"]}},
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_check_list(data, source="c.yaml")
    text = info.value.render("zh")
    assert text.startswith("质检清单 c.yaml 有 3 处问题：")
    for path in ("$.checks[0].operator", "$.checks[1].id", "$.checks[2].applies_to"):
        assert f"c.yaml: {path}: " in text
    assert "docs/quality_checks.md" in text


def test_register_check_adds_an_operator() -> None:
    @register_check("test_count_features")
    def _count(s: CheckSpec, lyr: LayerData, ctx: CheckContext) -> list[Finding]:
        return [s.finding(lyr, "数", "count", measured=float(len(lyr.fids)))]

    lyr = layer([box(0, 0, 1, 1)])
    run_result = run_checks([spec("test_count_features")], CheckContext([lyr]))
    assert [f.measured for f in run_result.findings] == [1.0]


# -- order independence ---------------------------------------------------------------------
ALL = [
    spec(op)
    for op in (
        "empty_geometry",
        "invalid_geometry",
        "duplicate_geometry",
        "small_parts",
        "overlaps",
        "land_use_code",
        "field_ranges",
    )
]


def _key(findings: tuple[Finding, ...]) -> list[tuple[Any, ...]]:
    return [
        (
            f.rule,
            f.fid,
            f.related_fids,
            f.field,
            None if f.area_m2 is None else round(f.area_m2, 6),
        )
        for f in findings
    ]


def _shuffled(lyr: LayerData, order: np.ndarray) -> LayerData:
    return LayerData(
        lyr.name,
        lyr.role,
        lyr.crs,
        lyr.fids[order],
        lyr.geometries[order],
        {k: v[order] for k, v in lyr.attributes.items()},
    )


def test_shuffling_features_gives_the_same_findings() -> None:
    lyr = layer(
        [box(0, 0, 100, 100), box(90, 0, 190, 100), box(0, 0, 100, 100), box(300, 0, 301, 0.5)],
        YDYHFLDM=["0101", "0199", "0101", "090301"],
    )
    base = run_checks(ALL, CheckContext([lyr])).findings
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(lyr.fids))
        assert _key(run_checks(ALL, CheckContext([_shuffled(lyr, order)])).findings) == _key(base)


@settings(max_examples=25, deadline=None)
@given(
    shifts=st.lists(st.floats(-3, 3, allow_nan=False), min_size=3, max_size=9),
    seed=st.integers(0, 2**16),
)
def test_property_findings_do_not_depend_on_feature_order(shifts: list[float], seed: int) -> None:
    geoms = [box(i * 50 + s, 0, i * 50 + 50 + s, 50) for i, s in enumerate(shifts)]
    lyr = layer(geoms)
    checks = [spec("overlaps", tolerance_area_m2=1.0), spec("duplicate_geometry")]
    base = run_checks(checks, CheckContext([lyr])).findings
    order = np.random.default_rng(seed).permutation(len(geoms))
    assert _key(run_checks(checks, CheckContext([_shuffled(lyr, order)])).findings) == _key(base)


@pytest.mark.parametrize("code", ["05H1", "08H1", "08H2", "08H2A", "0201K", "1104A", "09"])
def test_sandiao_h_and_suffix_codes_are_valid(code: str) -> None:
    # TD/T 1055 三调 codes with letters; real DLTB data uses them (found on the demo county).
    assert validate_code("sandiao", code, None) == []

"""规划核实 (``guotu.domain.workflow.as_built``) on a hand-computed site in CGCS2000 3° GK zone
39 (EPSG:4527), every expected value worked out in the comments.

The permit: a 100 m × 80 m site, 8,000 m²; 容积率 ≤ 2.0, 建筑密度 ≤ 30 %, 绿地率 ≥ 35 %,
限高 45 m, 退线 ≥ 5 m. Coordinates are metres from the site's south-west corner (X0, Y0).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import shapely
from pyproj import CRS

from guotu.domain.core.findings import Severity
from guotu.domain.workflow.as_built import (
    AsBuiltBuilding,
    AsBuiltItem,
    AsBuiltResult,
    AsBuiltSurvey,
    PermitConditions,
    Tolerances,
    verify_as_built,
)
from guotu.errors import ConfigError, CRSError, GeometryError, InputError

from ..conftest import X0, Y0

CRS_GK39 = CRS.from_epsg(4527)


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle in metres from the site's south-west corner."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


SITE = box(0, 0, 100, 80)  # 100 × 80 = 8,000 m²
PERMIT = PermitConditions(
    SITE,
    CRS_GK39,
    max_far=2.0,
    max_density_pct=30.0,
    min_green_pct=35.0,
    max_height_m=45.0,
    min_setback_m=5.0,
    permitted_footprints=(box(10, 10, 30, 50), box(60, 20, 80, 50)),
    permit_no="建字第 2026-001 号",
)
# 1号楼: 20 × 40 = 800 m² footprint, 12 floors, 9,600 m²; nearest edges: west 10 m, south 10 m.
A = AsBuiltBuilding("1号楼", box(10, 10, 30, 50), 12, 39.6, 9600.0, fid=1)
# 2号楼: 20 × 30 = 600 m², 11 floors; 6,400 m² keeps the FAR at 2.0. Nearest edge: south, 20 m.
B = AsBuiltBuilding("2号楼", box(60, 20, 80, 50), 11, 36.3, 6400.0, fid=2)
# Green: 3,000 m² / 8,000 m² = 37.5 % ≥ 35 %.
COMPLIANT = AsBuiltSurvey((A, B), CRS_GK39, green_area_m2=3000.0, surveyor="某测绘院")


def item(result: AsBuiltResult, indicator: str, building: str | None = None) -> AsBuiltItem:
    """The one item of ``indicator`` (for ``building``)."""
    found = [i for i in result.items if i.indicator == indicator and i.building_id == building]
    assert len(found) == 1, (indicator, building, found)
    return found[0]


def with_b(**changes: Any) -> AsBuiltSurvey:
    """The compliant survey with 2号楼 changed."""
    return replace(COMPLIANT, buildings=(A, replace(B, **changes)))


# --- all compliant ---------------------------------------------------------------------------


def test_a_compliant_survey_passes_every_item() -> None:
    r = verify_as_built(PERMIT, COMPLIANT)
    assert r.passed and r.exceeded == () and r.findings() == []
    # 3 site-wide items + 2 buildings × (height, within site, setback, footprint) = 11.
    assert len(r.items) == 11
    assert r.site_area_m2 == pytest.approx(8000.0)


def test_the_far_at_exactly_its_limit_passes() -> None:
    # (9,600 + 6,400) / 8,000 = 16,000 / 8,000 = 2.0 exactly: not over the limit.
    far = item(verify_as_built(PERMIT, COMPLIANT), "as_built.far")
    assert far.measured == pytest.approx(2.0) and far.passed
    assert (far.measured_text, far.permitted_text) == ("2.00", "2.00")


def test_density_is_the_union_of_the_footprints_over_the_site() -> None:
    # (800 + 600) / 8,000 × 100 = 17.5 %.
    density = item(verify_as_built(PERMIT, COMPLIANT), "as_built.building_density")
    assert density.measured == pytest.approx(17.5) and density.passed
    assert density.unit == "%" and density.measured_text == "17.50"


def test_overlapping_footprints_count_once_in_the_density() -> None:
    # A podium 20 × 40 under 1号楼 (same outline): the union is still 800 + 600 = 1,400 m².
    podium = AsBuiltBuilding("1号楼裙房", box(10, 10, 30, 50), 2, 9.0, 100.0)
    survey = replace(COMPLIANT, buildings=(A, podium, replace(B, floor_area_m2=6300.0)))
    r = verify_as_built(PERMIT, survey)
    assert r.footprint_area_m2 == pytest.approx(1400.0)
    assert item(r, "as_built.building_density").measured == pytest.approx(17.5)


def test_the_green_ratio_and_its_message() -> None:
    # 3,000 / 8,000 × 100 = 37.5 % ≥ 35 %.
    green = item(verify_as_built(PERMIT, COMPLIANT), "as_built.green_ratio")
    assert green.measured == pytest.approx(37.5) and green.passed
    assert green.message_zh == (
        "绿地率 37.50%，不低于许可下限 35.00%（容差 0.00%）：绿地面积 3000.00 m²，"
        "用地面积 8000.00 m²。"
    )


def test_green_polygons_count_only_inside_the_site() -> None:
    # 0–100 × 50–80 (3,000 m²) inside, plus a strip 100–110 × 50–80 (300 m²) outside the site,
    # and an overlap 0–10 × 60–80 counted once: 3,000 m² → 37.5 %.
    greens = (box(0, 50, 110, 80), box(0, 60, 10, 80))
    survey = replace(COMPLIANT, green_area_m2=None, green_areas=greens)
    r = verify_as_built(PERMIT, survey)
    assert r.green_area_m2 == pytest.approx(3000.0)
    assert item(r, "as_built.green_ratio").measured == pytest.approx(37.5)


def test_a_survey_without_green_cannot_verify_the_green_ratio() -> None:
    r = verify_as_built(PERMIT, replace(COMPLIANT, green_area_m2=None))
    green = item(r, "as_built.green_ratio")
    assert green.measured is None and not green.passed and green.measured_text == ""
    assert "无法核实" in green.message_zh and not r.passed


def test_the_stated_site_area_is_the_denominator() -> None:
    # The permit states 8,100 m²: FAR 16,000 / 8,100 = 1.975…, density 1,400 / 8,100 = 17.28 %.
    r = verify_as_built(replace(PERMIT, stated_site_area_m2=8100.0), COMPLIANT)
    assert item(r, "as_built.far").measured == pytest.approx(16000 / 8100)
    assert item(r, "as_built.building_density").measured_text == "17.28"


# --- FAR -------------------------------------------------------------------------------------


def test_far_exceeded() -> None:
    # 2号楼 with 6,600 m²: (9,600 + 6,600) / 8,000 = 16,200 / 8,000 = 2.025 > 2.0.
    r = verify_as_built(PERMIT, with_b(floor_area_m2=6600.0))
    far = item(r, "as_built.far")
    assert far.measured == pytest.approx(2.025) and not far.passed
    assert r.exceeded == (far,) and not r.passed
    # Shown half up: 2.025 → 2.03.
    assert far.message_zh == (
        "容积率 2.03，超过许可上限 2.00（容差 0.00）：计容建筑面积合计 16200.00 m²，"
        "用地面积 8000.00 m²。"
    )
    assert far.message_en.startswith("Floor area ratio 2.03 exceeds the permitted maximum 2.00")


@pytest.mark.parametrize(
    ("tolerances", "passed"),
    [
        # absolute: 2.0 + 0.05 = 2.05 ≥ 2.025; 2.0 + 0.02 = 2.02 < 2.025
        (Tolerances(far_abs=0.05), True),
        (Tolerances(far_abs=0.02), False),
        # relative: 1 % of 2.0 = 0.02 → 2.02 < 2.025; 1.25 % = 0.025 → exactly 2.025
        (Tolerances(far_rel_pct=1.0), False),
        (Tolerances(far_rel_pct=1.25), True),
        # the larger of the two applies: max(0.01, 0.03) = 0.03 → 2.03
        (Tolerances(far_abs=0.01, far_rel_pct=1.5), True),
    ],
)
def test_far_tolerance(tolerances: Tolerances, passed: bool) -> None:
    r = verify_as_built(PERMIT, with_b(floor_area_m2=6600.0), tolerances)
    assert item(r, "as_built.far").passed is passed


def test_a_small_excess_is_shown_with_the_places_it_needs() -> None:
    # 6,432 m²: 16,032 / 8,000 = 2.004; at two places it would read "2.00 > 2.00".
    far = item(verify_as_built(PERMIT, with_b(floor_area_m2=6432.0)), "as_built.far")
    assert not far.passed and (far.measured_text, far.permitted_text) == ("2.004", "2.000")


# --- height ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height_m", "tolerance_m", "passed"),
    [
        (45.0, 0.0, True),  # at the limit
        (45.3, 0.0, False),  # 0.3 m over, no tolerance
        (45.3, 0.5, True),  # 0.3 m over, within 0.5 m
        (45.3, 0.2, False),  # 0.3 m over, beyond 0.2 m
    ],
)
def test_height(height_m: float, tolerance_m: float, passed: bool) -> None:
    r = verify_as_built(PERMIT, with_b(height_m=height_m), Tolerances(height_m=tolerance_m))
    height = item(r, "as_built.height", "2号楼")
    assert height.measured == height_m and height.passed is passed
    assert height.tolerance == tolerance_m and height.unit == "m"
    assert item(r, "as_built.height", "1号楼").passed  # 39.6 m


def test_a_building_over_the_height_limit_is_a_finding_naming_it() -> None:
    r = verify_as_built(PERMIT, with_b(height_m=46.3))
    [finding] = r.findings()
    assert finding.rule == "as_built.height" and finding.severity is Severity.ERROR
    assert (finding.measured, finding.limit, finding.unit) == (46.3, 45.0, "m")
    assert finding.feature is not None and finding.feature.label() == "编号=2号楼"
    assert finding.fid == 2
    assert finding.message_zh == (
        "建筑 2号楼：建筑高度 46.30 m，超过许可上限 45.00 m（容差 0.00 m）。"
    )


# --- setback and site boundary ---------------------------------------------------------------


def test_a_building_3_m_from_the_boundary_fails_the_setback() -> None:
    # 2号楼 moved to x 77–97: east edge 100 − 97 = 3 m from the red line; 3 < 5 − 0.05.
    r = verify_as_built(
        replace(PERMIT, permitted_footprints=()), with_b(footprint=box(77, 20, 97, 50))
    )
    setback = item(r, "as_built.setback", "2号楼")
    assert setback.measured == pytest.approx(3.0) and not setback.passed
    assert item(r, "as_built.within_site", "2号楼").passed  # inside the site, only too close
    assert [i.indicator for i in r.exceeded] == ["as_built.setback"]
    # 1号楼: min(10, 100 − 30, 10, 80 − 50) = 10 m.
    assert item(r, "as_built.setback", "1号楼").measured == pytest.approx(10.0)


def test_the_setback_tolerance_is_the_position_tolerance() -> None:
    # East edge at 95.03: 4.97 m from the line, 0.03 m short of 5 m, within 0.05 m.
    survey = with_b(footprint=box(75.03, 20, 95.03, 50))
    permit = replace(PERMIT, permitted_footprints=())
    assert item(verify_as_built(permit, survey), "as_built.setback", "2号楼").passed
    strict = verify_as_built(permit, survey, Tolerances(position_m=0.0))
    assert not item(strict, "as_built.setback", "2号楼").passed


def test_a_footprint_outside_the_site_is_its_own_failure() -> None:
    # 2号楼 at x 90–110: 10 m beyond the east line, 10 × 30 = 300 m² outside; setback 0.
    r = verify_as_built(
        replace(PERMIT, permitted_footprints=()), with_b(footprint=box(90, 20, 110, 50))
    )
    outside = item(r, "as_built.within_site", "2号楼")
    assert outside.measured == pytest.approx(10.0) and outside.area_m2 == pytest.approx(300.0)
    assert not outside.passed
    assert outside.message_zh == (
        "建筑 2号楼：超出用地红线 10.00 m（容差 0.05 m），超出部分面积 300.00 m²。"
    )
    setback = item(r, "as_built.setback", "2号楼")
    assert setback.measured == 0.0 and not setback.passed
    assert "越出用地红线" in setback.message_zh


def test_a_footprint_wholly_outside_the_site_has_no_setback() -> None:
    # 2号楼 at x 120–140 lies 20 m east of the site: it reaches 40 m beyond; setback 0, not 20.
    r = verify_as_built(
        replace(PERMIT, permitted_footprints=()), with_b(footprint=box(120, 20, 140, 50))
    )
    assert item(r, "as_built.within_site", "2号楼").measured == pytest.approx(40.0)
    assert item(r, "as_built.setback", "2号楼").measured == 0.0


# --- permitted footprint ---------------------------------------------------------------------


def test_a_footprint_partly_outside_the_permitted_footprint_fails() -> None:
    # 1号楼 built 1 m wider to the east (x 10–31): 1 m beyond, 1 × 40 = 40 m² outside.
    wide = replace(A, footprint=box(10, 10, 31, 50), floor_area_m2=9000.0)
    r = verify_as_built(PERMIT, replace(COMPLIANT, buildings=(wide, B)))
    fp = item(r, "as_built.footprint", "1号楼")
    assert fp.measured == pytest.approx(1.0) and fp.area_m2 == pytest.approx(40.0)
    assert not fp.passed and fp.unit == "m" and fp.tolerance == 0.05
    assert [(i.indicator, i.building_id) for i in r.exceeded] == [("as_built.footprint", "1号楼")]
    [finding] = r.findings()
    assert finding.area_m2 == pytest.approx(40.0) and finding.id_value == "1号楼"


def test_a_footprint_off_by_less_than_the_position_tolerance_passes() -> None:
    # 1号楼 surveyed 0.03 m east of its permitted outline: 0.03 ≤ 0.05 m.
    shifted = replace(A, footprint=box(10.03, 10, 30.03, 50))
    r = verify_as_built(PERMIT, replace(COMPLIANT, buildings=(shifted, B)))
    fp = item(r, "as_built.footprint", "1号楼")
    assert fp.measured == pytest.approx(0.03, abs=1e-6) and fp.passed
    assert "在容差 0.05 m 以内" in fp.message_zh


def test_the_reach_at_a_corner_is_the_diagonal() -> None:
    # 1号楼 grown 3 m east and 4 m north (x 10–33, y 10–54): its far corner (33, 54) is
    # √(3² + 4²) = 5 m from the permitted corner (30, 50).
    grown = replace(A, footprint=box(10, 10, 33, 54), floor_area_m2=9000.0)
    r = verify_as_built(PERMIT, replace(COMPLIANT, buildings=(grown, B)))
    fp = item(r, "as_built.footprint", "1号楼")
    # Found by bisection: never low, at most 0.008 % + 0.1 mm high.
    assert fp.measured is not None and 5.0 - 1e-9 <= fp.measured <= 5.0 * 1.00008 + 1e-4
    # 23 × 44 − 20 × 40 = 1,012 − 800 = 212 m² outside.
    assert fp.area_m2 == pytest.approx(212.0)


def test_a_building_filling_a_notch_reaches_from_the_middle_of_its_edge() -> None:
    # The permitted outline is a U (0–30 × 0–30 without the notch 10–20 × 10–30); the building
    # fills the notch (10–20 × 10–30). Its farthest point from the U is the middle of the
    # notch's mouth (15, 30), 5 m from either arm: not a corner of the building.
    u = shapely.difference(box(0, 0, 30, 30), box(10, 10, 20, 30))
    permit = replace(PERMIT, permitted_footprints=(u,), min_setback_m=None)
    notch = AsBuiltBuilding("3号楼", box(10, 10, 20, 30), 3, 10.0, 100.0)
    r = verify_as_built(permit, replace(COMPLIANT, buildings=(notch,)))
    fp = item(r, "as_built.footprint", "3号楼")
    assert fp.measured is not None and 5.0 - 1e-9 <= fp.measured <= 5.0 * 1.00008 + 1e-4


# --- ordering, findings ----------------------------------------------------------------------


def test_items_are_site_wide_first_then_by_indicator_and_building() -> None:
    r = verify_as_built(PERMIT, replace(COMPLIANT, buildings=(B, A)))
    assert [(i.indicator, i.building_id) for i in r.items] == [
        ("as_built.far", None),
        ("as_built.building_density", None),
        ("as_built.green_ratio", None),
        ("as_built.height", "1号楼"),
        ("as_built.height", "2号楼"),
        ("as_built.within_site", "1号楼"),
        ("as_built.within_site", "2号楼"),
        ("as_built.setback", "1号楼"),
        ("as_built.setback", "2号楼"),
        ("as_built.footprint", "1号楼"),
        ("as_built.footprint", "2号楼"),
    ]


def test_findings_are_sorted_by_rule_then_building() -> None:
    # FAR 2.025, 2号楼 46.3 m and 3 m from the line, 1号楼 over its outline.
    wide = replace(A, footprint=box(10, 10, 31, 50))
    far_b = replace(B, floor_area_m2=6600.0, height_m=46.3, footprint=box(77, 20, 97, 50))
    r = verify_as_built(PERMIT, replace(COMPLIANT, buildings=(far_b, wide)))
    assert [(f.rule, f.id_value) for f in r.findings()] == [
        ("as_built.far", None),
        ("as_built.footprint", "1号楼"),
        ("as_built.footprint", "2号楼"),
        ("as_built.height", "2号楼"),
        ("as_built.setback", "2号楼"),
    ]
    assert r.findings()[0].layer is None and r.findings()[1].layer == "as_built"


def test_a_limit_the_permit_does_not_set_is_not_checked() -> None:
    permit = PermitConditions(SITE, CRS_GK39, max_height_m=45.0)
    r = verify_as_built(permit, COMPLIANT)
    assert {i.indicator for i in r.items} == {"as_built.height", "as_built.within_site"}


# --- refused input ---------------------------------------------------------------------------


def test_a_geographic_crs_is_refused() -> None:
    geographic = CRS.from_epsg(4490)
    permit = replace(PERMIT, crs=geographic, site=shapely.box(117, 36, 117.001, 36.001))
    with pytest.raises(CRSError) as err:
        verify_as_built(permit, replace(COMPLIANT, crs=geographic))
    assert "投影坐标系" in err.value.render()


def test_a_survey_in_another_crs_is_refused() -> None:
    with pytest.raises(CRSError) as err:
        verify_as_built(PERMIT, replace(COMPLIANT, crs=CRS.from_epsg(4528), source="jg.gpkg"))
    assert err.value.file == "jg.gpkg" and "坐标系" in err.value.render()


@pytest.mark.parametrize(
    "site",
    [
        shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]),  # a bow tie
        shapely.Polygon(),  # empty
        shapely.LineString([(0, 0), (10, 0)]),  # not a polygon
    ],
)
def test_a_site_that_is_not_a_valid_polygon_is_refused(site: shapely.Geometry) -> None:
    with pytest.raises(GeometryError) as err:
        PermitConditions(site, CRS_GK39)
    assert err.value.render().startswith("用地红线必须是有效且非空的面")


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"height_m": -3.0}, "高度"),
        ({"floors": 0}, "层数"),
        ({"floor_area_m2": float("nan")}, "建筑面积"),
    ],
)
def test_impossible_building_values_are_refused(changes: dict[str, Any], word: str) -> None:
    with pytest.raises(InputError) as err:
        replace(B, **changes)
    assert f"建筑 2号楼 的{word}" in err.value.render()


def test_two_buildings_with_one_id_are_refused() -> None:
    with pytest.raises(InputError) as err:
        AsBuiltSurvey((A, replace(B, id="1号楼")), CRS_GK39)
    assert err.value.feature == "1号楼"


@pytest.mark.parametrize(
    "permit_change",
    [{"max_density_pct": 130.0}, {"max_far": 0.0}, {"min_setback_m": -1.0}],
)
def test_impossible_limits_are_refused(permit_change: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        replace(PERMIT, **permit_change)


@pytest.mark.parametrize(
    "tolerance", [{"height_m": -0.1}, {"area_pct": 150.0}, {"position_m": float("inf")}]
)
def test_impossible_tolerances_are_refused(tolerance: dict[str, float]) -> None:
    with pytest.raises(ConfigError) as err:
        Tolerances(**tolerance)
    assert err.value.field == next(iter(tolerance))


def test_the_area_tolerance_widens_density_and_green_relatively() -> None:
    # Green 2,760 m²: 34.5 % < 35 %; with area_pct 2: 35 × 0.98 = 34.3 % ≤ 34.5 % passes.
    survey = replace(COMPLIANT, green_area_m2=2760.0)
    assert not item(verify_as_built(PERMIT, survey), "as_built.green_ratio").passed
    green = item(verify_as_built(PERMIT, survey, Tolerances(area_pct=2.0)), "as_built.green_ratio")
    assert green.passed and green.tolerance == pytest.approx(0.7)

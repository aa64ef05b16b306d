"""The 体检评估 report on a document built by hand: sections, charts, HTML."""

from __future__ import annotations

import html
import itertools
import re
from typing import Any

import pytest

from guotu.io.monitor_chart import chart_model, series_svg
from guotu.io.monitor_report import render_monitor_html
from guotu.io.monitor_sections import Cards, Grid, footer_lines, report_sections
from guotu.services.monitoring_report import direction_text

YEARS = ("2021-12-31", "2022-12-31", "2023-12-31", "2024-12-31", "2025-12-31")
FARMLAND = (18555.13, 18551.81, 18553.03, 18551.06, 18548.77)
CONSTRUCTION = (2152.28, 2155.59, 2158.11, 2160.05, 2162.37)
INTENSITY = (6.58, 6.59, 6.60, 6.61, 6.61)
CONVENTIONS = {
    "construction_land_total": "约定算法：以三调建设用地（三大类）计算，含区域交通用地。",
    "development_intensity": "约定算法：建设用地总面积 ÷ 行政区域面积 × 100%。",
}


def _series(values: tuple[float, ...], layer: str = "DLTB") -> list[dict[str, Any]]:
    return [
        {
            "as_of": day,
            "value": v,
            "version": {layer: f"{day[:4]}年度国土变更调查"},
            "version_label": {layer: f"示范县年度国土变更调查 {day[:4]}年度国土变更调查"},
        }
        for day, v in zip(YEARS, values, strict=True)
    ]


def _indicator(
    iid: str,
    name: str,
    unit: str,
    unit_label: str,
    values: tuple[float, ...],
    *,
    target: float | None,
    direction: str,
    status: str | None,
    forecast: dict[str, Any] | None = None,
    crossing_text: str | None = None,
) -> dict[str, Any]:
    return {
        "id": iid,
        "name": name,
        "unit": unit,
        "unit_label": unit_label,
        "crossing_text": crossing_text,
        "type": "binding",
        "direction": direction,
        "direction_label": direction_text(direction),
        "value": values[-1],
        "target_year": 2035 if target is not None else None,
        "target": target,
        "status": status,
        "convention": CONVENTIONS.get(iid),
        "forecast": forecast,
        "lineage": {"formula": f"area({iid})"},
        "series": _series(values),
    }


def make_monitor_doc(lang: str = "zh") -> dict[str, Any]:
    """Three indicators (a warning, a breach and a convention), two cases, a ledger."""
    indicators = [
        _indicator(
            "cultivated_land",
            "耕地保有量",
            "ha",
            "公顷",
            FARMLAND,
            target=18543.72,
            direction=">=",
            status="yellow",
            forecast={
                "slope_per_year": -1.3470,
                "points": 5,
                "crossing_early": 2027.8,
                "crossing_late": 2035.5,
            },
            crossing_text="预计突破 2027–2035 年",
        ),
        _indicator(
            "construction_land_total",
            "建设用地总面积",
            "ha",
            "公顷",
            CONSTRUCTION,
            target=2161.87,
            direction="<=",
            status="red",
            forecast={
                "slope_per_year": 2.4679,
                "points": 5,
                "crossing_early": 2025.0,
                "crossing_late": 2025.0,
            },
            crossing_text="已突破（2024-12-31 起）",
        ),
        _indicator(
            "development_intensity",
            "国土开发强度",
            "%",
            "%",
            INTENSITY,
            target=9.5,
            direction="<=",
            status="green",
        ),
    ]
    return {
        "lang": lang,
        "as_of": "2025-12-31",
        "workspace": "/srv/data/示范县.gpkg",
        "indicators": {
            "as_of": "2025-12-31",
            "catalogue": {
                "id": "cn-core",
                "version": "2026.1",
                "title": "国土空间规划实施监测核心指标",
            },
            "summary": {"green": 1, "yellow": 1, "red": 1, "no_target": 0},
            "indicators": indicators,
            "warnings": [
                {
                    "indicator": "construction_land_total",
                    "status": "red",
                    "message": "建设用地总面积 2,162.37 公顷，高于 2035 年目标 2,161.87 公顷 0.50 公顷，已突破。",
                },
                {
                    "indicator": "cultivated_land",
                    "status": "yellow",
                    "message": "耕地保有量 18,548.77 公顷，距 2035 年目标 18,543.72 公顷 仅 5.05 公顷（0.03%）。",
                },
            ],
        },
        "cases": {
            "summary": {"by_class": {"redline_construction": 1, "approved_built": 1}},
            "cases": [
                {
                    "tbbh": "BH20250019",
                    "class_name": "生态保护红线内新增建设",
                    "status_name": "待核查",
                    "image_date": "2025-04-20",
                    "area_m2": 2999.9488,
                    "projects": [],
                },
                {
                    "tbbh": "BH20250001",
                    "class_name": "已批已建",
                    "status_name": "待核查",
                    "image_date": "2025-04-20",
                    "area_m2": 7574.67,
                    "projects": [{"xmdm": "2022-370999-70-01-000001"}],
                },
            ],
        },
        "consolidation": {
            "from": "2021年度国土变更调查",
            "to": "2025年度国土变更调查",
            "ledger": [
                {
                    "version": "2022年度国土变更调查",
                    "occupied_m2": 33161.7381,
                    "supplemented_m2": 0,
                    "balance_m2": -33161.7381,
                },
                {
                    "version": "2023年度国土变更调查",
                    "occupied_m2": 25205.5811,
                    "supplemented_m2": 37364.7615,
                    "balance_m2": 12159.1804,
                },
            ],
            "totals": {
                "occupied_m2": 58367.3192,
                "supplemented_m2": 37364.7615,
                "balance_m2": -21002.5577,
                "balanced": False,
            },
            "projects": [
                {
                    "xmdm": "TZ3709992022001",
                    "xmmc": "平原镇高标准农田建设项目（1）",
                    "progress_pct": 100.0,
                    "planned": {"new_farmland_m2": 37364.76},
                    "measured": {"new_farmland_m2": 37364.7615},
                    "warnings": [],
                }
            ],
            "warnings": ["耕地占补不平衡：占用耕地 5.8367 公顷，补充 3.7365 公顷（占多补少）。"],
        },
        "notes": ["没有第二期变化图斑，案件按单期统计。"],
    }


@pytest.fixture
def doc() -> dict[str, Any]:
    return make_monitor_doc()


# -- charts ----------------------------------------------------------------------------------


def test_chart_has_round_ticks_years_values_and_the_target() -> None:
    m = chart_model(_series(FARMLAND), 18543.72, width=245, height=112)
    assert m is not None
    # the values and the target span 18,543.72–18,555.13: ticks every 5 from 18,540
    assert [t for _, t in m.ticks] == ["18,540", "18,545", "18,550", "18,555", "18,560"]
    assert [p[2] for p in m.points] == ["2021", "2022", "2023", "2024", "2025"]
    assert [p[3] for p in m.points] == [
        "18,555.13",
        "18,551.81",
        "18,553.03",
        "18,551.06",
        "18,548.77",
    ]
    assert m.target is not None and m.target[1] == "18,543.72"
    # y grows down: the 18,560 tick is at the top of the plot, 18,540 at the bottom
    left, top, right, bottom = m.plot
    assert m.ticks[-1][0] == pytest.approx(top) and m.ticks[0][0] == pytest.approx(bottom)
    assert all(left < x < right for x, *_ in m.points)


def test_chart_drops_value_labels_that_would_collide_keeping_the_last() -> None:
    series = [{"as_of": f"{y}-12-31", "value": 1_234_567.0 + y} for y in range(2000, 2026)]
    m = chart_model(series, None, width=245, height=112)
    assert m is not None
    shown = [p[3] for p in m.points]
    assert shown[-1] == "1,236,592.00" and None in shown
    xs = [p[0] for p in m.points if p[3] is not None]
    assert min(b - a for a, b in itertools.pairwise(xs)) > 3.4 * len("1,236,592.00")


def test_chart_of_a_mid_year_date_names_its_month() -> None:
    m = chart_model(
        [{"as_of": "2025-12-31", "value": 1.0}, {"as_of": "2026-06-30", "value": 2.0}], None
    )
    assert m is not None and [p[2] for p in m.points] == ["2025", "2026-06"]


def test_chart_without_values_is_none() -> None:
    assert chart_model([{"as_of": "2025-12-31", "value": None}], 3.0) is None
    assert series_svg([], None) == ""


def test_svg_chart_shows_axes_years_and_values() -> None:
    svg = series_svg(_series(CONSTRUCTION), 2161.87)
    assert ">2021</text>" in svg and ">2025</text>" in svg
    assert ">2,162.37</text>" in svg and 'stroke-dasharray="4 3"' in svg
    assert svg.count("<line") >= 2 + 3  # two axes and the tick lines


# -- sections and HTML -----------------------------------------------------------------------


def test_sections_are_numbered_one_to_six(doc: dict[str, Any]) -> None:
    assert [h for h, _ in report_sections(doc)] == [
        "一、总体情况",
        "二、指标监测",
        "三、预警",
        "四、监测案件",
        "五、耕地占补平衡与土地整治",
        "六、说明",
    ]


def test_overview_counts_statuses_cases_and_the_ledger(doc: dict[str, Any]) -> None:
    texts = [b.text for b in report_sections(doc)[0][1]]  # type: ignore[union-attr]
    assert texts == [
        "指标 3 项：突破 1，预警 1，正常 1，无目标 0。",
        "监测案件 2 件：生态保护红线内新增建设 1，已批已建 1。",
        "耕地占补（2021年度国土变更调查至2025年度国土变更调查）：占用 5.8367 公顷，补充 3.7365 公顷，"
        "缺口 2.1003 公顷。",
    ]


def test_indicator_section_has_a_card_per_indicator_and_the_table(doc: dict[str, Any]) -> None:
    blocks = report_sections(doc)[1][1]
    cards = next(b for b in blocks if isinstance(b, Cards)).cards
    assert [c.name for c in cards] == ["耕地保有量", "建设用地总面积 *", "国土开发强度 *"]
    assert cards[0].lines == ("目标 ≥18,543.72（2035）", "预计突破 2027–2035 年")
    # a breach says so, never a forecast of the past ("预计突破 2025.0–2025.0")
    assert cards[1].lines == ("目标 ≤2,161.87（2035）", "已突破（2024-12-31 起）", "* 约定算法")
    assert (cards[0].status, cards[1].status, cards[2].value) == ("预警", "突破", "6.6100")
    table = next(b for b in blocks if isinstance(b, Grid))
    assert table.rows[1][4] == "≤2,161.8700（2035）" and table.rows[1][5] == "突破"


def test_targets_read_with_comparison_signs_never_ascii(doc: dict[str, Any]) -> None:
    # the direction is written by the document (direction_label), not by each renderer
    page = html.unescape(render_monitor_html(doc))
    assert "≥18,543.72" in page and "≤2,161.87" in page
    assert ">=" not in re.sub(r"<[^>]*>", "", page) and "&lt;=" not in page


def test_pdf_footer_names_the_plan_versions_as_people_read_them(doc: dict[str, Any]) -> None:
    # the data line names the plan and version (plan_version_label), as the review does,
    # not the layer code with a bare version label
    made, data = footer_lines(doc)
    assert made.startswith("指标目录 cn-core 2026.1")
    assert data == "数据：示范县年度国土变更调查 2025年度国土变更调查"


def test_notes_give_every_convention_in_full(doc: dict[str, Any]) -> None:
    notes = report_sections(doc)[5][1]
    items = notes[1].items  # type: ignore[union-attr]
    assert items == (
        "建设用地总面积：" + CONVENTIONS["construction_land_total"],
        "国土开发强度：" + CONVENTIONS["development_intensity"],
        "没有第二期变化图斑，案件按单期统计。",
    )


def test_a_missing_part_says_none(doc: dict[str, Any]) -> None:
    doc["cases"] = None
    assert [b.text for b in report_sections(doc)[3][1]] == ["无"]  # type: ignore[union-attr]


def test_html_has_the_sections_in_order_and_a_chart_per_indicator(doc: dict[str, Any]) -> None:
    page = render_monitor_html(doc)
    assert [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", page)] == [
        h for h, _ in report_sections(doc)
    ]
    assert page.count("<svg") == 3 and "带 * 的指标按约定算法计算" in page
    assert "/srv/data" not in page
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)


def test_html_in_english() -> None:
    page = render_monitor_html(make_monitor_doc("en"))
    assert "<h2>1. Overview</h2>" in page and "<h2>6. Notes</h2>" in page

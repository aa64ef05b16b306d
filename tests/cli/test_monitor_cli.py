"""``guotu monitor indicators`` on the demo county's planted five-year history."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import CRS, Geod, Transformer

from guotu.cli import root
from guotu.demo.build import build_demo

GK = CRS.from_epsg(4527)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("monitor_demo")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    files = base / "files"
    args = [
        "monitor",
        "indicators",
        "-w",
        str(result.workspace),
        "--json",
        "--from-year",
        "2021",
        "--targets",
        str(files / "规划目标.xlsx"),
        "--statistics",
        str(files / "社会经济统计.xlsx"),
    ]
    out = CliRunner().invoke(root, [*args, "--as-of", "2025-12-31"])
    assert out.exit_code == 0, out.output
    return {
        "workspace": result.workspace,
        "files": files,
        "history": manifest["history"],
        "doc": json.loads(out.stdout),
        "args": args,
    }


def _row(doc: dict[str, Any], iid: str) -> dict[str, Any]:
    return next(r for r in doc["indicators"] if r["id"] == iid)


def test_history_is_recorded_as_yearly_versions(demo: dict[str, Any]) -> None:
    h = demo["history"]
    assert [v["label"] for v in h["versions"]] == [
        f"{y}年度国土变更调查" for y in range(2021, 2026)
    ]
    kinds = [c["kind"] for c in h["changes"]]
    assert kinds.count("occupation") == 8 and 1 <= kinds.count("supplement") <= 3
    row = _row(demo["doc"], "cultivated_land")
    assert [p["version"]["DLTB"] for p in row["series"]] == [v["label"] for v in h["versions"]]


def test_yearly_changes_equal_the_planted_areas(demo: dict[str, Any]) -> None:
    expected = demo["history"]["expected"]
    for iid, key in (
        ("cultivated_land", "cultivated_land_change_ha"),
        ("construction_land_total", "construction_land_total_change_ha"),
    ):
        series = [p["value"] for p in _row(demo["doc"], iid)["series"]]
        changes = {str(2022 + k): b - a for k, (a, b) in enumerate(itertools.pairwise(series))}
        assert changes.keys() == expected[key].keys()
        for year, delta in expected[key].items():
            assert changes[year] == pytest.approx(delta, abs=1e-5), (iid, year)  # 0.1 m²


def test_cultivated_land_equals_an_independent_geodesic_sum(demo: dict[str, Any]) -> None:
    frame = pyogrio.read_dataframe(demo["files"] / "DLTB.shp", encoding="GBK")
    farm = frame[frame["DLBM"].astype(str).isin(["0101", "0102", "0103"])]
    to_lonlat = Transformer.from_crs(GK, CRS.from_epsg(4490), always_xy=True)
    geod = Geod(ellps="GRS80")
    total = 0.0
    for geom in shapely.make_valid(np.asarray(farm.geometry.values, dtype=object)):
        dense = shapely.segmentize(geom, 2.0)
        lonlat = shapely.transform(
            dense, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))
        )
        total += abs(geod.geometry_area_perimeter(lonlat)[0])
    value = _row(demo["doc"], "cultivated_land")["value"]
    assert value == pytest.approx(total / 1e4, abs=len(farm) * 0.01 / 1e4)


def test_planted_statuses_and_warnings(demo: dict[str, Any]) -> None:
    doc = demo["doc"]
    planted = demo["history"]["expected"]["status_2025"]
    for iid, colour in planted.items():
        assert _row(doc, iid)["status"] == colour, iid
    # every planted red, then every planted yellow, and nothing else (in catalogue order)
    order = [r["id"] for r in doc["indicators"]]
    expected = sorted(
        (i for i, c in planted.items() if c in ("red", "yellow")),
        key=lambda i: (planted[i] != "red", order.index(i)),
    )
    assert [w["indicator"] for w in doc["warnings"]] == expected
    assert "已突破" in doc["warnings"][0]["message"]
    yellow = _row(doc, "cultivated_land")
    assert yellow["forecast"]["slope_per_year"] < 0
    others = [r for r in doc["indicators"] if r["id"] not in planted and r["status"]]
    assert all(r["status"] == "green" for r in others)  # the demo may plant every status


def test_lineage_and_conventions_in_json(demo: dict[str, Any]) -> None:
    row = _row(demo["doc"], "per_capita_urban_construction")
    assert row["lineage"]["tables"]["urban_population"]["year"] == 2025
    term = row["lineage"]["terms"][0]
    assert term["layer"] == "DLTB" and term["zone_layer"] == "CZKFBJ"
    assert row["convention"] and "城镇开发边界" in row["convention"]
    assert _row(demo["doc"], "cultivated_land")["convention"] is None


def test_terminal_output_fail_on_and_explain(demo: dict[str, Any]) -> None:
    runner = CliRunner()
    human = [a for a in demo["args"] if a != "--json"]
    out = runner.invoke(root, [*human, "--as-of", "2025-12-31", "--explain", "cultivated_land"])
    assert out.exit_code == 0, out.output
    assert "耕地保有量" in out.output and "预警" in out.output and "突破" in out.output
    assert "2025年度国土变更调查" in out.output
    failing = runner.invoke(root, [*demo["args"], "--as-of", "2025-12-31", "--fail-on", "red"])
    assert failing.exit_code == 1
    bad = runner.invoke(root, [*human, "--explain", "no_such_indicator"])
    assert bad.exit_code == 2 and "no_such_indicator" in bad.output
    english = runner.invoke(root, ["--lang", "en", *human, "--as-of", "2025-12-31"])
    assert "Cultivated land retained" in english.output and "breached" in english.output


def test_consolidation_ledger_and_projects(demo: dict[str, Any]) -> None:
    runner = CliRunner()
    out = runner.invoke(
        root,
        [
            "monitor",
            "consolidation",
            "-w",
            str(demo["workspace"]),
            "--as-of",
            "2025-12-31",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    planted = demo["history"]
    by_year: dict[str, dict[str, float]] = {}
    for c in planted["changes"]:
        row = by_year.setdefault(
            f"{c['year']}年度国土变更调查", {"occupation": 0.0, "supplement": 0.0}
        )
        row[c["kind"]] += c["area_m2"]
    assert [r["version"] for r in doc["ledger"]] == [
        f"{y}年度国土变更调查" for y in range(2022, 2026)
    ]
    for r in doc["ledger"]:
        want = by_year.get(r["version"], {"occupation": 0.0, "supplement": 0.0})
        assert r["occupied_m2"] == pytest.approx(want["occupation"], abs=0.01), r["version"]
        assert r["supplemented_m2"] == pytest.approx(want["supplement"], abs=0.01)
    ledger = planted["ledger"]
    assert doc["totals"]["balanced"] is False
    assert doc["totals"]["occupied_m2"] == pytest.approx(ledger["occupied_m2"], abs=0.05)
    projects = {p["xmdm"]: p for p in doc["projects"]}
    done = projects[ledger["completed_project"]]
    assert done["progress_pct"] == 100
    assert done["measured"]["new_farmland_m2"] == pytest.approx(
        ledger["completed_new_farmland_m2"], abs=0.05
    )
    assert done["warnings"] == []
    short = projects[ledger["shortfall_project"]]
    assert short["measured"]["new_farmland_m2"] == 0 and short["warnings"]
    assert len(doc["warnings"]) == 2 and "占多补少" in doc["warnings"][0]
    failing = runner.invoke(
        root, ["monitor", "consolidation", "-w", str(demo["workspace"]), "--fail-on-imbalance"]
    )
    assert failing.exit_code == 1 and "耕地占补平衡台账" in failing.output
    later = runner.invoke(
        root,
        [
            "monitor",
            "consolidation",
            "-w",
            str(demo["workspace"]),
            "--from",
            "2023-12-31",
            "--json",
        ],
    )
    rows = json.loads(later.stdout)["ledger"]
    assert [r["version"] for r in rows] == ["2024年度国土变更调查", "2025年度国土变更调查"]


def test_checkup_report_html_pdf_xlsx(
    demo: dict[str, Any], tmp_path: Path, cjk_font: object
) -> None:
    import re

    import openpyxl

    files = demo["files"]
    out = CliRunner().invoke(
        root,
        [
            "monitor",
            "report",
            "-w",
            str(demo["workspace"]),
            "--as-of",
            "2025-12-31",
            "--targets",
            str(files / "规划目标.xlsx"),
            "--statistics",
            str(files / "社会经济统计.xlsx"),
            "--html",
            str(tmp_path / "r.html"),
            "--pdf",
            str(tmp_path / "r.pdf"),
            "--xlsx",
            str(tmp_path / "r.xlsx"),
        ],
    )
    assert out.exit_code == 0, out.output
    planted = list(demo["history"]["expected"]["status_2025"].values())
    assert f"突破 {planted.count('red')}，预警 {planted.count('yellow')}" in out.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "规划实施监测与体检评估报告" in page and "耕地保有量" in page and "<svg" in page
    assert "占多补少" in page and "未批先建" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # self-contained
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["指标", "指标序列", "预警", "监测案件", "占补平衡", "土地整治"]
    rows = list(book["指标"].iter_rows(values_only=True))
    assert rows[0][1] == "指标" and any(r[1] == "耕地保有量" and r[7] == "预警" for r in rows)


def test_a_breached_indicator_is_said_to_be_breached(demo: dict[str, Any]) -> None:
    human = [a for a in demo["args"] if a != "--json"]
    out = CliRunner().invoke(root, [*human, "--as-of", "2025-12-31"])
    assert out.exit_code == 0, out.output
    red = next(line for line in out.output.splitlines() if "建设用地总面积" in line)
    assert "已突破" in red and "预计" not in red and "–" not in red  # not "2026.0–2026.0"
    yellow = next(line for line in out.output.splitlines() if "耕地保有量" in line)
    assert "已突破" not in yellow and re.search(r"\d{4} 年", yellow)


def test_the_report_cards_say_a_breach_is_breached(demo: dict[str, Any], tmp_path: Path) -> None:
    import html
    import re

    files = demo["files"]
    out = CliRunner().invoke(
        root,
        [
            "monitor",
            "report",
            "-w",
            str(demo["workspace"]),
            "--as-of",
            "2025-12-31",
            "--targets",
            str(files / "规划目标.xlsx"),
            "--statistics",
            str(files / "社会经济统计.xlsx"),
            "--html",
            str(tmp_path / "r.html"),
        ],
    )
    assert out.exit_code == 0, out.output
    page = html.unescape((tmp_path / "r.html").read_text(encoding="utf-8"))
    cards = {m[0]: m[1] for m in re.findall(r"<h3>(.*?)</h3>(.*?)<svg", page, re.S)}
    red, yellow = cards["建设用地总面积"], cards["耕地保有量"]
    assert '<div class="meta">已突破</div>' in red and "预计突破" not in red
    # a forecast is worded as a quarter or years, never as decimals (2027.8)
    assert re.search(
        r'<div class="meta">预计突破 (最早 )?(\d{4}–)?\d{4} 年(第[一二三四]季度)?</div>', yellow
    )


def test_targets_and_crossings_are_written_as_people_read_them(demo: dict[str, Any]) -> None:
    rows = demo["doc"]["indicators"]
    # a target's direction is ≥ or ≤ (direction_label, which the dashboard shows too)
    assert {r["direction"]: r["direction_label"] for r in rows if r["direction"]} == {
        ">=": "≥",
        "<=": "≤",
    }
    # a crossing is a year, years or a quarter, within the plan period, never a decimal year
    for r in rows:
        text = r["crossing_text"] or ""
        assert not re.search(r"\d{4}\.\d", text), (r["id"], text)
        for year in map(int, re.findall(r"\d{4}(?= 年|–)", text)):
            assert year <= (r["target_year"] or year), (r["id"], text)
    out = (
        CliRunner()
        .invoke(root, [a for a in demo["args"] if a != "--json"] + ["--as-of", "2025-12-31"])
        .output
    )
    assert "≥" in out and "≤" in out and ">=" not in out and "<=" not in out
    table = out.split("\n", 1)[1].split("序列：")[0]  # below the catalogue's id and version
    assert not re.search(r"\d{4}\.\d", table)

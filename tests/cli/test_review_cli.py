"""``guotu review`` on the demo county: every planted conflict with its exact area, nothing else.

The expected answers are the demo manifest's items (areas are ellipsoidal, from the planted
geometry); one review per kind runs once per module. The red-line answer is also recomputed
independently with geopandas.overlay after make_valid.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import guotu.cli  # noqa: F401  (registers every command)
from guotu.cli.base import root
from guotu.demo.build import build_demo
from guotu.demo.plans import MASTER_PLAN, SANQU_PLAN

PARCELS = 3000
SEED = 20261122
AREA_TOL_M2 = 0.01

#: Planted manifest item → (review kind, rule, severity). Items not listed give no finding.
PLANTED: dict[str, tuple[str, str, str]] = {
    "conflict.redline.inside.1": ("master-plan", "sanqu.redline.construction", "error"),
    "conflict.redline.straddle.1": ("master-plan", "sanqu.redline.construction", "error"),
    "compliant.redline.exempt.1": ("master-plan", "sanqu.redline.construction", "info"),
    "conflict.farmland.1": ("master-plan", "sanqu.farmland.construction", "error"),
    "compliant.farmland.exempt.1": ("master-plan", "sanqu.farmland.construction", "info"),
    "conflict.udb.outside.1": ("master-plan", "sanqu.udb.urban_outside", "error"),
    "conflict.udb.special_use.1": ("master-plan", "sanqu.udb.special_use_zone", "error"),
    "conflict.udb.flexible.1": ("master-plan", "sanqu.udb.flexible_zone", "warning"),
    "qc.unknown_code.1": ("master-plan", "data.code_valid", "error"),
    "qc.retired_code.1": ("master-plan", "data.code_valid", "error"),
    "conflict.transmission.use.1": ("detailed-plan", "transmission.use_compatibility", "error"),
    "conflict.unit_total.residential.1": ("detailed-plan", "transmission.unit_totals", "error"),
    "conflict.rjl_cap.1": ("detailed-plan", "transmission.indicator_caps", "error"),
    "conflict.highway.redline.1": ("special-plan", "special.route.redline", "error"),
    "conflict.project.rjl.1": ("project", "project.indicator_limits", "error"),
    "conflict.project.use.1": ("project", "project.use_matches_parcel", "error"),
    "conflict.project.udb_outside.1": ("project", "sanqu.udb.urban_outside", "error"),
    "conflict.indicator.allocation.1": ("indicators", "indicators.allocation", "error"),
    "conflict.indicator.map.1": ("indicators", "indicators.map_consistency", "error"),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("review_demo")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=PARCELS, seed=SEED)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    runner = CliRunner()
    reviews: dict[str, dict[str, Any]] = {}
    for kind in ("master-plan", "detailed-plan", "special-plan", "project", "indicators"):
        args = ["review", kind, "-w", str(result.workspace), "--json", "--fail-on", "never"]
        if kind == "indicators":
            args.insert(2, str(base / "files" / "规划指标表.xlsx"))
        out = runner.invoke(root, args)
        assert out.exit_code == 0, out.output
        reviews[kind] = json.loads(out.stdout)
    return {"base": base, "workspace": result.workspace, "manifest": manifest, "reviews": reviews}


def _item(demo: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for i in demo["manifest"]["items"] if i["id"] == item_id)


def _key(f: dict[str, Any]) -> tuple[str, str]:
    if f["features"]:
        return f["rule"], str(f["features"][0]["id_value"])
    return f["rule"], str(f["details"].get("indicator"))


def test_every_planted_conflict_is_found_with_its_exact_area(demo: dict[str, Any]) -> None:
    for item_id, (kind, rule, severity) in PLANTED.items():
        item = _item(demo, item_id)
        ident = item["features"][0]
        found = [f for f in demo["reviews"][kind]["findings"] if _key(f) == (rule, ident)]
        assert len(found) == 1, (item_id, found)
        f = found[0]
        assert f["severity"] == severity, item_id
        if item.get("area_m2") is not None and item["kind"] not in ("use_mismatch",):
            assert f["area_m2"] == pytest.approx(item["area_m2"], abs=AREA_TOL_M2), item_id
        if item.get("limit") is not None:
            assert float(f["limit"]) == pytest.approx(float(item["limit"]), abs=1e-6), item_id
        if item.get("other_features"):
            assert (
                f["zone"] is None
                or f["zone"]["id_value"] in item["other_features"]
                or item["kind"] in ("use_incompatible",)
            ), item_id


def test_nothing_else_is_reported(demo: dict[str, Any]) -> None:
    expected: dict[str, set[tuple[str, str]]] = {}
    for item_id, (kind, rule, _) in PLANTED.items():
        expected.setdefault(kind, set()).add((rule, _item(demo, item_id)["features"][0]))
    for kind, doc in demo["reviews"].items():
        got = {_key(f) for f in doc["findings"]}
        assert got == expected.get(kind, set()), kind
        assert doc["skipped"] == [], kind


def test_touching_and_sliver_give_no_finding(demo: dict[str, Any]) -> None:
    quiet = {
        _item(demo, i)["features"][0]
        for i in ("nonconflict.redline.touch.1", "conflict.redline.sliver.1")
    }
    named = {f["features"][0]["id_value"] for f in demo["reviews"]["master-plan"]["findings"]}
    assert not quiet & named


def test_route_finding_has_length_segments_and_detour(demo: dict[str, Any]) -> None:
    (f,) = demo["reviews"]["special-plan"]["findings"]
    item = _item(demo, "conflict.highway.redline.1")
    assert f["details"]["length_m"] == pytest.approx(item["length_m"], abs=1e-6)
    (seg,) = f["details"]["segments"]
    assert seg["length_m"] == pytest.approx(item["length_m"], abs=1e-6)
    alt = f["details"]["alternative"]
    assert alt["type"] == "LineString" and f["details"]["extra_length_m"] > 0
    assert "绕行" in f["suggestion"]


def test_json_stamp_and_keys(demo: dict[str, Any]) -> None:
    doc = demo["reviews"]["master-plan"]
    assert set(doc["stamp"]) >= {"rule_pack", "rule_pack_hash", "as_of", "data_versions"}
    assert doc["stamp"]["rule_pack_hash"].startswith("sha256:")
    assert {"STBHHX", "YJJBNT", "CZKFBJ", "GHYD"} <= set(doc["stamp"]["data_versions"])
    keys = {
        "rule",
        "severity",
        "features",
        "relation",
        "area_m2",
        "share_of_feature",
        "share_of_zone",
        "measured",
        "limit",
        "suggestion",
        "geometry",
    }
    for f in doc["findings"]:
        assert keys <= set(f)
    rules = [f["rule"] for f in doc["findings"]]
    assert rules == sorted(rules)


def test_red_line_areas_equal_geopandas_overlay(demo: dict[str, Any]) -> None:
    """An independent computation in a subprocess (GDAL must not open the workspace while a
    store of this process has it open): geopandas.overlay after make_valid."""
    script = f"""
import json, geopandas as gpd, shapely
from guotu.domain.geometry.area import ellipsoidal_area_m2
ws = {str(demo["workspace"])!r}
gh = gpd.read_file(ws, layer="GHYD"); hx = gpd.read_file(ws, layer="STBHHX")
gh = gh[gh.YDYHFLDM.str[:2].isin([f"{{i:02d}}" for i in range(6, 17)])].copy()
gh["geometry"] = shapely.make_valid(gh.geometry.values)
ov = gpd.overlay(gh[["BSM", "geometry"]], hx[["geometry"]], keep_geom_type=True)
ov["a"] = ellipsoidal_area_m2(ov.geometry.values, gh.crs)
out = ov.groupby("BSM").a.sum()
print(json.dumps({{k: v for k, v in out.items() if v > 1.0}}))
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    theirs = json.loads(res.stdout)
    ours: dict[str, float] = {}
    for f in demo["reviews"]["master-plan"]["findings"]:
        if f["rule"] == "sanqu.redline.construction":
            key = f["features"][0]["id_value"]
            ours[key] = ours.get(key, 0.0) + f["area_m2"]
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=AREA_TOL_M2)


def test_reports_and_exit_codes(demo: dict[str, Any], tmp_path: Path, cjk_font: object) -> None:
    runner = CliRunner()
    ws = str(demo["workspace"])
    out = runner.invoke(
        root,
        [
            "review",
            "master-plan",
            "-w",
            ws,
            "--html",
            str(tmp_path / "r.html"),
            "--pdf",
            str(tmp_path / "r.pdf"),
            "--xlsx",
            str(tmp_path / "r.xlsx"),
            "--gpkg",
            str(tmp_path / "r.gpkg"),
        ],
    )
    assert out.exit_code == 1, out.output  # errors found, --fail-on error
    assert "sanqu.redline.construction" in out.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert demo["reviews"]["master-plan"]["stamp"]["rule_pack_hash"] in html
    assert html.count("<svg") >= 10 and "生态保护红线" in html
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert len(book.sheetnames) >= 3
    import pyogrio

    info = pyogrio.read_info(tmp_path / "r.gpkg", layer="审查问题")
    n_geo = sum(1 for f in demo["reviews"]["master-plan"]["findings"] if f["geometry"])
    assert info["features"] == n_geo
    never = runner.invoke(root, ["review", "master-plan", "-w", ws, "--fail-on", "never"])
    assert never.exit_code == 0
    bad = runner.invoke(
        root, ["review", "master-plan", "-w", ws, "--rules", str(tmp_path / "missing.yaml")]
    )
    assert bad.exit_code == 2
    missing = runner.invoke(root, ["review", "detailed-plan", str(tmp_path / "none.shp"), "-w", ws])
    assert missing.exit_code == 2
    english = runner.invoke(root, ["review", "special-plan", "-w", ws, "--lang", "en", "--json"])
    assert "inside ecological red line" in json.loads(english.stdout)["findings"][0]["message"]


def test_reviewing_a_handover_file_matches_the_workspace_layer(demo: dict[str, Any]) -> None:
    files = demo["base"] / "files"
    runner = CliRunner()
    args = [
        "review",
        "detailed-plan",
        str(files / "详细规划地块.geojson"),
        "--table",
        str(files / "地块控制指标.xlsx"),
        "--key",
        "DKBH",
        "-w",
        str(demo["workspace"]),
        "--json",
        "--fail-on",
        "never",
    ]
    refused = runner.invoke(root, args)  # the file holds a parcel without geometry
    assert refused.exit_code == 2
    assert "没有几何图形" in refused.output and "--allow-empty-geometry" in refused.output
    out = runner.invoke(root, [*args, "--allow-empty-geometry"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    ours = {
        (_key(f), round(f["area_m2"] or 0, 0)) for f in demo["reviews"]["detailed-plan"]["findings"]
    }
    theirs = {(_key(f), round(f["area_m2"] or 0, 0)) for f in doc["findings"]}
    assert theirs == ours


def test_human_output_names_the_repair_and_the_sources_in_chinese(demo: dict[str, Any]) -> None:
    out = (
        CliRunner()
        .invoke(root, ["review", "master-plan", "-w", str(demo["workspace"]), "--fail-on", "never"])
        .output
    )
    # the demo's layers are in their plans' approved versions (guotu.demo.plans)
    assert (
        f"审查对象：{MASTER_PLAN.name} {MASTER_PLAN.label}（规划用地 GHYD），审查类型 总体规划"
        in out
    )
    assert (
        f"  {SANQU_PLAN.name} {SANQU_PLAN.label}（城镇开发边界 CZKFBJ）（已批复，"
        f"{SANQU_PLAN.valid_from.isoformat()} 起施行）"
    ) in out
    assert "已按 make_valid 修复后审查：GHYD" in out and "自相交（位置 " in out
    assert "Self-intersection" not in out and "approved" not in out
    assert "layer:" not in out and "workspace:" not in out
    english = (
        CliRunner()
        .invoke(
            root,
            [
                "review",
                "master-plan",
                "-w",
                str(demo["workspace"]),
                "--fail-on",
                "never",
                "--lang",
                "en",
            ],
        )
        .output
    )
    assert "Self-intersection" in english
    assert (
        f"Reviewed: {MASTER_PLAN.name} {MASTER_PLAN.label} (Master-plan land use GHYD) "
        "(master plan)"
    ) in english


def test_the_summary_line_says_what_each_number_counts(demo: dict[str, Any]) -> None:
    out = (
        CliRunner()
        .invoke(root, ["review", "master-plan", "-w", str(demo["workspace"]), "--fail-on", "never"])
        .output
    )
    doc = demo["reviews"]["master-plan"]
    s = doc["summary"]
    sev = s["by_severity"]
    line = (
        f"共 {s['total']} 项问题（涉及 {s['rules_with_findings']} 条规则，共运行 "
        f"{s['rules_run']} 条规则）：错误 {sev['error']}，警告 {sev['warning']}，"
        f"提示 {sev['info']}。"
    )
    assert line in out
    # the numbers add up: findings by severity, rules with findings among the rules run
    assert sum(sev.values()) == s["total"] == len(doc["findings"])
    assert s["rules_with_findings"] == len({f["rule"] for f in doc["findings"]}) < s["rules_run"]

"""Plans, versions, as-of reads, diff, history and log through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import CRS

from guotu.cli import root
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0, squares

GK39 = CRS.from_epsg(4527)
PLAN = "示范县总体规划"


def run(*args: str) -> object:
    res = CliRunner().invoke(root, list(args))
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """GHYD v2021 (4 squares) and its 2023 amendment: square 1 removed, square 2 re-coded
    0101 → 0701, square 4 halved, square 5 added (0901)."""
    ws = tmp_path / "ws.gpkg"
    v1 = tmp_path / "v1.gpkg"
    gpd.GeoDataFrame(
        {"BSM": ["S1", "S2", "S3", "S4"], "YDYHFLDM": ["0101", "0101", "0701", "1401"]},
        geometry=squares(4),
        crs=GK39,
    ).to_file(v1)
    sq = squares(5)
    half = shapely.box(X0 + 300, Y0, X0 + 350, Y0 + 100)
    v2 = tmp_path / "v2.gpkg"
    gpd.GeoDataFrame(
        {"BSM": ["S2", "S3", "S4", "S5"], "YDYHFLDM": ["0701", "0701", "1401", "0901"]},
        geometry=[sq[1], sq[2], half, sq[4]],
        crs=GK39,
    ).to_file(v2)
    w = str(ws)
    run("plan", "create", PLAN, "-w", w, "--level", "县", "--type", "总体规划", "--xzqdm", "370999")
    run(
        "import",
        str(v1),
        "--role",
        "规划用地",
        "-w",
        w,
        "--layer",
        "GHYD",
        "--plan",
        PLAN,
        "--version",
        "2021版",
        "--valid-from",
        "2021-05-01",
        "--approval-no",
        "鲁政字〔2021〕1号",
    )
    run(
        "import",
        str(v2),
        "--role",
        "规划用地",
        "-w",
        w,
        "--layer",
        "GHYD",
        "--plan",
        PLAN,
        "--version",
        "2023修改",
        "--status",
        "修改",
        "--valid-from",
        "2023-09-01",
        "--reason",
        "局部修改",
    )
    return ws


def test_amendment_stores_only_the_change(ws: Path) -> None:
    with GeoPackageStore.open(ws) as store:
        assert store._conn.execute('SELECT count(*) FROM "GHYD"').fetchone()[0] == 4 + 3


def test_as_of_reads_through_stats_and_layers(ws: Path) -> None:
    sq = ellipsoidal_area_m2(squares(5), GK39)
    old = json.loads(
        run(
            "stats",
            "-w",
            str(ws),
            "--layer",
            "GHYD",
            "--as-of",
            "2022-01-01",
            "--json",
            "--level",
            "1",
        ).output
    )
    new = json.loads(
        run("stats", "-w", str(ws), "--layer", "GHYD", "--json", "--level", "1").output
    )
    by_code = {r["code"]: r["area_m2"] for r in old["rows"]}
    assert by_code["01"] == pytest.approx(sq[0] + sq[1], abs=1e-6)
    by_code = {r["code"]: r["area_m2"] for r in new["rows"]}
    assert by_code["07"] == pytest.approx(sq[1] + sq[2], abs=1e-6)
    assert "01" not in by_code
    layers = json.loads(run("layers", "-w", str(ws), "--as-of", "2022-01-01", "--json").output)
    assert layers[0]["version"] == "2021版" and layers[0]["features"] == 4
    before = json.loads(run("layers", "-w", str(ws), "--as-of", "2020-01-01", "--json").output)
    assert before[0]["version"] is None and before[0]["features"] == 0


def test_diff_lists_changes_and_the_land_use_change_matrix(ws: Path, tmp_path: Path) -> None:
    xlsx, gpkg = tmp_path / "d.xlsx", tmp_path / "d.gpkg"
    data = json.loads(
        run(
            "diff",
            PLAN,
            "2021版",
            "2023修改",
            "-w",
            str(ws),
            "--json",
            "--xlsx",
            str(xlsx),
            "--gpkg",
            str(gpkg),
        ).output
    )
    (layer,) = data["layers"]
    assert (layer["added"], layer["removed"], layer["changed"]) == (1, 1, 2)
    kinds = {(c["kind"], c["key"]) for c in layer["changes"]}
    assert kinds == {("added", "S5"), ("removed", "S1"), ("changed", "S2"), ("changed", "S4")}
    s2 = next(c for c in layer["changes"] if c["key"] == "S2")
    assert s2["changed_fields"] == {"YDYHFLDM": ["0101", "0701"]} and not s2["geometry_changed"]
    s4 = next(c for c in layer["changes"] if c["key"] == "S4")
    assert s4["geometry_changed"] and s4["changed_fields"] == {}
    sq = ellipsoidal_area_m2(squares(5), GK39)
    halves = ellipsoidal_area_m2(
        [
            shapely.box(X0 + 300, Y0, X0 + 350, Y0 + 100),
            shapely.box(X0 + 350, Y0, X0 + 400, Y0 + 100),
        ],
        GK39,
    )
    matrix = {(m["from"], m["to"]): m["area_m2"] for m in layer["matrix"]}
    assert matrix == pytest.approx(
        {
            ("0101", "0701"): sq[1],
            ("0101", "∅"): sq[0],
            ("1401", "1401"): halves[0],
            ("1401", "∅"): halves[1],
            ("∅", "0901"): sq[4],
        },
        abs=1e-6,
    )
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["汇总", "变化要素", "用地变化矩阵"]
    assert {row[0] for row in pyogrio.list_layers(gpkg)} == {"GHYD_old", "GHYD_new"}


def test_diff_table_names_the_uses(ws: Path) -> None:
    out = run("diff", PLAN, "2021版", "2023修改", "-w", str(ws)).output
    assert "用地变化矩阵：GHYD（公顷，用地用海分类（2023））" in out
    assert "0101 水田" in out and "0701 城镇住宅用地" in out and "0901 商业用地" in out
    assert "（无）" in out
    english = run("diff", PLAN, "2021版", "2023修改", "-w", str(ws), "--lang", "en").output
    assert "0101 Paddy field" in english and "(none)" in english


def test_diff_in_the_other_direction_mirrors_it(ws: Path) -> None:
    data = json.loads(run("diff", PLAN, "2023修改", "2021版", "-w", str(ws), "--json").output)
    layer = data["layers"][0]
    assert (layer["added"], layer["removed"], layer["changed"]) == (1, 1, 2)
    assert {(m["from"], m["to"]) for m in layer["matrix"]} >= {("0701", "0101"), ("∅", "0101")}


def test_plan_show_history_and_log(ws: Path) -> None:
    shown = json.loads(run("plan", "show", PLAN, "-w", str(ws), "--json").output)
    assert [v["label"] for v in shown["versions"]] == ["2021版", "2023修改"]
    assert shown["in_force"] == "2023修改" and shown["layers"] == ["GHYD"]
    at_2022 = json.loads(
        run("plan", "show", PLAN, "-w", str(ws), "--as-of", "2022-06-01", "--json").output
    )
    assert at_2022["in_force"] == "2021版"
    hist = json.loads(run("history", "GHYD:S2", "-w", str(ws), "--json").output)
    assert [r["added_in"] for r in hist["revisions"]] == [f"{PLAN}/2021版", f"{PLAN}/2023修改"]
    assert hist["revisions"][0]["retired_in"] == [f"{PLAN}/2023修改"]
    log = json.loads(run("log", "-w", str(ws), "--json").output)
    actions = [e["action"] for e in log]
    assert actions.count("record_version") == 2 and actions.count("write_layer") == 2
    assert any(e["reason"] == "局部修改" for e in log)
    plan_hist = json.loads(run("history", PLAN, "-w", str(ws), "--json").output)
    assert len(plan_hist) >= 4
    human = run("plan", "show", PLAN, "-w", str(ws)).output
    assert "批复" in human and "修改" in human and "鲁政字〔2021〕1号" in human


def test_recording_the_same_version_twice_is_refused(ws: Path, tmp_path: Path) -> None:
    v3 = tmp_path / "v3.gpkg"
    gpd.GeoDataFrame({"BSM": ["S9"], "YDYHFLDM": ["0701"]}, geometry=squares(1), crs=GK39).to_file(
        v3
    )
    res = CliRunner().invoke(
        root,
        [
            "import",
            str(v3),
            "--role",
            "规划用地",
            "-w",
            str(ws),
            "--layer",
            "GHYD",
            "--plan",
            PLAN,
            "--version",
            "2023修改",
        ],
    )
    assert res.exit_code == 2 and "已登记的版本不能修改" in res.output


def test_same_edit_on_two_branches_is_no_change(ws: Path, tmp_path: Path) -> None:
    same = tmp_path / "same.gpkg"
    gpd.GeoDataFrame(
        {"BSM": ["S2", "S3", "S4", "S5"], "YDYHFLDM": ["0701", "0701", "1401", "0901"]},
        geometry=[*squares(5)[1:3], shapely.box(X0 + 300, Y0, X0 + 350, Y0 + 100), squares(5)[4]],
        crs=GK39,
    ).to_file(same)
    run(
        "import",
        str(same),
        "--role",
        "规划用地",
        "-w",
        str(ws),
        "--layer",
        "GHYD",
        "--plan",
        PLAN,
        "--version",
        "并行修改",
        "--status",
        "修改",
        "--parent-version",
        "2021版",
    )
    data = json.loads(run("diff", PLAN, "2023修改", "并行修改", "-w", str(ws), "--json").output)
    assert data["layers"] == [] or data["layers"][0]["changes"] == []


@pytest.mark.parametrize("target", ["workspace", "existing", "nofolder"])
def test_diff_outputs_never_clobber(ws: Path, tmp_path: Path, target: str) -> None:
    existing = tmp_path / "keep.gpkg"
    existing.write_bytes(b"precious")
    path = {"workspace": ws, "existing": existing, "nofolder": tmp_path / "no" / "d.gpkg"}[target]
    res = CliRunner().invoke(
        root, ["diff", PLAN, "2021版", "2023修改", "-w", str(ws), "--gpkg", str(path)]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert existing.read_bytes() == b"precious"
    with GeoPackageStore.open(ws) as store:  # the workspace is intact
        assert store.versions(PLAN)


def test_overlapping_features_are_not_counted_twice_in_the_matrix(tmp_path: Path) -> None:
    from guotu.services.diff import _code_matrix

    old = gpd.GeoDataFrame(
        {"YDYHFLDM": ["0701", "0701"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 100, Y0 + 100),
            shapely.box(X0 + 50, Y0, X0 + 150, Y0 + 100),
        ],
        crs=GK39,
    )
    new = gpd.GeoDataFrame(
        {"YDYHFLDM": ["0901"]}, geometry=[shapely.box(X0, Y0, X0 + 150, Y0 + 100)], crs=GK39
    )
    matrix = _code_matrix(old, new, "YDYHFLDM", GK39)
    whole = ellipsoidal_area_m2([shapely.box(X0, Y0, X0 + 150, Y0 + 100)], GK39)[0]
    assert matrix == pytest.approx({("0701", "0901"): whole}, abs=1e-6)


def test_plans_and_the_log_in_chinese(ws: Path) -> None:
    plans = run("plan", "list", "-w", str(ws)).output
    assert "县级" in plans and "总体规划" in plans and "county" not in plans
    assert "county" in run("plan", "list", "-w", str(ws), "--lang", "en").output
    log = run("log", "-w", str(ws)).output
    assert "新建规划" in log and "登记版本" in log and "写入图层" in log
    assert "write_layer" not in log and "record_version" not in log
    assert "write_layer" in run("log", "-w", str(ws), "--lang", "en").output


def test_a_version_without_its_plan_is_refused_in_chinese(ws: Path, tmp_path: Path) -> None:
    src = tmp_path / "z.gpkg"
    gpd.GeoDataFrame({"BSM": ["Z1"], "YDYHFLDM": ["0101"]}, geometry=squares(1), crs=GK39).to_file(
        src
    )
    res = CliRunner().invoke(
        root, ["import", str(src), "--role", "规划用地", "-w", str(ws), "--version", "2024修改"]
    )
    assert res.exit_code == 2
    assert "错误：--version 需要同时给出 --plan（该版本所属的规划）。" in res.output


def test_plans_without_a_plan_of_their_own_are_named_as_people_read_them(
    ws: Path, tmp_path: Path
) -> None:
    # a layer imported without --plan, and the targets table: implicit plans whose ids
    # (layer:XZQ, table:targets) are never what a person reads
    src = tmp_path / "xzq.gpkg"
    gpd.GeoDataFrame({"XZQDM": ["370999"]}, geometry=squares(1), crs=GK39).to_file(src)
    run("import", str(src), "--role", "行政区", "-w", str(ws), "--layer", "XZQ")
    human = run("plan", "list", "-w", str(ws)).output
    assert "XZQ（行政区/规划范围）数据" in human and PLAN in human and "layer:" not in human
    listed = {
        p["name"]: p["plan_label"]
        for p in json.loads(run("plan", "list", "-w", str(ws), "--json").output)
    }
    assert listed == {PLAN: PLAN, "layer:XZQ": "XZQ（行政区/规划范围）数据"}
    english = json.loads(run("plan", "list", "-w", str(ws), "--json", "--lang", "en").output)
    assert {p["plan_label"] for p in english} == {
        PLAN,
        "XZQ (Administrative or plan boundary) data",
    }
    # a plan is found by its id, its label or its layer's name
    for name in ("layer:XZQ", "XZQ（行政区/规划范围）数据", "XZQ"):
        shown = json.loads(run("plan", "show", name, "-w", str(ws), "--json").output)
        assert (shown["plan"], shown["plan_label"]) == ("layer:XZQ", "XZQ（行政区/规划范围）数据")
    missing = CliRunner().invoke(root, ["plan", "show", "无此规划", "-w", str(ws)])
    assert missing.exit_code == 2 and "现有规划：XZQ（行政区/规划范围）数据" in missing.output
    layers = run("layers", "-w", str(ws)).output
    assert "XZQ（行政区/规划范围）数据 v1" in layers and f"{PLAN} 2023修改" in layers
    rows = {r["name"]: r for r in json.loads(run("layers", "-w", str(ws), "--json").output)}
    assert (rows["XZQ"]["plan"], rows["XZQ"]["plan_version_label"]) == (
        "layer:XZQ",
        "XZQ（行政区/规划范围）数据 v1",
    )
    assert rows["GHYD"]["plan_version_label"] == f"{PLAN} 2023修改"


def test_plan_create_with_a_bad_option_creates_no_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "new.gpkg"
    for bad in (["--type", "没有这类"], ["--level", "省市"]):
        args = ["plan", "create", PLAN, "-w", str(ws), "--level", "县", "--type", "总体规划", *bad]
        res = CliRunner().invoke(root, args)
        assert res.exit_code == 2 and "中文名称或编号均可" in res.output, res.output
        assert not ws.exists()
    res = CliRunner().invoke(
        root,
        [
            "plan",
            "create",
            PLAN,
            "-w",
            str(ws),
            "--level",
            "县",
            "--type",
            "总体规划",
            "--parent-plan",
            "无此上级规划",
        ],
    )
    assert res.exit_code == 2 and not ws.exists()  # found only by the store: removed again

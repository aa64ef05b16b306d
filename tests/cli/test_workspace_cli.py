"""The machine-readable interface other tools rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.domain.core.roles import ROLES


def test_roles_json_has_stable_ids_and_chinese_names() -> None:
    res = CliRunner().invoke(root, ["roles", "--json"])
    data = json.loads(res.output)
    assert [r["id"] for r in data] == [r.id for r in ROLES]
    assert {
        "ecological_redline",
        "permanent_farmland",
        "urban_boundary",
        "planned_land_use",
        "detailed_parcel",
        "land_survey",
        "change_patch",
    } <= {r["id"] for r in data}
    assert next(r for r in data if r["id"] == "ecological_redline")["name_zh"] == "生态保护红线"


def test_layers_json_keys(tmp_path: Path, parcels_gdf) -> None:
    src = tmp_path / "p.gpkg"
    parcels_gdf.to_file(src)
    ws = str(tmp_path / "w.gpkg")
    CliRunner().invoke(root, ["import", str(src), "--role", "planned_land_use", "-w", ws])
    data = json.loads(CliRunner().invoke(root, ["layers", "-w", ws, "--json"]).output)
    assert data[0]["name"] == "planned_land_use"
    assert {"name", "role", "features", "geometry_type", "crs"} <= set(data[0])
    assert data[0]["features"] == 2 and data[0]["crs"] == "EPSG:4527"


def test_missing_workspace_is_exit_2_with_the_fix(tmp_path: Path) -> None:
    res = CliRunner().invoke(root, ["layers", "-w", str(tmp_path / "none.gpkg")])
    assert res.exit_code == 2 and "guotu demo" in res.output


def test_foreign_file_as_workspace_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.gpkg"
    bad.write_bytes(b"not a database at all" * 100)
    res = CliRunner().invoke(root, ["layers", "-w", str(bad)])
    assert res.exit_code == 2 and "x.gpkg 不是 guotu 工作空间" in res.output


def test_import_warnings_in_the_run_language(tmp_path: Path, parcels_gdf) -> None:
    import pandas as pd

    src, table = tmp_path / "p.gpkg", tmp_path / "t.csv"
    parcels_gdf.assign(DKBH=["A1", "A2"]).to_file(src)
    pd.DataFrame({"DKBH": ["A1"], "RJL": [1.5]}).to_csv(table, index=False)
    args = [
        "import",
        str(src),
        "--role",
        "planned_land_use",
        "--table",
        str(table),
        "--key",
        "DKBH",
    ]
    zh = CliRunner().invoke(root, [*args, "-w", str(tmp_path / "a.gpkg")])
    assert zh.exit_code == 0, zh.output
    assert "提示：2 个要素中有 1 个在 t.csv 中没有对应行（关联字段 DKBH）。" in zh.output
    en = CliRunner().invoke(root, [*args, "-w", str(tmp_path / "b.gpkg"), "--lang", "en"])
    assert "Note: 1 of 2 features have no row in t.csv (key DKBH)." in en.output
    doc = json.loads(
        CliRunner().invoke(root, [*args, "-w", str(tmp_path / "c.gpkg"), "--json"]).output
    )
    assert doc["warnings"] == ["1 of 2 features have no row in t.csv (key DKBH)."]
    assert doc["warnings_zh"] == ["2 个要素中有 1 个在 t.csv 中没有对应行（关联字段 DKBH）。"]


def test_layers_and_roles_name_geometries_in_chinese(tmp_path: Path, parcels_gdf) -> None:
    src = tmp_path / "p.gpkg"
    parcels_gdf.to_file(src)
    ws = str(tmp_path / "w.gpkg")
    CliRunner().invoke(root, ["import", str(src), "--role", "planned_land_use", "-w", ws])
    out = CliRunner().invoke(root, ["layers", "-w", ws]).output
    assert "多面" in out and "MULTIPOLYGON" not in out
    assert "MULTIPOLYGON" in CliRunner().invoke(root, ["layers", "-w", ws, "--lang", "en"]).output
    roles = CliRunner().invoke(root, ["roles"]).output
    assert "编号" in roles and "面或线" in roles and "polygon" not in roles


# -- a failed import creates no workspace ------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "said"),
    [
        # options checked before the workspace is opened
        (["--role", "规划用地地"], "规划用地地"),
        (["--role", "规划用地", "--crs", "EPSG:9999999"], "EPSG:9999999"),
        (["--role", "规划用地", "--workspace-crs", "不是坐标系"], "不是坐标系"),
        (["--role", "规划用地", "--layer", "../坏名"], "../坏名"),
        (["--role", "规划用地", "--map", "规划代码"], "规划代码"),
        (["--role", "规划用地", "--encoding", "不是编码"], "不是编码"),
        (["--role", "规划用地", "--table", "无此表.csv"], "无此表.csv"),
        # what only the data shows: the workspace created for it is removed again
        (["--role", "规划用地", "--source-layer", "无此图层"], "无此图层"),
        (["--role", "生态保护红线", "--map", "YDYHFLDM=不存在的字段"], "不存在的字段"),
    ],
)
def test_a_failed_import_leaves_no_workspace(
    tmp_path: Path, parcels_gdf, extra: list[str], said: str
) -> None:
    src = tmp_path / "p.gpkg"
    parcels_gdf.to_file(src)
    ws = tmp_path / "x.gpkg"
    res = CliRunner().invoke(root, ["import", str(src), "-w", str(ws), *extra])
    assert res.exit_code == 2, res.output
    assert said in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gpkg"]


def test_a_failed_import_into_an_existing_workspace_keeps_it(tmp_path: Path, parcels_gdf) -> None:
    src = tmp_path / "p.gpkg"
    parcels_gdf.to_file(src)
    ws = tmp_path / "w.gpkg"
    assert (
        CliRunner()
        .invoke(root, ["import", str(src), "--role", "规划用地", "-w", str(ws)])
        .exit_code
        == 0
    )
    res = CliRunner().invoke(
        root,
        [
            "import",
            str(src),
            "--role",
            "规划用地",
            "-w",
            str(ws),
            "--layer",
            "B",
            "--source-layer",
            "无此图层",
        ],
    )
    assert res.exit_code == 2 and ws.exists()
    assert [
        r["name"]
        for r in json.loads(CliRunner().invoke(root, ["layers", "-w", str(ws), "--json"]).output)
    ] == ["planned_land_use"]


def test_an_unknown_role_lists_chinese_names_first(tmp_path: Path, parcels_gdf) -> None:
    src = tmp_path / "p.gpkg"
    parcels_gdf.to_file(src)
    res = CliRunner().invoke(
        root, ["import", str(src), "--role", "规划用地地", "-w", str(tmp_path / "x.gpkg")]
    )
    assert "是否是“规划用地”（planned_land_use）？" in res.output
    assert "生态保护红线（ecological_redline）、永久基本农田（permanent_farmland）" in res.output
    assert "admin_boundary（" not in res.output
    english = CliRunner().invoke(
        root, ["import", str(src), "--role", "nope", "-w", str(tmp_path / "x.gpkg"), "--lang", "en"]
    )
    assert "ecological_redline (生态保护红线)" in english.output

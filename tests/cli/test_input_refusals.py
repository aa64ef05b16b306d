"""Issue 13: what the user typed is refused with exit 2 and a Chinese message naming it, never
guessed and never an internal error (exit 3): workspace locations, files that are not
workspaces, ambiguous layer roles, unknown features, missing or non-UTF-8 file names, a closed
stdout, and two imports racing to create one layer."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from guotu.cli import root
from guotu.demo.build import build_demo
from guotu.demo.county import MIN_PARCELS
from guotu.store.geopackage import GeoPackageStore

SEED = 20261122
#: "建设" in GBK: bytes that are not UTF-8, as a name copied from a Chinese Windows system.
GBK = "建设".encode("gbk")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("refusals")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=MIN_PARCELS, seed=SEED)
    return {"ws": Path(result.workspace), "files": result.out_dir}


@pytest.fixture
def ws(demo: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the demo workspace this test may change."""
    return Path(shutil.copy(demo["ws"], tmp_path / "ws.gpkg"))


def _run(args: list[str]) -> Result:
    return CliRunner().invoke(root, args)


def _refused(res: Result, *names: str) -> None:
    """Exit 2, a Chinese message naming each of ``names``, no traceback or internal error."""
    assert res.exit_code == 2, res.output
    assert "错误：" in res.output
    for name in names:
        assert name in res.output
    assert "Traceback" not in res.output and "内部错误" not in res.output


def _guotu(*args: str, env: dict[str, str] | None = None, **kw: Any) -> Any:
    return subprocess.Popen(
        [sys.executable, "-m", "guotu", *args], env={**os.environ, **(env or {})}, **kw
    )


# -- workspace locations (item 10) ---------------------------------------------------------
@pytest.mark.parametrize(
    "location",
    [
        "http://example.com/county",
        "https://example.com/county",
        "sqlite:///county.db",
        "mysql://user:secret@db/county",
        "file:///tmp/county.gpkg",
        "xxx://anything",
    ],
)
def test_other_url_schemes_are_refused_naming_the_accepted_ones(location: str) -> None:
    res = _run(["layers", "-w", location])
    scheme = location.split("://")[0]
    _refused(
        res,
        f"不支持 {scheme}:// 地址",
        "GeoPackage 文件路径",
        "postgresql://",
        "postgres://",
        "env:变量名",
    )
    assert "secret" not in res.output  # the rest of a URL may hold a password


def test_an_env_workspace_holding_another_scheme_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GUOTU_TEST_WS", "sqlite:///county.db")
    _refused(_run(["layers", "-w", "env:GUOTU_TEST_WS"]), "env:GUOTU_TEST_WS", "sqlite://")


def test_the_demo_refuses_another_scheme_before_making_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _refused(
        _run(["demo", "-w", "sqlite:///county.db", "--parcels", str(MIN_PARCELS)]), "sqlite://"
    )
    assert list(tmp_path.iterdir()) == []  # no folder "sqlite:" and no files


# -- files that are not workspaces (item 6b) -----------------------------------------------
def test_a_plain_sqlite_file_as_workspace_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "plain.gpkg"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a)")
    _refused(_run(["layers", "-w", str(path)]), "plain.gpkg 不是 guotu 工作空间", "不是 GeoPackage")


def test_a_workspace_without_gpkg_contents_is_exit_2(ws: Path) -> None:
    with sqlite3.connect(ws) as conn:
        conn.execute("DROP TABLE gpkg_contents")
    _refused(_run(["layers", "-w", str(ws)]), "不是有效的 GeoPackage", "gpkg_contents")


def test_a_geopackage_without_gpkg_contents_as_import_source_is_exit_2(
    demo: dict[str, Path], tmp_path: Path
) -> None:
    src = Path(shutil.copy(demo["files"] / "三区三线.gpkg", tmp_path / "sq.gpkg"))
    with sqlite3.connect(src) as conn:
        conn.execute("DROP TABLE gpkg_contents")
    res = _run(
        [
            "import",
            str(src),
            "--role",
            "ecological_redline",
            "--source-layer",
            "STBHHX",
            "-w",
            str(tmp_path / "new.gpkg"),
        ]
    )
    _refused(res, "sq.gpkg", "gpkg_contents")


# -- ambiguous roles (item 9a) --------------------------------------------------------------
def test_two_layers_of_the_reviewed_role_are_refused_listing_both(
    ws: Path, demo: dict[str, Path]
) -> None:
    assert (
        _run(
            [
                "import",
                str(demo["files"] / "建设项目.shp"),
                "--role",
                "construction_project",
                "--layer",
                "JSXM2",
                "-w",
                str(ws),
            ]
        ).exit_code
        == 0
    )
    _refused(_run(["review", "project", "-w", str(ws)]), "JSXM、JSXM2", "--layer")
    assert _run(["review", "project", "-w", str(ws), "--layer", "JSXM2"]).exit_code == 1


def test_two_layers_of_a_reference_role_are_refused_until_one_is_chosen(
    ws: Path, demo: dict[str, Path]
) -> None:
    assert (
        _run(
            [
                "import",
                str(demo["files"] / "三区三线.gpkg"),
                "--source-layer",
                "STBHHX",
                "--role",
                "ecological_redline",
                "--layer",
                "STBHHX2",
                "-w",
                str(ws),
            ]
        ).exit_code
        == 0
    )
    _refused(_run(["review", "master-plan", "-w", str(ws)]), "STBHHX、STBHHX2", "--use-layer")
    _refused(_run(["monitor", "cases", "-w", str(ws)]), "STBHHX、STBHHX2", "--use-layer")
    _refused(_run(["review", "master-plan", "-w", str(ws), "--use-layer", "NOPE"]), "'NOPE'")
    chosen = _run(["review", "master-plan", "-w", str(ws), "--use-layer", "STBHHX2", "--json"])
    assert chosen.exit_code == 1 and '"STBHHX2"' in chosen.output
    assert _run(["monitor", "cases", "-w", str(ws), "--use-layer", "STBHHX"]).exit_code == 0


# -- unknown features and plans (item 9c) ---------------------------------------------------
@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("GHYD:NOPE123", "图层 GHYD 中没有标识码 NOPE123 的要素"),
        ("NOPE:X", "没有图层 'NOPE'"),
        ("NOPLAN", "不存在规划 'NOPLAN'"),
    ],
)
def test_history_of_something_that_does_not_exist_is_exit_2(
    demo: dict[str, Path], target: str, named: str
) -> None:
    _refused(_run(["history", target, "-w", str(demo["ws"])]), named)


# -- missing and non-UTF-8 file names (items 9b, 6c) ----------------------------------------
def test_a_missing_file_is_said_before_a_layer_name_clash(ws: Path, tmp_path: Path) -> None:
    res = _run(
        [
            "import",
            str(tmp_path / "nosuch.shp"),
            "--role",
            "construction_project",
            "--layer",
            "JSXM",
            "-w",
            str(ws),
        ]
    )
    _refused(res, "nosuch.shp 不存在")
    assert "已有图层" not in res.output


def test_a_missing_file_leaves_no_new_workspace_behind(tmp_path: Path) -> None:
    _refused(
        _run(
            [
                "import",
                str(tmp_path / "nosuch.shp"),
                "--role",
                "construction_project",
                "-w",
                str(tmp_path / "new.gpkg"),
            ]
        ),
        "nosuch.shp 不存在",
    )
    assert not (tmp_path / "new.gpkg").exists()


def test_a_gbk_file_name_is_refused_with_its_readable_name(
    demo: dict[str, Path], tmp_path: Path
) -> None:
    for part in (demo["files"]).glob("建设项目.*"):
        shutil.copy(part, os.fsdecode(bytes(tmp_path) + b"/" + GBK + part.suffix.encode()))
    gbk_shp = os.fsdecode(bytes(tmp_path) + b"/" + GBK + b".shp")
    for args in (
        ["import", gbk_shp, "--role", "construction_project", "-w", str(tmp_path / "new.gpkg")],
        ["review", "project", gbk_shp, "-w", str(demo["ws"])],
    ):
        _refused(_run(args), "建设.shp", "UTF-8")


def test_a_gbk_workspace_name_is_refused(demo: dict[str, Path], tmp_path: Path) -> None:
    gbk_ws = os.fsdecode(bytes(tmp_path) + b"/" + GBK + b".gpkg")
    shutil.copy(demo["ws"], gbk_ws)
    _refused(_run(["layers", "-w", gbk_ws]), "建设.gpkg", "UTF-8")


def test_a_gbk_output_name_prints_on_a_strict_utf8_stdout(
    demo: dict[str, Path], tmp_path: Path
) -> None:
    html = os.fsdecode(bytes(tmp_path) + b"/" + GBK + b".html")
    proc = _guotu(
        "review",
        "project",
        "-w",
        str(demo["ws"]),
        "--html",
        html,
        env={"PYTHONIOENCODING": "utf-8:strict"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err.decode()  # findings: the review ran and wrote the report
    assert b"\\udcbd\\udca8" in out and b"Traceback" not in err
    assert os.path.exists(html)


def test_a_gbk_geopackage_output_name_is_exit_2(demo: dict[str, Path], tmp_path: Path) -> None:
    gpkg = os.fsdecode(bytes(tmp_path) + b"/" + GBK + b".gpkg")
    _refused(_run(["check", "-w", str(demo["ws"]), "--errors-gpkg", gpkg]), "建设.gpkg", "UTF-8")


# -- a closed stdout (item 6a) --------------------------------------------------------------
def test_a_reader_that_goes_away_ends_the_command_quietly(demo: dict[str, Path]) -> None:
    proc = _guotu(
        "stats",
        "-w",
        str(demo["ws"]),
        "--layer",
        "GHYD",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # `| head -0`: nothing will ever be read
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141  # 128 + SIGPIPE, as the shell reports for `cat` or `grep`
    assert err.decode() == ""


# -- two imports creating one new layer (item 6d) -------------------------------------------
def test_two_imports_racing_for_a_new_layer_one_wins_the_other_exits_2(
    ws: Path, demo: dict[str, Path]
) -> None:
    args = (
        "import",
        str(demo["files"] / "建设项目.shp"),
        "--role",
        "construction_project",
        "--layer",
        "NEWJSXM",
        "-w",
        str(ws),
    )
    procs = [_guotu(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = []
    for p in procs:
        _, err = p.communicate(timeout=120)
        results.append((p.returncode, err.decode()))
    assert sorted(rc for rc, _ in results) == [0, 2], results
    loser = next(err for rc, err in results if rc == 2)
    assert "已有图层 'NEWJSXM'" in loser
    assert "Traceback" not in loser and "内部错误" not in loser
    with GeoPackageStore.open(ws) as store:
        assert len(store.versions("layer:NEWJSXM")) == 1
        assert store.revision_count("NEWJSXM") == store.layer("NEWJSXM").features

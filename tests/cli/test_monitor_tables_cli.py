"""``guotu monitor targets|statistics import|list|show`` and where ``guotu monitor indicators``
takes its targets and statistics from (issue 14)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.store.geopackage import GeoPackageStore


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """An empty workspace (tables need no layer and no CRS)."""
    path = tmp_path / "ws.gpkg"
    GeoPackageStore.open(path, create=True).close()
    return path


def targets_file(
    tmp_path: Path, cultivated: Any = 17760.5, unit: str = "公顷", name: str = "规划目标.xlsx"
) -> Path:
    path = tmp_path / name
    pd.DataFrame(
        [
            {"指标名称": "耕地保有量", "单位": unit, "2025": cultivated, "2035": 17700},
            {"指标名称": "国土开发强度", "单位": "%", "2025": 9, "2035": 9.5},
        ]
    ).to_excel(path, index=False)
    return path


def stats_file(tmp_path: Path) -> Path:
    path = tmp_path / "社会经济统计.xlsx"
    pd.DataFrame({"年份": [2024, 2025], "城镇常住人口（万人）": [20.1, 20.5]}).to_excel(
        path, index=False
    )
    return path


def run(*args: Any) -> Any:
    return CliRunner().invoke(root, [str(a) for a in args])


def test_import_records_a_version_and_says_so(ws: Path, tmp_path: Path) -> None:
    out = run("monitor", "targets", "import", targets_file(tmp_path), "-w", ws)
    assert out.exit_code == 0, out.output
    # the table's implicit plan is named as people read it (规划目标表 v1), never table:targets
    assert "登记为规划目标表 v1（工作空间的规划目标表 targets）" in out.output
    assert "4 个数值" in out.output and "table:" not in out.output
    doc = json.loads(
        run("monitor", "statistics", "import", stats_file(tmp_path), "-w", ws, "--json").stdout
    )
    assert (doc["table"], doc["version"], doc["rows"], doc["source"]) == (
        "statistics",
        "v1",
        2,
        "社会经济统计.xlsx",
    )
    assert (doc["plan"], doc["plan_version_label"]) == ("table:statistics", "社会经济统计表 v1")
    assert doc["matched"] == ["urban_population"] and doc["unmatched"] == []


def test_a_second_import_is_a_new_version_and_list_shows_both(ws: Path, tmp_path: Path) -> None:
    run("monitor", "targets", "import", targets_file(tmp_path), "-w", ws)
    first = json.loads(run("monitor", "targets", "list", "-w", ws, "--json").stdout)
    time.sleep(1.1)  # --known-at takes whole seconds: the next version a second later
    out = run(
        "monitor",
        "targets",
        "import",
        targets_file(tmp_path, 17000, name="新.xlsx"),
        "-w",
        ws,
        "--reason",
        "规划修改",
    )
    assert out.exit_code == 0 and "规划目标表 v2" in out.output
    doc = json.loads(run("monitor", "targets", "list", "-w", ws, "--json").stdout)
    assert [v["version"] for v in doc["versions"]] == ["v1", "v2"]
    assert doc["in_force"] == doc["versions"][1]["version_id"]
    assert doc["versions"][1]["reason"] == "规划修改"
    recorded = doc["versions"][0]["recorded_at"].replace("T", " ")[:26]
    then = json.loads(
        run("monitor", "targets", "show", "-w", ws, "--json", "--known-at", _local(recorded)).stdout
    )
    assert then["values"]["cultivated_land"]["2025"] == 17760.5
    assert then["source"]["table"]["version"] == "v1" == first["versions"][0]["version"]
    assert [(v["plan"], v["plan_label"], v["plan_version_label"]) for v in doc["versions"]] == [
        ("table:targets", "规划目标表", "规划目标表 v1"),
        ("table:targets", "规划目标表", "规划目标表 v2"),
    ]
    human = run("monitor", "targets", "list", "-w", ws)
    assert "新.xlsx" in human.output and "✔" in human.output
    assert "规划目标表" in human.output and "table:targets" not in human.output


def _local(utc_text: str) -> str:
    """A UTC record time as ``--known-at`` takes it (local time, whole seconds, rounded up)."""
    from datetime import UTC, datetime, timedelta

    at = datetime.fromisoformat(utc_text).replace(tzinfo=UTC)
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def test_show_gives_the_values_matched_to_the_catalogue(ws: Path, tmp_path: Path) -> None:
    run(
        "monitor",
        "targets",
        "import",
        targets_file(tmp_path, unit="万亩", cultivated=26.6),
        "-w",
        ws,
    )
    out = run("monitor", "targets", "show", "-w", ws)
    assert out.exit_code == 0, out.output
    assert "耕地保有量" in out.output and "cultivated_land" in out.output
    assert "17,733.33" in out.output  # 26.6 万亩 in 公顷
    empty = run("monitor", "statistics", "show", "-w", ws)
    assert empty.exit_code == 0 and "社会经济统计：无" in empty.output
    assert "guotu monitor statistics import" in empty.output


@pytest.mark.parametrize(
    ("value", "unit", "needles"),
    [
        ("很多", "公顷", ("第 2 行（耕地保有量）", "“2025”列")),  # not a number: row and column
        (1.0, "万人", ("第 2 行", "单位")),  # a unit that does not convert: row and 单位
    ],
    ids=["not a number", "unit"],
)
def test_bad_rows_exit_2_naming_file_row_and_column(
    ws: Path, tmp_path: Path, value: Any, unit: str, needles: tuple[str, str]
) -> None:
    path = targets_file(tmp_path, cultivated=value, unit=unit)
    out = run("monitor", "targets", "import", path, "-w", ws)
    assert out.exit_code == 2
    assert str(path) in out.stderr and all(n in out.stderr for n in needles), out.stderr
    assert (
        json.loads(run("monitor", "targets", "list", "-w", ws, "--json").stdout)["versions"] == []
    )


def test_the_wrong_kind_of_table_is_refused(ws: Path, tmp_path: Path) -> None:
    out = run("monitor", "statistics", "import", targets_file(tmp_path), "-w", ws)
    assert (
        out.exit_code == 2 and "没有与指标目录 cn-core 的社会经济统计匹配且有数值的行" in out.stderr
    )
    swapped = run("monitor", "targets", "import", stats_with_water(tmp_path), "-w", ws)
    assert swapped.exit_code == 2 and "像是社会经济统计表" in swapped.stderr
    assert "guotu monitor statistics import" in swapped.stderr


def stats_with_water(tmp_path: Path) -> Path:
    path = tmp_path / "统计.csv"
    pd.DataFrame(
        {"年份": [2025], "常住人口（人）": [308000], "用水总量（亿立方米）": [1.84]}
    ).to_csv(path, index=False)
    return path


def test_import_into_a_plan_version_and_never_twice(ws: Path, tmp_path: Path) -> None:
    with GeoPackageStore.open(ws) as store:
        store.create_plan("示范县国土空间总体规划", level=PlanLevel.COUNTY, type=PlanType.MASTER)
    args = [
        "monitor",
        "targets",
        "import",
        targets_file(tmp_path),
        "-w",
        ws,
        "--plan",
        "示范县国土空间总体规划",
        "--version",
        "2021版",
        "--valid-from",
        "2021-05-01",
    ]
    assert run(*args).exit_code == 0
    again = run(*args)
    assert again.exit_code == 2 and "已包含表 targets" in again.stderr
    before = json.loads(
        run("monitor", "targets", "show", "-w", ws, "--as-of", "2020-12-31", "--json").stdout
    )
    assert before["values"] == {} and before["source"]["from"] == "none"


def test_indicators_say_which_targets_they_used(ws: Path, tmp_path: Path) -> None:
    path = targets_file(tmp_path)
    plain = run("monitor", "indicators", "-w", ws)
    assert plain.exit_code == 0, plain.output
    assert "规划目标：无" in plain.output
    run("monitor", "targets", "import", path, "-w", ws)
    own = run("monitor", "indicators", "-w", ws)
    assert "规划目标：工作空间的规划目标表（targets）的版本 v1（" in own.output
    assert "table:targets" not in own.output
    other = targets_file(tmp_path, 1.0, name="别的目标.xlsx")
    given = run("monitor", "indicators", "-w", ws, "--targets", other, "--json")
    inputs = json.loads(given.stdout)["inputs"]
    assert inputs["targets"]["from"] == "file" and inputs["targets"]["file"] == str(other)
    assert inputs["targets"]["overridden_table"]["version"] == "v1"
    english = run("--lang", "en", "monitor", "indicators", "-w", ws, "--targets", other)
    assert "Plan targets: file" in english.output and "instead of" in english.output

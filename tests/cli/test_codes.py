"""``guotu codes``: output shapes and exit codes."""

from __future__ import annotations

import json
import sys
import types

import pytest
from click.testing import CliRunner

try:
    from guotu.cli import root
except ImportError:  # guotu.cli.workspace not written yet: register `codes` on the bare root
    sys.modules.setdefault("guotu.cli.workspace", types.ModuleType("guotu.cli.workspace"))
    from guotu.cli import root


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(root, list(args))
    return result.exit_code, result.output


def test_plain_codes_json_lists_all_175_with_exact_keys() -> None:
    code, out = run("codes", "--json")
    rows = json.loads(out)
    assert code == 0
    assert len(rows) == 175
    assert all(set(r) == {"code", "name_zh", "name_en", "level", "parent"} for r in rows)


def test_list_level1_has_null_parents() -> None:
    code, out = run("codes", "list", "--level", "1", "--json")
    rows = json.loads(out)
    assert code == 0
    assert len(rows) == 24 and all(r["parent"] is None for r in rows)


def test_list_parent() -> None:
    _, out = run("codes", "list", "--parent", "0602", "--json")
    assert [r["code"] for r in json.loads(out)] == ["060201", "060202", "060203"]


def test_list_human_is_chinese_by_default() -> None:
    _, out = run("codes", "list", "--level", "1")
    assert "耕地" in out


def test_list_english() -> None:
    _, out = run("--lang", "en", "codes", "list", "--level", "1")
    assert "Cultivated land" in out and "耕地" not in out


def test_show_json() -> None:
    code, out = run("codes", "show", "0601", "--json")
    data = json.loads(out)
    assert code == 0
    assert [c["code"] for c in data["children"]] == ["060101", "060102"]
    assert data["construction_category"] == "建设用地"
    assert data["legal_three_major_class"] == "农用地"


def test_show_unknown_is_input_error() -> None:
    code, _ = run("codes", "show", "9999")
    assert code == 2


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (("0101",), 0),
        (("0101", "--name", "水田"), 0),
        (("0101", "--name", "旱地"), 1),
        (("9999",), 1),
        (("090301",), 1),
        (("abc",), 1),
    ],
)
def test_validate_exit_codes(args: tuple[str, ...], exit_code: int) -> None:
    assert run("codes", "validate", *args)[0] == exit_code


def test_validate_json() -> None:
    _, out = run("codes", "validate", "090301", "--json")
    data = json.loads(out)
    assert data["is_valid"] is False
    assert data["issues"][0]["kind"] == "retired"
    assert data["issues"][0]["suggestion"] == "0903"


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (("0101", "--from", "sandiao"), 0),
        (("08H2", "--from", "sandiao"), 1),  # no single target: a finding
        (("landuse=residential", "--from", "osm"), 0),
        (("090301", "--from", "ydyh2020", "--to", "ydyh2023"), 0),
        (("0999", "--from", "sandiao"), 2),  # not in the table
        (("landuse", "--from", "osm"), 2),  # malformed tag
        (("0101", "--from", "tdly"), 2),  # unknown scheme (click usage error)
    ],
)
def test_translate_exit_codes(args: tuple[str, ...], exit_code: int) -> None:
    assert run("codes", "translate", *args)[0] == exit_code


def test_translate_json() -> None:
    _, out = run("codes", "translate", "landuse=residential", "--from", "osm", "--json")
    data = json.loads(out)
    assert [t["code"] for t in data["targets"]] == ["0701"]
    assert data["is_verified"] is False
    assert data["note"].startswith("guotu convention, unverified")
    assert data["note_zh"].startswith("guotu 自定的对应，未经核实")


def test_translate_note_follows_the_language() -> None:
    _, zh = run("codes", "translate", "landuse=residential", "--from", "osm")
    assert "说明：guotu 自定的对应，未经核实：按城镇住宅假定；村庄住宅为 0703 农村宅基地" in zh
    assert "convention" not in zh
    _, en = run("codes", "translate", "landuse=residential", "--from", "osm", "--lang", "en")
    assert "Note: guotu convention, unverified: urban assumption" in en and "按城镇" not in en


# -- one label per code: codes validate/show, the 用地平衡表 and 质检 --------------------------
def test_a_code_carries_the_same_label_everywhere(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import geopandas as gpd

    from guotu.domain.codes.classification import ISSUE_LABELS, code_label
    from guotu.services.checking import load_check_list

    from ..conftest import squares

    src, ws = tmp_path / "g.gpkg", str(tmp_path / "ws.gpkg")
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0101", "090301", "0999"]}, geometry=squares(3), crs="EPSG:4527"
    ).to_file(src)
    assert run("import", str(src), "--role", "planned_land_use", "-w", ws)[0] == 0
    retired, unknown = code_label("090301")[0], code_label("0999")[0]
    assert (retired, unknown) == (ISSUE_LABELS["retired"][0], ISSUE_LABELS["unknown"][0])
    _, stats = run("stats", "-w", ws, "--layer", "planned_land_use")
    assert f"090301 │ {retired}" in stats and f"0999   │ {unknown}" in stats
    assert f"[{retired}]" in run("codes", "validate", "090301")[1]
    assert f"[{unknown}]" in run("codes", "validate", "0999")[1]
    assert retired in run("codes", "show", "090301")[1]
    _, check = run("check", "-w", ws)
    assert f"{retired} (code.retired)" in check
    names = {c.id: c.name_zh for c in load_check_list()}  # the check list names them the same
    assert names["code.retired"] == retired
    assert names["code.name_mismatch"] == ISSUE_LABELS["name_mismatch"][0]
    _, english = run("stats", "-w", ws, "--layer", "planned_land_use", "--lang", "en")
    assert code_label("090301")[1] in english


def test_codes_in_chinese_show_no_english_names() -> None:
    _, out = run("codes", "show", "0101")
    assert out.startswith("0101  水田\n") and "Paddy" not in out
    assert "Paddy field" in run("codes", "show", "0101", "--lang", "en")[1]
    _, translated = run("codes", "translate", "0101", "--from", "sandiao")
    assert "一对一" in translated and "one_to_one" not in translated

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

"""The safe YAML loader: hostile files are refused as bad input, fast and small, with a
Chinese message naming the file, the limit and its setting, and the fix."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from guotu.cli import root
from guotu.errors import ConfigError, GuotuError, InputError, RulePackError
from guotu.io import safe_yaml
from guotu.io.safe_yaml import load_yaml
from guotu.services.checking import load_check_list
from guotu.services.monitoring_inputs import load_catalogue
from guotu.settings import Settings

#: Nine levels of nine: 9**9 (387 million) strings once the aliases are expanded.
BILLION_LAUGHS = (
    "\n".join(
        ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        + [
            f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ]
    )
    + "\n"
)

SHIPPED = sorted(
    [
        *Path(safe_yaml.__file__).parents[1].glob("rulesets/*.yaml"),
        Path(safe_yaml.__file__).parents[1] / "data" / "checks.yaml",
        *Path(safe_yaml.__file__).parents[1].glob("catalogues/*.yaml"),
    ]
)


@pytest.fixture(params=["libyaml", "python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test on libyaml's parser and on PyYAML's pure-Python one (the fallback)."""
    if request.param == "libyaml":
        if safe_yaml.CParser is None:
            pytest.skip("PyYAML is built without libyaml")
        monkeypatch.setattr(safe_yaml, "_Loader", safe_yaml._CLoader)
    else:
        monkeypatch.setattr(safe_yaml, "_Loader", safe_yaml._PyLoader)
    yield request.param


def _refusal(
    path: Path | tuple[str, bytes | str],
    limits: Settings | None = None,
    error: type[InputError] = ConfigError,
) -> InputError:
    with pytest.raises(error) as info:
        load_yaml(
            path, what_zh="规则包", what_en="rule pack", error=error, limits=limits or Settings()
        )
    return info.value


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


# -- valid files load as yaml.safe_load reads them ----------------------------------------------
def test_small_file_loads_to_its_value(tmp_path: Path, loader: str) -> None:
    path = _write(
        tmp_path,
        "ok.yaml",
        "id: cn-base\nversion: '1'\ncodes: ['0701', 0702]\n"
        "rules:\n  - {id: a.b, max: 1.5, on: yes}\n",
    )
    assert load_yaml(path, what_zh="规则包", what_en="rule pack") == {
        "id": "cn-base",
        "version": "1",
        "codes": ["0701", 0o702],  # YAML 1.1, as safe_load:
        "rules": [{"id": "a.b", "max": 1.5, True: True}],
    }  # 0702 octal, on/yes true


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xef\xbb\xbfa: 1\n", {"a": 1}),  # a UTF-8 byte-order mark is fine
        (b"", None),  # empty, as yaml.safe_load
        (b"# only a comment\n", None),
        ("名称: 耕地\n".encode(), {"名称": "耕地"}),
    ],
)
def test_package_data_loads_from_bytes(content: bytes, expected: Any, loader: str) -> None:
    assert load_yaml(("pkg.yaml", content), what_zh="规则包", what_en="rule pack") == expected


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_yaml_loads_under_the_caps_as_safe_load_reads_it(path: Path, loader: str) -> None:
    ours = load_yaml(path, what_zh="文件", what_en="file", limits=Settings())
    assert repr(ours) == repr(yaml.safe_load(path.read_text(encoding="utf-8")))


# -- aliases and anchors ------------------------------------------------------------------------
def test_billion_laughs_is_refused_fast(tmp_path: Path, loader: str) -> None:
    path = _write(tmp_path, "lol.yaml", BILLION_LAUGHS)
    start = time.perf_counter()
    err = _refusal(path)
    assert time.perf_counter() - start < 2
    assert err.message_zh is not None
    assert "lol.yaml" in err.message_zh and "第 1 行" in err.message_zh
    assert "锚点 &a" in err.message_zh and err.exit_code == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_billion_laughs_allocates_nothing_big(tmp_path: Path) -> None:
    path = _write(tmp_path, "lol.yaml", BILLION_LAUGHS)
    script = textwrap.dedent(f"""
        import resource
        from guotu.errors import ConfigError
        from guotu.io.safe_yaml import load_yaml
        from guotu.settings import Settings

        status = open("/proc/self/status").read()
        vm_kb = int(next(x for x in status.splitlines() if x.startswith("VmSize")).split()[1])
        cap = vm_kb * 1024 + 128 * 1024 * 1024  # what is mapped now, plus 128 MB
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        try:
            load_yaml({str(path)!r}, what_zh="规则包", what_en="rule pack", limits=Settings())
        except ConfigError:
            print("refused")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        ("a: &keep 1\nb: 2\n", 1, "锚点 &keep"),  # an anchor nobody refers to
        ("a: 1\nb:\n  - *nowhere\n", 3, "别名 *nowhere"),  # an alias without its anchor
    ],
)
def test_anchors_and_aliases_are_refused_with_their_line(
    content: str, line: int, needle: str, loader: str
) -> None:
    err = _refusal(("a.yaml", content))
    assert err.message_zh is not None
    assert f"第 {line} 行" in err.message_zh and needle in err.message_zh
    assert err.fix_zh is not None and "&" in err.fix_zh


def test_merge_key_is_refused(loader: str) -> None:
    err = _refusal(("m.yaml", "a:\n  <<: {x: 1}\n  y: 2\n"))
    assert err.message_zh is not None and "第 2 行" in err.message_zh
    assert "合并键" in err.message_zh


# -- size, depth and node caps ------------------------------------------------------------------
def test_fifty_megabyte_string_is_refused_by_size_before_parsing(
    tmp_path: Path, loader: str
) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as f:
        f.write(b'a: "')
        f.write(b"x" * 50_000_000)
        f.write(b'"\n')
    start = time.perf_counter()
    err = _refusal(path)
    assert time.perf_counter() - start < 2
    assert err.message_zh is not None and "big.yaml" in err.message_zh
    assert "2048 KB" in err.message_zh and "max_yaml_kb" in err.message_zh
    assert "GUOTU_MAX_YAML_KB" in err.message_zh


def test_size_cap_applies_to_package_data_too() -> None:
    err = _refusal(("pkg.yaml", b"a: 1\n" * 400), limits=Settings(max_yaml_kb=1))
    assert err.message_zh is not None and "超过上限 1 KB" in err.message_zh


def test_size_cap_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUOTU_MAX_YAML_KB", "1")
    path = _write(tmp_path, "two.yaml", "a: 1\n" * 400)
    with pytest.raises(ConfigError, match="over the limit of 1 KB"):
        load_yaml(path, what_zh="规则包", what_en="rule pack")


@pytest.mark.parametrize(
    "content",
    [
        "a: " + "[" * 10_000 + "]" * 10_000 + "\n",  # flow style, 10,000 deep
        "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n",  # block style
    ],
    ids=["flow-10000", "block-100"],
)
def test_deep_nesting_is_refused_without_recursion_error(content: str, loader: str) -> None:
    start = time.perf_counter()
    err = _refusal(("deep.yaml", content))
    assert time.perf_counter() - start < 2
    assert err.message_zh is not None
    assert "嵌套超过 64 层" in err.message_zh and "max_yaml_depth" in err.message_zh


def test_composing_uses_no_recursion() -> None:
    """Far beyond the interpreter's recursion limit once the cap is raised (pure-Python
    parser: libyaml has its own cap of 1000)."""
    depth = sys.getrecursionlimit() + 100  # a recursive composer needs a frame or more a level
    loader = safe_yaml._PyLoader("[" * depth + "]" * depth, depth + 1, 10 * depth)
    value = loader.get_single_data()
    seen = 0
    while value:
        value, seen = value[0], seen + 1
    assert seen == depth - 1


def test_node_cap_is_refused_while_composing(loader: str) -> None:
    err = _refusal(
        ("n.yaml", "[" + ", ".join(["1"] * 50) + "]\n"), limits=Settings(max_yaml_nodes=10)
    )
    assert err.message_zh is not None
    assert "超过 10 个" in err.message_zh and "max_yaml_nodes" in err.message_zh


# -- encodings ----------------------------------------------------------------------------------
def test_gbk_file_is_refused_with_the_gbk_hint(tmp_path: Path, loader: str) -> None:
    path = _write(tmp_path, "gbk.yaml", "规则: 生态保护红线\n名称: 耕地保有量\n".encode("gbk"))
    err = _refusal(path)
    assert err.message_zh is not None and err.fix_zh is not None
    assert "gbk.yaml" in err.message_zh and "不是 UTF-8 编码" in err.message_zh
    assert "GBK" in err.message_zh and "UTF-8" in err.fix_zh


def test_invalid_utf8_is_refused_with_its_line(loader: str) -> None:
    err = _refusal(("bad.yaml", b"a: 1\nb: caf\xe9\n"))
    assert err.message_zh is not None
    assert "不是 UTF-8 编码" in err.message_zh and "第 2 行" in err.message_zh
    assert "GBK" not in err.message_zh


# -- keys and syntax ----------------------------------------------------------------------------
def test_duplicate_key_is_refused_naming_key_and_lines(loader: str) -> None:
    err = _refusal(("dup.yaml", "rules:\n  - id: a.b\n    max: 1\n    max: 2\n"))
    assert err.message_zh is not None
    assert "“max”" in err.message_zh and "第 4 行" in err.message_zh
    assert "第 3 行" in err.message_zh


def test_syntax_error_gives_line_and_column(loader: str) -> None:
    err = _refusal(("s.yaml", "a: [1, 2\nb: 3\n"))
    assert err.message_zh is not None
    assert "不是有效的 YAML" in err.message_zh and "第 2 行第" in err.message_zh


@pytest.mark.parametrize(
    "content",
    [
        "a: 2020-13-45\n",  # a 13th month
        "a: " + "1" * 5_000 + "\n",  # beyond Python's int-parsing limit
        "a: !!python/object/apply:os.system [echo]\n",  # not a safe tag
    ],
)
def test_values_python_cannot_hold_are_input_errors(content: str, loader: str) -> None:
    err = _refusal(("v.yaml", content))
    assert err.message_zh is not None and "第 1 行第 4 列" in err.message_zh


def test_missing_file_is_named(tmp_path: Path) -> None:
    err = _refusal(tmp_path / "none.yaml", error=RulePackError)
    assert err.message_zh is not None and "none.yaml" in err.message_zh
    assert "不存在" in err.message_zh


# -- every YAML guotu reads goes through it ------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("lol.yaml", BILLION_LAUGHS),
        ("gbk.yaml", "pack: 规则\n".encode("gbk")),
        ("deep.yaml", "a: " + "[" * 10_000 + "]" * 10_000 + "\n"),
        ("dup.yaml", "schema_version: 1\nid: x\nid: y\n"),
    ],
)
def test_rules_validate_refuses_a_hostile_pack(
    tmp_path: Path, name: str, content: str | bytes
) -> None:
    path = _write(tmp_path, name, content)
    res = CliRunner().invoke(root, ["rules", "validate", str(path)])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("错误：") and name in res.output
    assert "解决办法" in res.output
    assert "Traceback" not in res.output and "内部错误" not in res.output


def test_check_list_refuses_billion_laughs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_check_list(_write(tmp_path, "checks.yaml", BILLION_LAUGHS))
    assert info.value.exit_code == 2 and "checks.yaml" in info.value.render()


def test_indicator_catalogue_refuses_billion_laughs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_catalogue(_write(tmp_path, "catalogue.yaml", BILLION_LAUGHS))
    assert info.value.exit_code == 2 and "catalogue.yaml" in info.value.render()


def test_refusals_are_guotu_input_errors() -> None:
    err = _refusal(("a.yaml", "a: &x 1\n"), error=RulePackError)
    assert isinstance(err, GuotuError) and err.code == "rule-pack-error" and err.file == "a.yaml"

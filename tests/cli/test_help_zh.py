"""Help and click's own words in the run's language: the Chinese catalogue
(:mod:`guotu.cli.help_zh`) covers every command and option of the click tree and holds nothing
stale; ``--lang`` (anywhere on the line) and ``GUOTU_LANG`` choose the language."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner, Result

from guotu.cli import help_zh, root
from guotu.cli.help_format import display_width
from guotu.cli.help_zh import option_key
from guotu.cli.language import run_language


def _tree(cmd: click.Command, path: str = "guotu") -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _tree(sub, f"{path} {name}")


def _options(cmd: click.Command) -> list[click.Option]:
    helper = cmd.get_help_option(click.Context(cmd))
    return [p for p in [*cmd.params, helper] if isinstance(p, click.Option)]


TREE = list(_tree(root))
OPTIONS = [(path, option_key(opt), opt) for path, cmd in TREE for opt in _options(cmd)]


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(
        root, list(args), prog_name="guotu", env={"GUOTU_LANG": None, **(env or {})}
    )


# -- the catalogue ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", [p for p, _ in TREE])
def test_every_command_has_chinese_help(path: str) -> None:
    assert help_zh.command_help(path), f"help_zh.COMMANDS has no entry for {path!r}"


@pytest.mark.parametrize(
    ("path", "option"), [(p, o) for p, o, _ in OPTIONS], ids=[f"{p} {o}" for p, o, _ in OPTIONS]
)
def test_every_option_has_chinese_help(path: str, option: str) -> None:
    assert help_zh.option_help(path, option), (
        f"help_zh has no entry for {option} of {path!r} (OPTIONS[{path + ' ' + option!r}] or "
        f"SHARED_OPTIONS[{option!r}])"
    )


def test_no_command_entry_is_stale() -> None:
    assert set(help_zh.COMMANDS) <= {p for p, _ in TREE}


def test_no_option_entry_is_stale() -> None:
    existing = {f"{p} {o}" for p, o, _ in OPTIONS}
    assert set(help_zh.OPTIONS) <= existing, set(help_zh.OPTIONS) - existing
    used = {o for p, o, _ in OPTIONS if f"{p} {o}" not in help_zh.OPTIONS}
    assert set(help_zh.SHARED_OPTIONS) <= used, set(help_zh.SHARED_OPTIONS) - used


def test_a_shared_chinese_text_stands_for_one_english_text() -> None:
    # A shared entry may only serve options that say the same thing in English; one that
    # means something else on a command needs that command's own entry.
    english: dict[str, set[str]] = defaultdict(set)
    for path, option, opt in OPTIONS:
        if f"{path} {option}" not in help_zh.OPTIONS:
            english[option].add(opt.help or "")
    assert {o: h for o, h in english.items() if len(h) > 1} == {}


def _changed(where: str, key: str, entry: help_zh.Entry, english: str) -> str | None:
    """Why ``entry`` is out of date with ``english``, or ``None``."""
    now = help_zh.fingerprint(english)
    if entry[0] == now:
        return None
    return (
        f"The English help of {key!r} changed since its Chinese was written: bring "
        f"help_zh.{where}[{key!r}] up to date with it, then set its fingerprint to {now!r} "
        f"(was {entry[0]!r}).\n  English now: {' '.join(english.split())}"
    )


@pytest.mark.parametrize("path", [p for p, _ in TREE])
def test_command_chinese_matches_its_english(path: str) -> None:
    cmd = dict(TREE)[path]
    problem = _changed("COMMANDS", path, help_zh.COMMANDS[path], cmd.help or "")
    assert problem is None, problem


@pytest.mark.parametrize(
    ("path", "option"), [(p, o) for p, o, _ in OPTIONS], ids=[f"{p} {o}" for p, o, _ in OPTIONS]
)
def test_option_chinese_matches_its_english(path: str, option: str) -> None:
    opt = next(o for p, k, o in OPTIONS if (p, k) == (path, option))
    key = f"{path} {option}"
    if key in help_zh.OPTIONS:
        problem = _changed("OPTIONS", key, help_zh.OPTIONS[key], opt.help or "")
    else:
        problem = _changed("SHARED_OPTIONS", option, help_zh.SHARED_OPTIONS[option], opt.help or "")
    assert problem is None, problem


def test_a_changed_english_text_is_caught() -> None:
    entry = help_zh.COMMANDS["guotu plan list"]
    problem = _changed("COMMANDS", "guotu plan list", entry, "List plans and their drafts.")
    assert problem is not None and "set its fingerprint to" in problem
    english = dict(TREE)["guotu plan list"].help or ""
    rewrapped = english.replace(" ", "\n    ", 1)  # a docstring wrapped anew means the same
    assert _changed("COMMANDS", "guotu plan list", entry, rewrapped) is None


def test_chinese_help_has_no_english_sentence() -> None:
    texts = [
        text
        for _, text in (
            *help_zh.COMMANDS.values(),
            *help_zh.OPTIONS.values(),
            *help_zh.SHARED_OPTIONS.values(),
        )
    ]
    assert not [t for t in texts if " the " in t or " of " in t or "Examples:" in t]


# -- placeholders (FILE, LOCATION, COLUMN=FIELD …) -------------------------------------------
#: An English placeholder: a word of capitals (FILE, RULE_ID, COLUMN=FIELD); choices ({a|b},
#: [zh|en]) and the coordinates X,Y are not placeholders to translate.
_ENGLISH_PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]+\b")


def _placeholders_shown(out: str) -> list[str]:
    """The usage line's pieces and the option column's value placeholders of a help page."""
    usage = out.split("\n\n", 1)[0].removeprefix("用法：")
    options = out.split("选项：", 1)[1].split("命令：", 1)[0]
    specs = [
        re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for line in options.splitlines()
        if line.startswith("  -")
    ]
    shown = [usage, *specs]
    return [re.sub(r"\{[^}]*\}|\[zh\|en\]|X,Y", " ", text) for text in shown]


@pytest.mark.parametrize("path", [p for p, _ in TREE])
def test_chinese_help_shows_chinese_placeholders(path: str) -> None:
    out = run(*path.split()[1:], "--help").output
    english = [w for text in _placeholders_shown(out) for w in _ENGLISH_PLACEHOLDER.findall(text)]
    assert english == [], f"{path}: English placeholders {english} in\n{out}"


def _english_placeholders(cmd: click.Command) -> set[str]:
    ctx = click.Context(cmd)
    out = set()
    for p in cmd.params:
        text = p.make_metavar(ctx) if isinstance(p, click.Argument) else (p.metavar or "")
        out |= set(_ENGLISH_PLACEHOLDER.findall(text)) - {"X", "Y"}
    return out


@pytest.mark.parametrize("path", [p for p, _ in TREE])
def test_chinese_help_texts_name_the_chinese_placeholders(path: str) -> None:
    # a text refers to a value by its placeholder as the help shows it (文件, not FILE)
    cmd = dict(TREE)[path]
    texts = [
        help_zh.command_help(path) or "",
        *(help_zh.option_help(path, option_key(o)) or "" for o in _options(cmd)),
    ]
    named = {w for t in texts for w in _ENGLISH_PLACEHOLDER.findall(t)}
    assert not named & _english_placeholders(cmd), (path, named & _english_placeholders(cmd))


def test_no_placeholder_entry_is_stale() -> None:
    used: set[str] = set()
    for path, cmd in TREE:
        ctx = click.Context(cmd)
        for p in cmd.params:
            if isinstance(p, click.Argument):
                word = p.make_metavar(ctx).strip("[].")
                used |= {word, f"{path} {word}"}
            elif p.metavar:
                used |= {p.metavar, f"{path} {option_key(p)}"}
    assert set(help_zh.PLACEHOLDERS) <= used, set(help_zh.PLACEHOLDERS) - used


# -- which language ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, "zh"),
        (["check", "--lang", "en"], {}, "en"),
        (["--lang=en", "check"], {}, "en"),
        (["plan", "list", "--help", "--lang", "en"], {}, "en"),  # after the eager --help
        ([], {"GUOTU_LANG": "en"}, "en"),
        (["roles", "--lang", "zh"], {"GUOTU_LANG": "en"}, "zh"),  # the command line wins
        (["--lang", "en", "roles", "--lang", "zh"], {}, "zh"),  # the last one wins
        (["import", "a.shp", "--reason", "--", "--lang", "en"], {}, "zh"),  # after --: an argument
        ([], {"GUOTU_LANG": "fr"}, "zh"),  # not a language: click refuses it (in Chinese)
    ],
)
def test_run_language(args: list[str], env: dict[str, str], expected: str) -> None:
    assert run_language(args, env) == expected


def test_help_is_chinese_by_default() -> None:
    out = run("check", "--help").output
    assert out.startswith("用法：guotu check [选项]")
    assert "检查工作空间的图层" in out and "选项：" in out and "显示本帮助并退出。" in out
    assert "[默认 error]" in out and "[必填]" in out
    assert "Usage" not in out and "Show this message" not in out


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["check", "--help", "--lang", "en"], {}),
        (["--lang", "en", "check", "--help"], {}),
        (["check", "--help"], {"GUOTU_LANG": "en"}),
    ],
)
def test_help_is_english_on_request(args: list[str], env: dict[str, str]) -> None:
    out = run(*args, env=env).output
    assert out.startswith("Usage: guotu check [OPTIONS]")
    assert "Check the workspace's layers" in out and "Show this message and exit." in out
    assert "选项" not in out


def test_group_help_lists_commands_with_their_chinese_short_help() -> None:
    out = run("--help").output
    assert "命令：" in out and "  check    检查工作空间的图层" in out
    assert "  plan     规划及其版本" in out


def test_chinese_help_fits_the_terminal_width() -> None:
    # Chinese characters take two columns: the help is wrapped by display width (the examples
    # of a \b block are kept as written).
    out = run("import", "--help").output
    options = out.split("选项：", 1)[1]
    assert max(display_width(line) for line in options.splitlines()) <= 80


def test_guotu_lang_sets_the_output_language() -> None:
    assert "Required" in run("roles", env={"GUOTU_LANG": "en"}).output
    assert "必填字段" in run("roles").output
    assert "必填字段" in run("roles", "--lang", "zh", env={"GUOTU_LANG": "en"}).output


def test_every_command_accepts_lang_after_the_subcommand() -> None:
    for path, cmd in TREE:
        assert any(p.name == "lang" for p in cmd.params), path
    assert run("serve", "--help", "--lang", "en").output.startswith("Usage: guotu serve")


# -- click's errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (
            ["plan", "list", "--colour"],
            "错误：没有选项 --colour。",
            "Error: No such option '--colour'.",
        ),
        (["diff", "-w", "x.gpkg"], "错误：缺少参数 规划。", "Error: Missing argument 'PLAN'."),
        (["stats", "-w", "x.gpkg"], "错误：缺少选项 --layer。", "Error: Missing option '--layer'."),
        (
            ["check", "-w", "x.gpkg", "--fail-on", "严重"],
            "错误：选项 --fail-on 的值无效：严重 不是可选值（error、warning、info、never）之一。",
            "Error: Invalid value for '--fail-on': '严重' is not one of",
        ),
        (
            ["log", "-w", "x.gpkg", "--limit", "五"],
            "错误：选项 --limit 的值无效：五 不是整数。",
            "is not a valid integer",
        ),
        (
            ["layers", "-w", "x.gpkg", "--as-of", "2025/1/1"],
            "2025/1/1 不是有效的日期，应写成如 2025-12-31 的形式。",
            "does not match the format",
        ),
        (
            ["codes", "list", "--level", "7"],
            "错误：选项 --level 的值无效：7 不在范围 1<=x<=3 内。",
            "7 is not in the range 1<=x<=3.",
        ),
        (
            ["roles", "多余"],
            "错误：多余的参数：多余。",
            "Error: Got unexpected extra argument (多余)",
        ),
        (
            ["check", "-w", "x.gpkg", "--layer"],
            "错误：选项 --layer 需要一个值。",
            "Error: Option '--layer' requires an argument.",
        ),
        (["plna"], "错误：没有命令 plna。是否要用 guotu plan？", "Error: No such command 'plna'."),
        (
            ["query", "-w", "x.gpkg", "--polygon", "无此.geojson"],
            "文件 无此.geojson 不存在。",
            "does not exist",
        ),
    ],
)
def test_click_errors_are_in_the_run_language(args: list[str], zh: str, en: str) -> None:
    chinese, english = run(*args), run(*args, env={"GUOTU_LANG": "en"})
    assert chinese.exit_code == english.exit_code == 2
    assert zh in chinese.output and "Usage" not in chinese.output, chinese.output
    assert en in english.output, english.output
    # the usage line and the hint where click gives them (not for an option's missing value)
    assert chinese.output.startswith("用法：guotu") == english.output.startswith("Usage: guotu")
    assert ("请运行 guotu" in chinese.output) == ("Try 'guotu" in english.output)


def test_a_group_without_its_command_shows_its_help() -> None:
    out = run("monitor")
    assert out.exit_code == 2 and out.output.startswith("用法：guotu monitor [选项] 命令 [参数]...")
    assert "命令：" in out.output and "indicators" in out.output


def test_an_unknown_language_is_refused_in_chinese() -> None:
    out = run("roles", env={"GUOTU_LANG": "fr"})
    assert out.exit_code == 2
    assert "选项 --lang（环境变量 GUOTU_LANG）的值无效：fr 不是可选值（zh、en）之一。" in out.output


def test_version() -> None:
    assert run("--version").output.startswith("guotu ")
    assert ", version " in run("--version", "--lang", "en").output

"""Chinese runs say everything in Chinese (issue 14).

Every command of the CLI runs in Chinese on the demo county (``guotu serve`` only for its help
and an error: it would serve), with the ``--help`` of every command, typical errors (click's
and guotu's) and the Chinese HTML reports (review, monitoring, site sheet); each output is
scanned for ASCII words.

A word is a run of ASCII letters and digits (joined by ``.``, ``-`` or ``_``). It may stay
only when it is not prose:

- it holds a digit (codes, ids, dates, EPSG:4527, CGCS2000, BH20250002) or is one letter
  (x, y, the m of m²);
- it is an identifier taken from the code or the demo county, never typed in here: field codes
  (BSM, XZQDM …), layer, plan and table names, role, check, rule, operator, indicator,
  catalogue-input and review-kind ids, the rule-pack syntax of rule arguments, the
  placeholders of usage lines (PLAN, LOCATION);
- it is part of a URL, a path, a file name or extension, an option name of the CLI
  (``--fail-on``), a command line (``guotu monitor cases``), an object reference
  (``layer:XZQ``, ``table:targets``, ``env:NAME``), an environment variable (GUOTU_LANG), a
  message template's placeholder (``{area_m2:.2f}``) or a catalogue formula as written;
- the page is a ``--help`` page and the word is a value its options take (``--fail-on
  warning``), or an error lists it as a value to choose, or the user typed it;
- it is in :data:`ALLOWED_WORDS` (formats, products and standards by their names), each with
  its reason.

Everything else is a leak.
"""

from __future__ import annotations

import html.parser
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.demo.build import build_demo
from guotu.demo.county import MIN_PARCELS

#: ASCII words Chinese output may use, each with its reason (keep this list short).
ALLOWED_WORDS: dict[str, str] = {
    "guotu": "the command's name, as typed",
    # file formats, named so in Chinese documents and software too (no Chinese names in use)
    "GeoPackage": "OGC file format",
    "GeoJSON": "file format",
    "Shapefile": "Esri file format",
    "FileGDB": "Esri file geodatabase",
    "HTML": "file format",
    "PDF": "file format",
    "XLSX": "file format",
    "CSV": "file format",
    "JSON": "file format (--json)",
    "YAML": "file format of rule packs, check lists and catalogues",
    "GBK": "the name of a text encoding (--encoding)",
    # products and standards by their names
    "QGIS": "the GIS bureaus open the GeoPackages in",
    "PostgreSQL": "database (a workspace)",
    "PostGIS": "database extension (a workspace)",
    "HTTP": "the protocol guotu serve speaks",
    "OGC": "the standards body (OGC API - Features, see _STANDARDS)",
    "EPSG": "the CRS registry, written EPSG:4527 in Chinese documents too",
    "GDP": "part of official Chinese indicator names (每万元GDP地耗)",
    "make_valid": "the GEOS/OGC repair operation, named in options and reports",
}

_EXTENSIONS = (
    "gpkg|shp|shx|dbf|prj|cpg|gdb|geojson|json|xlsx|xls|csv|html|pdf|yaml|yml|txt|"
    "zip|svg|png|gpkg-wal"
)
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s，。；、）”》]*")
_ABS_PATH = re.compile(r"(?<![\w.])/[^\s，。；：、（）“”《》]+")
_FILE = re.compile(rf"[\w.\-]*\.(?:{_EXTENSIONS})\b", re.IGNORECASE)
_FOLDER = re.compile(r"[\w.\-]+/")
_OPTION = re.compile(r"(?<![\w\-])--?[A-Za-z][\w\-]*")
_OBJECT = re.compile(r"\b(?:plan:|layer:|table:|env:\w+)")
_TEMPLATE = re.compile(r"\{[\w.:%+\-]*\}")  # {area_m2:.2f} in a rule's message template
_STANDARDS = re.compile(r"OGC API - Features")  # a standard's name
_WORD = re.compile(r"[A-Za-z0-9_]+(?:[.\-][A-Za-z0-9_]+)*")


def _command_names(cmd: click.Command) -> set[str]:
    names = {cmd.name or ""}
    for sub in getattr(cmd, "commands", {}).values():
        names |= _command_names(sub)
    return names


def _walk(
    cmd: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


def _params(cmd: click.Command) -> list[click.Parameter]:
    return [*cmd.params, *([h] if (h := cmd.get_help_option(click.Context(cmd))) else [])]


COMMANDS = list(_walk(root))
OPTION_NAMES = {
    o
    for _, c in COMMANDS
    for p in _params(c)
    for o in (*p.opts, *p.secondary_opts)
    if isinstance(p, click.Option)
}
#: Placeholders of the usage lines and help texts: arguments (PLAN, FILE) and the metavars
#: options declare (LOCATION, COLUMN=FIELD).
PLACEHOLDERS = {
    w
    for _, c in COMMANDS
    for p in c.params
    for w in _WORD.findall(
        p.metavar or "" if isinstance(p, click.Option) else (p.name or "").upper()
    )
}
_NAMES = "|".join(sorted(map(re.escape, _command_names(root) - {"root"}), key=len, reverse=True))
_GUOTU_LINE = re.compile(rf"\bguotu(?:\s+(?:{_NAMES})\b)*")
_ENV_VAR = re.compile(r"\bGUOTU_[A-Z0-9_]+\b")


def _code_vocabulary() -> set[str]:
    """Identifiers of the tool and its data, from the code: field codes, standard layer
    names, role, check, rule, indicator, review-kind, scheme, pack and catalogue ids."""
    from guotu.demo.files import HANDOVER
    from guotu.domain.codes.crosswalks import Scheme
    from guotu.domain.core.fields import FIELDS
    from guotu.domain.core.roles import ROLES
    from guotu.domain.review.pack import KINDS
    from guotu.services.cases import CASE_LAYER
    from guotu.services.checking import load_check_list
    from guotu.services.monitoring_inputs import load_catalogue
    from guotu.services.review import load_rule_pack

    vocab = set(FIELDS) | set(KINDS) | {s.value for s in Scheme} | {h.layer for h in HANDOVER}
    vocab |= {CASE_LAYER, "cn-base", "sd-example", "cn-core"}
    for role in ROLES:
        vocab |= {role.id, *role.fields, *role.required}
    vocab |= {c.id for c in load_check_list()}
    for pack in (load_rule_pack("cn-base"), load_rule_pack("cn-base", "sd-example")):
        for rule in pack.rules:  # ids, operators and the rule-pack syntax of their arguments
            vocab |= {rule.id, rule.operator, *_identifiers(rule.args), *rule.tolerance}
    catalogue = load_catalogue("cn-core")
    vocab |= {i.id for i in catalogue.indicators} | set(catalogue.inputs)
    return vocab


def _identifiers(value: Any) -> set[str]:
    """The keys and identifier-like strings of a rule's arguments (YAML as written)."""
    if isinstance(value, dict):
        return {str(k) for k in value} | {w for v in value.values() for w in _identifiers(v)}
    if isinstance(value, list | tuple):
        return {w for v in value for w in _identifiers(v)}
    return {value} if isinstance(value, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", value) else set()


CODE_VOCABULARY = _code_vocabulary()


def _formula_texts() -> list[str]:
    """The catalogue's formulas and their parts as ``--explain`` writes them
    (``area(land_survey codes 0101,0102,0103)``), longest first."""
    from guotu.services.monitoring_inputs import load_catalogue

    def parts(formula: Any) -> Iterator[str]:
        yield formula.text()
        for arg in formula.args:
            yield from parts(arg)

    texts = {t for ind in load_catalogue("cn-core").indicators for t in parts(ind.formula)}
    return sorted(texts, key=len, reverse=True)


FORMULAS = _formula_texts()


def english_words(text: str, vocabulary: set[str] = frozenset()) -> list[str]:
    """The ASCII words of ``text`` that are not allowed in Chinese output (see the module)."""
    for formula in FORMULAS:
        text = text.replace(formula, " ")
    for pattern in (
        _URL,
        _ABS_PATH,
        _FILE,
        _FOLDER,
        _OBJECT,
        _GUOTU_LINE,
        _ENV_VAR,
        _TEMPLATE,
        _STANDARDS,
    ):
        text = pattern.sub(" ", text)
    text = _OPTION.sub(lambda m: " " if m.group() in OPTION_NAMES else m.group(), text)
    leaks = []
    for word in _WORD.findall(text):
        if (
            not re.search("[A-Za-z]", word)
            or re.search(r"\d", word)
            or len(word) == 1
            or word in ALLOWED_WORDS
            or word in vocabulary
            or word in PLACEHOLDERS
            or word in CODE_VOCABULARY
        ):
            continue
        leaks.append(word)
    return leaks


# -- the tokenizer can fail ------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "已导入 1 个要素。The layer has no geometry in this file.",
        "提示：XXGHDK: 1 of 2953 features have no row in 地块控制指标.xlsx (key DKBH).",
        "无法计算（no layer of role monitoring_case）",
        "合计：built_before_approval 1",
        "已修复：Self-intersection[39545050 4050050]",
        "e.g. 2023修改",
    ],
)
def test_a_planted_english_sentence_is_caught(text: str) -> None:
    assert english_words(text, {"monitoring_case", "XXGHDK", "DKBH"})


def test_ids_codes_units_files_options_and_commands_pass() -> None:
    text = (
        "错误：图层 GHYD 要素 BSM=GH00001234 的 YDYHFLDM（用地用海分类）：代码 090301 已废止；"
        "见 /tmp/a b/质检错误.gpkg 与 demo_county_files/规划目标.xlsx，坐标系 EPSG:4527、"
        "CGCS2000，面积 5,000.00 m²；请运行 guotu check --repair 或 guotu monitor cases "
        "--fail-on（http://127.0.0.1:8000/ui?x=1）；对象 layer:XZQ、env:GUOTU_PG；"
        "可在 QGIS 中打开 GeoPackage；已按 make_valid 修复。"
    )
    assert english_words(text, {"GHYD", "BSM", "YDYHFLDM", "XZQ"}) == []


# -- the demo county and what may be named in it --------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from guotu.services.review import load_rule_pack
    from guotu.store.geopackage import GeoPackageStore

    base = tmp_path_factory.mktemp("language_scan")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    ws = Path(result.workspace)
    vocab: set[str] = set()
    pack = load_rule_pack("cn-base", "sd-example")
    with GeoPackageStore.open(ws) as store:
        layers = store.layers()
        plans = store.plans()
        versions = {p.name: [v.label for v in store.versions(p.id)] for p in plans}
        ghyd = store.read_layer("GHYD", columns=["BSM"])
        dk = store.read_layer("XXGHDK", columns=["DKBH"])
        xzq = store.read_layer("XZQ", columns=["XZQDM"])
        cases = store.read_layer("BHTB", columns=["TBBH"])
    for info in layers:
        vocab |= {info.name, *info.columns}
    for p in plans:  # plan names (not the object prefix of the automatic ones: layer:XZQ)
        vocab |= set(_WORD.findall(_OBJECT.sub(" ", p.name)))
        vocab |= {w for label in versions[p.name] for w in _WORD.findall(label)}
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    survey = next(p.name for p in plans if len(versions[p.name]) > 2)
    return {
        "base": base,
        "ws": ws,
        "files": base / "files",
        "vocab": vocab,
        "manifest": manifest,
        "survey": survey,
        "survey_versions": versions[survey],
        "bsm": str(ghyd["BSM"].iloc[0]),
        "dkbh": str(dk["DKBH"].dropna().iloc[0]),
        "xzqdm": str(xzq["XZQDM"].iloc[1]),
        "tbbh": str(cases["TBBH"].iloc[0]),
        "rule": sorted(r.id for r in pack.rules)[0],
    }


def _run(
    demo: dict[str, Any], args: list[str], code: int | None = 0, env: dict[str, str] | None = None
) -> str:
    res = CliRunner().invoke(
        root,
        args,
        prog_name="guotu",
        env={"GUOTU_LANG": None, "GUOTU_USER": "测试员", **(env or {})},
    )
    assert "Traceback" not in res.output, res.output
    if code is not None:
        assert res.exit_code == code, (args, res.exit_code, res.output)
    return res.output


def _assert_chinese(text: str, vocabulary: set[str], what: str) -> None:
    leaks = english_words(text, vocabulary)
    assert not leaks, f"{what}: English words {sorted(set(leaks))} in\n{text}"


# -- every command's --help ------------------------------------------------------------------
def _help_values(cmd: click.Command) -> set[str]:
    """The values a command's options take and their defaults (``--fail-on warning``)."""
    out: set[str] = set(getattr(cmd, "commands", {}))
    for p in cmd.params:
        if isinstance(p.type, click.Choice):
            out |= {w for c in p.type.choices for w in _WORD.findall(str(c))}
        if isinstance(p, click.Option) and p.show_default and isinstance(p.default, str):
            out |= set(_WORD.findall(p.default))
    return out


@pytest.mark.parametrize(
    ("path", "cmd"), COMMANDS, ids=lambda v: " ".join(v) or "guotu" if isinstance(v, tuple) else ""
)
def test_help_is_chinese(path: tuple[str, ...], cmd: click.Command) -> None:
    out = _run({}, [*path, "--help"])
    assert out.startswith("用法：guotu") and "选项：" in out and "显示本帮助并退出" in out
    _assert_chinese(out, _help_values(cmd), f"guotu {' '.join(path)} --help")


# -- the commands on the demo county ---------------------------------------------------------
def _reads(d: dict[str, Any]) -> dict[str, tuple[list[str], int]]:
    w = ["-w", str(d["ws"])]
    files = d["files"]
    first, second = d["survey_versions"][0], d["survey_versions"][1]
    import shapely

    redline = next(i for i in d["manifest"]["items"] if i["id"] == "conflict.redline.inside.1")
    c = shapely.from_wkt(redline["geometry_wkt"]).centroid
    return {
        "layers": (["layers", *w], 0),
        "roles": (["roles"], 0),
        "plan list": (["plan", "list", *w], 0),
        "plan show": (["plan", "show", d["survey"], *w], 0),
        "log": (["log", *w], 0),
        "log --object": (["log", *w, "--object", f"plan:{d['survey']}", "--limit", "5"], 0),
        "history plan": (["history", d["survey"], *w], 0),
        "history feature": (["history", f"GHYD:{d['bsm']}", *w], 0),
        "diff": (["diff", d["survey"], first, second, *w], 0),
        "stats": (["stats", *w, "--layer", "GHYD", "--mu"], 0),
        "stats DLTB": (["stats", *w, "--layer", "DLTB", "--level", "2"], 0),
        "stats boundary": (
            ["stats", *w, "--layer", "GHYD", "--boundary", "XZQ", "--where", f"XZQDM={d['xzqdm']}"],
            0,
        ),
        "check": (["check", *w], 1),
        "codes": (["codes", "--level", "1"], 0),
        "codes show": (["codes", "show", "0101"], 0),
        "codes validate retired": (["codes", "validate", "090301"], 1),
        "codes validate unknown": (["codes", "validate", "0999"], 1),
        "codes validate malformed": (["codes", "validate", "101"], 1),
        "codes validate name": (["codes", "validate", "0101", "--name", "旱地"], 1),
        "codes translate": (["codes", "translate", "0101", "--from", "sandiao"], 0),
        "codes translate osm": (
            ["codes", "translate", "landuse=residential", "--from", "osm"],
            None,
        ),
        "query point": (["query", *w, "--point", f"{c.x},{c.y}"], 0),
        "query parcel": (["query", *w, "--parcel", d["dkbh"]], 0),
        "rules list": (["rules", "list"], 0),
        "rules show": (["rules", "show", d["rule"]], 0),
        "rules validate": (["rules", "validate", "cn-base", "--profile", "sd-example"], 0),
        "review master-plan": (["review", "master-plan", *w], 1),
        "review detailed-plan": (["review", "detailed-plan", *w], 1),
        "review special-plan": (["review", "special-plan", *w], 1),
        "review project": (["review", "project", *w], 1),
        "review indicators": (["review", "indicators", str(files / "规划指标表.xlsx"), *w], 1),
        "monitor indicators": (
            [
                "monitor",
                "indicators",
                *w,
                "--as-of",
                "2025-12-31",
                "--targets",
                str(files / "规划目标.xlsx"),
                "--statistics",
                str(files / "社会经济统计.xlsx"),
            ],
            0,
        ),
        "monitor indicators explain": (
            ["monitor", "indicators", *w, "--explain", "cultivated_land"],
            0,
        ),
        "monitor cases": (["monitor", "cases", *w], 0),
        "monitor consolidation": (["monitor", "consolidation", *w], 0),
        "monitor report": (["monitor", "report", *w, "--as-of", "2025-12-31"], 0),
        "monitor targets list": (["monitor", "targets", "list", *w], 0),
        "monitor targets show": (["monitor", "targets", "show", *w], 0),
        "monitor statistics list": (["monitor", "statistics", "list", *w], 0),
        "monitor statistics show": (["monitor", "statistics", "show", *w], 0),
    }


READS = [
    "layers",
    "roles",
    "plan list",
    "plan show",
    "log",
    "log --object",
    "history plan",
    "history feature",
    "diff",
    "stats",
    "stats DLTB",
    "stats boundary",
    "check",
    "codes",
    "codes show",
    "codes validate retired",
    "codes validate unknown",
    "codes validate malformed",
    "codes validate name",
    "codes translate",
    "codes translate osm",
    "query point",
    "query parcel",
    "rules list",
    "rules show",
    "rules validate",
    "review master-plan",
    "review detailed-plan",
    "review special-plan",
    "review project",
    "review indicators",
    "monitor indicators",
    "monitor indicators explain",
    "monitor cases",
    "monitor consolidation",
    "monitor report",
    "monitor targets list",
    "monitor targets show",
    "monitor statistics list",
    "monitor statistics show",
]


#: Words a run may repeat because the user typed them.
_INPUT_WORDS: dict[str, set[str]] = {"codes translate osm": {"landuse", "residential"}}


@pytest.mark.parametrize("name", READS)
def test_command_output_is_chinese(demo: dict[str, Any], name: str) -> None:
    args, code = _reads(demo)[name]
    _assert_chinese(
        _run(demo, args, code), demo["vocab"] | _INPUT_WORDS.get(name, set()), f"guotu {name}"
    )


def test_commands_that_write_are_chinese(demo: dict[str, Any], tmp_path: Path) -> None:
    ws = tmp_path / "copy.gpkg"
    shutil.copy(demo["ws"], ws)
    w = ["-w", str(ws)]
    files = demo["files"]
    runs: list[tuple[list[str], int | None]] = [
        (["plan", "create", "某县国土空间总体规划", *w, "--level", "县", "--type", "总体规划"], 0),
        (
            [
                "import",
                str(files / "详细规划地块.geojson"),
                "--role",
                "详细规划地块",
                "--layer",
                "DK2",
                *w,
                "--table",
                str(files / "地块控制指标.xlsx"),
                "--key",
                "DKBH",
                "--allow-empty-geometry",
            ],
            0,
        ),
        (["check", *w, "--repair", "--layer", "GHYD"], 1),
        (["monitor", "cases", *w, "--record", "--by", "张三"], 0),
        (["monitor", "case", demo["tbbh"], *w, "--status", "核查属实", "--by", "李四"], 0),
        (["monitor", "targets", "import", str(files / "规划目标.xlsx"), *w], 0),
        (["monitor", "statistics", "import", str(files / "社会经济统计.xlsx"), *w], 0),
        (["log", *w, "--limit", "6"], 0),
        (["plan", "list", *w], 0),
        (["demo", "-w", str(tmp_path / "d.gpkg"), "--parcels", str(MIN_PARCELS), "--no-check"], 0),
    ]
    for args, code in runs:
        _assert_chinese(_run(demo, args, code), demo["vocab"], f"guotu {' '.join(args[:2])}")


def test_html_reports_are_chinese(demo: dict[str, Any], tmp_path: Path) -> None:
    w = ["-w", str(demo["ws"])]
    review_html, monitor_html = tmp_path / "审查报告.html", tmp_path / "体检评估报告.html"
    sheet_html = tmp_path / "规划条件查询单.html"
    _run(demo, ["review", "master-plan", *w, "--html", str(review_html), "--fail-on", "never"])
    _run(demo, ["monitor", "report", *w, "--as-of", "2025-12-31", "--html", str(monitor_html)])
    _run(demo, ["query", *w, "--parcel", demo["dkbh"], "--html", str(sheet_html)])
    for path in (review_html, monitor_html, sheet_html):
        _assert_chinese(_visible_text(path.read_text(encoding="utf-8")), demo["vocab"], path.name)


class _Text(html.parser.HTMLParser):
    """The text a reader sees: text nodes outside <script>/<style>, titles and alt texts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("title", "alt", "aria-label") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


# -- typical errors --------------------------------------------------------------------------
def _errors(d: dict[str, Any]) -> dict[str, tuple[list[str], int, dict[str, str]]]:
    """Error runs: (arguments, exit code, environment)."""
    w = ["-w", str(d["ws"])]
    return {
        # click's own errors
        "no such option": (["plan", "list", *w, "--colour1"], 2, {}),
        "no such command": (["plna1"], 2, {}),
        "missing argument": (["diff", *w], 2, {}),
        "missing option": (["stats", *w], 2, {}),
        "invalid choice": (["check", *w, "--fail-on", "严重"], 2, {}),
        "invalid integer": (["log", *w, "--limit", "五"], 2, {}),
        "invalid date": (["layers", *w, "--as-of", "2025年1月1日"], 2, {}),
        "invalid range": (["codes", "list", "--level", "7"], 2, {}),
        "missing file": (["query", *w, "--polygon", "无此文件.geojson"], 2, {}),
        "extra argument": (["roles", "多余"], 2, {}),
        "option needs a value": (["check", *w, "--layer"], 2, {}),
        "group without command": (["plan"], 2, {}),
        "bad --lang": (["--lang", "fr1", "roles"], 2, {}),
        "bad GUOTU_LANG": (["roles"], 2, {"GUOTU_LANG": "fr1"}),
        # guotu's errors
        "no workspace": (["layers", "-w", str(d["base"] / "无此.gpkg")], 2, {}),
        "unknown layer": (["check", *w, "--layer", "无此图层"], 2, {}),
        "unknown plan": (["plan", "show", "无此规划", *w], 2, {}),
        "unknown code": (["codes", "show", "090301"], 2, {}),
        "site outside": (["query", *w, "--point", "1,2"], 2, {}),
        "unknown feature": (["history", "GHYD:无此1", *w], 2, {}),
        "unknown field": (["stats", *w, "--layer", "GHYD", "--field", "无此字段"], 2, {}),
        "missing import file": (["import", "无此.shp", "--role", "规划用地", *w], 2, {}),
        "version without plan": (
            [
                "import",
                str(d["files"] / "专项规划.geojson"),
                "--role",
                "专项规划",
                *w,
                "--version",
                "2023修改",
            ],
            2,
            {},
        ),
        "unknown pack": (["review", "master-plan", *w, "--rules", "无此规则包"], 2, {}),
        "unknown indicator": (["monitor", "indicators", *w, "--explain", "无此指标"], 2, {}),
        "unknown case": (["monitor", "case", "BH1", *w, "--status", "误报"], 2, {}),
        "serve without workspace": (["serve", "-w", str(d["base"] / "无此.gpkg")], 2, {}),
        "check list missing": (["check", *w, "--checks", "无此.yaml"], 2, {}),
    }


ERRORS = [
    "no such option",
    "no such command",
    "missing argument",
    "missing option",
    "invalid choice",
    "invalid integer",
    "invalid date",
    "invalid range",
    "missing file",
    "extra argument",
    "option needs a value",
    "group without command",
    "bad --lang",
    "bad GUOTU_LANG",
    "no workspace",
    "unknown layer",
    "unknown plan",
    "unknown code",
    "site outside",
    "unknown feature",
    "unknown field",
    "missing import file",
    "version without plan",
    "unknown pack",
    "unknown indicator",
    "unknown case",
    "serve without workspace",
    "check list missing",
]


#: Words an error may name because the user must type one of them: the values it lists.
_ERROR_VALUES: dict[str, set[str]] = {
    "invalid choice": {"error", "warning", "info", "never"},
    "bad --lang": {"zh", "en"},
    "bad GUOTU_LANG": {"zh", "en"},
    "group without command": _help_values(root.commands["plan"]),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_are_chinese(demo: dict[str, Any], name: str) -> None:
    args, code, env = _errors(demo)[name]
    out = _run(demo, args, code, env)
    assert "错误：" in out or "用法：" in out, out
    _assert_chinese(out, demo["vocab"] | _ERROR_VALUES.get(name, set()), name)

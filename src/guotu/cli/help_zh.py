"""The Chinese help of the command line: one catalogue, applied at help time.

The English help stays in the code (docstrings and ``help=``); this module holds the Chinese
of it, and of click's own words, so a Chinese run shows no English:

- :data:`COMMANDS`: command path (``guotu plan list``) → help text (the first sentence is the
  short help in a group's list of commands);
- :data:`SHARED_OPTIONS`: option → help for the options the shared decorators add (the same
  meaning on every command: ``--workspace``, ``--json``, ``--lang``, ``--as-of`` …);
- :data:`OPTIONS`: ``"command path --option"`` → help for the others (and where a shared
  option means something else on one command);
- :data:`CLICK_WORDS`, :data:`USAGE_PIECES`, :data:`TYPE_METAVARS`, :data:`PARAM_KINDS` and
  :func:`translate_click_message`: click's words and error messages.

Each entry is ``(fingerprint, Chinese)``: the :func:`fingerprint` of the English help it
translates. ``tests/cli/test_help_zh.py`` walks the click tree from :data:`guotu.cli.root` and
checks that every command and every option has a Chinese text here, that no entry is stale, and
that no English help changed under its Chinese: when one did, the test names the entry and the
new fingerprint, to be written in with the Chinese brought up to date.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime

__all__ = [
    "CLICK_MESSAGES",
    "CLICK_WORDS",
    "COMMANDS",
    "DEFAULT_VALUES",
    "OPTIONS",
    "PARAM_KINDS",
    "PLACEHOLDERS",
    "SHARED_OPTIONS",
    "TYPE_METAVARS",
    "USAGE_PIECES",
    "Entry",
    "command_help",
    "fingerprint",
    "option_help",
    "placeholder",
    "translate_click_message",
]

#: A catalogue entry: (the fingerprint of the English help it translates, the Chinese help).
Entry = tuple[str, str]


def fingerprint(english: str) -> str:
    """A short fingerprint of an English help text (the first 8 hex digits of its SHA-256,
    whitespace folded, so re-wrapping a docstring does not change it).

    Examples
    --------
    >>> fingerprint("Show this message and exit.") == fingerprint(" Show this  message and exit.")
    True
    >>> len(fingerprint("Output language."))
    8
    """
    return hashlib.sha256(" ".join(english.split()).encode("utf-8")).hexdigest()[:8]


# -- commands ----------------------------------------------------------------------------------
COMMANDS: dict[str, Entry] = {
    "guotu": ("81fc938f", "guotu 国土：面向规划管理部门的国土空间规划“一张图”。"),
    # -- plans, versions, history
    "guotu plan": ("53ae2540", "规划及其版本。"),
    "guotu plan create": ("a5c28701", "在工作空间中新建规划。"),
    "guotu plan list": ("26527ffa", "列出各规划及今日现行的版本。"),
    "guotu plan show": ("87fae359", "显示规划的各版本、现行版本及其图层。"),
    "guotu diff": ("0e12acea", "比较规划的原版本与新版本：新增、删除、变更的要素及用地变化矩阵。"),
    "guotu history": (
        "3982acdd",
        "查看规划或要素的历史：对象为规划名，或 图层:标识码（如 GHYD:GH00001234）。",
    ),
    "guotu log": ("b4b66ce8", "只增不改的操作日志：何人、何时、做了什么、为什么。"),
    # -- quality checks
    "guotu check": (
        "744355d4",
        """检查工作空间的图层：几何、代码、属性、重叠、缝隙、范围。

\b
示例：
  guotu check -w 示范县.gpkg
  guotu check -w 示范县.gpkg --layer 规划用地 --json
  guotu check -w 示范县.gpkg --errors-gpkg 质检错误.gpkg --fail-on warning""",
    ),
    # -- codes
    "guotu codes": (
        "ed85308b",
        """用地用海 2023 分类代码：列出、查看、校验、转换。

不带子命令时列出代码（同 guotu codes list）。""",
    ),
    "guotu codes list": ("67205032", "列出代码（全部 175 个、某一级，或某代码的下级）。"),
    "guotu codes show": ("f7319325", "查看一个代码：名称、级别、上级、下级及所属类别。"),
    "guotu codes validate": ("b60e029a", "校验代码（及名称）；有问题时退出码为 1。"),
    "guotu codes translate": (
        "a2509c9f",
        "把其他分类体系的代码转换为用地用海 2023 代码；没有唯一对应时退出码为 1。",
    ),
    # -- workspace
    "guotu import": (
        "05c72ca2",
        """把文件导入为工作空间的图层（Shapefile、GeoPackage、FileGDB、GeoJSON）。

导入是原子的：要么全部完成，要么工作空间保持原样。加 --plan/--version 时，图层登记到该规划的这一版本；与上一版本相同的要素共用，不复制。""",
    ),
    "guotu layers": ("deefd9b9", "列出工作空间的图层，及各图层所读取的规划版本。"),
    "guotu roles": ("818bfb28", "列出“一张图”的图层类型（三区三线、规划用地、详细规划地块 …）。"),
    "guotu stats": ("d091e107", "用地平衡表：按各级代码汇总的椭球面积。"),
    # -- demo
    "guotu demo": (
        "8f0dd62f",
        """生成示范县：移交文件、工作空间和已知问题清单。

示范县是合成的、可复现的：约 300 平方公里，位于东经 117.4°、北纬 36.6° 附近，含城镇、生态保护红线、永久基本农田、城镇开发边界、总体规划、详细规划、建设项目和变化图斑，并埋设了质检问题和审查冲突，列于 manifest.json。

-w 为 GeoPackage 文件（默认 demo_county.gpkg），或 PostgreSQL + PostGIS 工作空间（postgresql://…、postgres://…、env:变量名）；随后在其上运行质检、用地平衡表和成果审查。""",
    ),
    # -- monitoring
    "guotu monitor": ("f4265932", "规划实施监测：指标、预警与趋势预测。"),
    "guotu monitor indicators": (
        "4c8cfe39",
        """某日的指标值，及其逐年末序列、目标、状态和趋势。

\b
示例：
  guotu monitor indicators -w demo_county.gpkg
  guotu monitor indicators -w demo_county.gpkg --targets 规划目标_征求意见稿.xlsx
  guotu monitor indicators -w demo_county.gpkg --as-of 2024-12-31 --json
  guotu monitor indicators -w demo_county.gpkg --explain cultivated_land""",
    ),
    "guotu monitor cases": (
        "f4b93eab",
        """变化图斑转为监测案件：按各图斑的后时相日期，与已批建设项目和三区三线比对（已批已建、未批先建、占用永久基本农田、红线内/开发边界外新增建设、符合规划但未批）。

\b
示例：
  guotu monitor cases -w demo_county.gpkg
  guotu monitor cases -w demo_county.gpkg --record --by 张三
  guotu monitor case BH20250002 -w demo_county.gpkg --status 核查属实 --by 李四 --note 现场已硬化""",
    ),
    "guotu monitor case": (
        "5b166c63",
        "登记案件（按图斑编号）的实地核查结果（案件图层的新版本；此前的状态留在其历史中）。",
    ),
    "guotu monitor consolidation": (
        "3dc01137",
        """全域土地综合整治与耕地占补平衡台账，按逐年变更调查版本量算：每年占用和补充的耕地，各项目实测的新增耕地、建设用地减少与计划和进度的对比，及其与三区三线的重叠。

\b
示例：
  guotu monitor consolidation -w demo_county.gpkg
  guotu monitor consolidation -w demo_county.gpkg --from 2022-12-31 --json""",
    ),
    "guotu monitor report": (
        "75063934",
        """体检评估报告（规划实施监测与体检评估报告）：指标及其序列和目标、预警、监测案件和耕地占补平衡台账，输出为 HTML、PDF 和 XLSX。

\b
示例：
  guotu monitor report -w demo_county.gpkg --html 体检评估报告.html --pdf 体检评估报告.pdf""",
    ),
    "guotu monitor targets": (
        "daf786cc",
        "工作空间的规划目标：导入、列出、查看。监测时无需选项即读取现行版本。",
    ),
    "guotu monitor targets import": (
        "3f2d4fb4",
        """把文件（CSV/XLSX，每个指标一行：指标名称、单位、2025、2035 …）按 --targets 的读法核验后，登记为工作空间规划目标表的新版本。

\b
示例：
  guotu monitor targets import demo_county_files/规划目标.xlsx -w demo_county.gpkg
  guotu monitor targets import 规划目标.xlsx -w 县.gpkg --plan 县国土空间总体规划 --version 2024修改 --status 修改 --valid-from 2024-06-30""",
    ),
    "guotu monitor targets list": (
        "b419f7c1",
        "规划目标表已登记的各版本，及（--as-of 当日、按 --known-at 时所知）现行的版本。",
    ),
    "guotu monitor targets show": (
        "035f9246",
        "监测所读取的规划目标：--as-of 当日现行、按 --known-at 时所知的版本，与指标目录匹配后的结果。",
    ),
    "guotu monitor statistics": (
        "1188cd2e",
        "工作空间的社会经济统计：导入、列出、查看。监测时无需选项即读取现行版本。",
    ),
    "guotu monitor statistics import": (
        "e08e9a4b",
        """把文件（CSV/XLSX：年份、城镇常住人口（人）、用水总量（亿立方米）…，或每项一行）按 --statistics 的读法核验后，登记为工作空间社会经济统计表的新版本。

\b
示例：
  guotu monitor statistics import demo_county_files/社会经济统计.xlsx -w demo_county.gpkg
  guotu monitor statistics import 社会经济统计.xlsx -w 县.gpkg --plan 县国土空间总体规划 --version 2024修改 --status 修改 --valid-from 2024-06-30""",
    ),
    "guotu monitor statistics list": (
        "d1d33bf7",
        "社会经济统计表已登记的各版本，及（--as-of 当日、按 --known-at 时所知）现行的版本。",
    ),
    "guotu monitor statistics show": (
        "b21629dc",
        "监测所读取的社会经济统计：--as-of 当日现行、按 --known-at 时所知的版本，与指标目录匹配后的结果。",
    ),
    # -- site query
    "guotu query": (
        "44e3e16a",
        """查询地块适用的管控（空间码）：分区、规划、地块、项目和允许的用途。

\b
示例：
  guotu query -w demo_county.gpkg --point 39527060,4056040
  guotu query -w demo_county.gpkg --point 117.30,36.62 --crs EPSG:4490 --json
  guotu query -w demo_county.gpkg --parcel CG064-033 --html 查询单.html""",
    ),
    # -- review
    "guotu rules": ("0d39116c", "成果审查的规则包：校验、列出和查看规则。"),
    "guotu rules validate": (
        "a303bfa3",
        """按模式校验规则包（及地方配置），列出全部问题。

\b
示例：
  guotu rules validate 我的规则包.yaml
  guotu rules validate cn-base --profile 本省配置.yaml""",
    ),
    "guotu rules list": ("990b032c", "列出规则包中的规则（已套用地方配置）。"),
    "guotu rules show": ("63bd7100", "查看一条规则：依据、范围、算子、参数、容差和提示模板。"),
    "guotu review": (
        "63e87bd0",
        """对照“一张图”审查规划、线位、项目或指标表（成果审查）。

审查对象为文件（Shapefile、GeoPackage、GeoJSON、FileGDB；指标表为 CSV/XLSX），或已登记的规划版本“规划名@版本名”，或省略（审查工作空间中该类型的图层）。

\b
示例：
  guotu review master-plan -w 示范县.gpkg --html 审查报告.html
  guotu review detailed-plan 控规地块.shp --table 指标.xlsx --key DKBH -w 示范县.gpkg --pdf 审查报告.pdf
  guotu review special-plan 线位.geojson -w 示范县.gpkg --json
  guotu review indicators 规划指标表.xlsx -w 示范县.gpkg --profile sd-example""",
    ),
    # -- serving
    "guotu serve": (
        "03e649e6",
        """通过 HTTP 发布工作空间：OGC API - Features、矢量瓦片、地块查询和网页界面。

\b
示例：
  guotu serve -w demo_county.gpkg
  guotu serve -w env:GUOTU_PG --host 0.0.0.0 --port 8080
  guotu serve -w demo_county.gpkg --targets demo_county_files/规划目标.xlsx \\
      --statistics demo_county_files/社会经济统计.xlsx""",
    ),
}

# -- options of the shared decorators (the same meaning wherever they appear) ------------------
SHARED_OPTIONS: dict[str, Entry] = {
    "--help": ("55753631", "显示本帮助并退出。"),
    "--lang": ("0650749b", "输出语言（默认中文，或环境变量 GUOTU_LANG 所设）。"),
    "--workspace": (
        "40f969a8",
        "工作空间：GeoPackage 文件、postgresql:// 地址，或 env:变量名（该环境变量存放地址）；"
        "也可由环境变量 GUOTU_WORKSPACE 给出。",
    ),
    "--json": ("c5b2e409", "以 JSON 格式输出结果。"),
    "--as-of": ("4db68afd", "现行日期：读取该日现行的规划（默认今天）。"),
    "--known-at": ("e3f32496", "登记时间：读取系统在该时刻所知的数据（默认现在）。"),
    "--use-layer": (
        "53a0b7f6",
        "工作空间中同一类型有多个图层时，用所给图层作为该类型的图层（可重复）。",
    ),
    "--reason": ("29ef9c2e", "原因（记入操作日志）。"),
    # the version options of guotu import and guotu monitor targets|statistics import
    "--plan": ("45140be6", "登记到这个规划（见 guotu plan create）。"),
    "--version": ("2723fdf3", "版本名称，如 2023修改。"),
    "--status": ("976dda5d", "版本状态：编制中、公示、报批、批复、修改、废止。"),
    "--parent-version": ("b53bb1dd", "本版本所修改的版本（默认为该规划的最新版本）。"),
    "--valid-from": ("ce3c87f1", "自该日起生效。"),
    "--valid-to": ("a0040d74", "至该日失效（不含该日）。"),
    "--approval-no": ("23c205c7", "批复文号。"),
    "--approval-organ": ("f1b81e2b", "批复机关。"),
    "--approval-date": ("b9702acc", "批复日期。"),
}

# -- options of one command ("command path --option") -----------------------------------------
OPTIONS: dict[str, Entry] = {
    "guotu --lang": ("e35ac2c2", "输出语言（默认中文）。"),
    "guotu --debug": ("22896200", "出错时显示完整的调用栈。"),
    "guotu --version": ("c379c574", "显示版本号并退出。"),
    # plan create
    "guotu plan create --level": ("fd231aa4", "规划层级：国家、省、市、县、乡镇。"),
    "guotu plan create --type": (
        "b70bd05b",
        "规划类型：总体规划、详细规划、专项规划、村庄规划、土地整治规划、调查。",
    ),
    "guotu plan create --xzqdm": ("860491fd", "行政区代码。"),
    "guotu plan create --parent-plan": ("8e53fad5", "须与之相符的上级规划。"),
    "guotu plan create --description": ("1c4857c1", "规划说明。"),
    # diff
    "guotu diff --layer": ("70ba35fa", "只比较规划中的这些图层（可重复）。"),
    "guotu diff --xlsx": ("25dd5bb9", "把变化清单和用地变化矩阵写入 XLSX 文件。"),
    "guotu diff --gpkg": ("9a8bf2ae", "把变化要素的几何写入 GeoPackage 文件（供 QGIS 打开）。"),
    "guotu diff --force": ("54caabf3", "覆盖已有的 --xlsx/--gpkg 文件。"),
    # log
    "guotu log --object": ("f45fa666", "只列出与该对象有关的记录（plan:规划名、layer:图层名）。"),
    "guotu log --limit": ("969ed87e", "最多列出这么多条（最新的）。"),
    # check
    "guotu check --layer": ("62c62b38", "只检查这个图层（可重复；默认检查全部图层）。"),
    "guotu check --errors-gpkg": (
        "a2938747",
        "把问题位置写入这个 GeoPackage 文件（供 QGIS 打开）。",
    ),
    "guotu check --fail-on": ("06658475", "有问题达到此级别时退出码为 1。"),
    "guotu check --repair": ("ffac597a", "先用 make_valid 修复无效几何，并逐个列出。"),
    "guotu check --checks": ("994a1ab2", "用另一份质检清单（YAML，模式 checks-v1）代替内置清单。"),
    # codes
    "guotu codes --level": ("5515620d", "只列出这一级（1、2 或 3）。"),
    "guotu codes --parent": ("2fa1dd82", "只列出该代码的直接下级。"),
    "guotu codes list --level": ("5515620d", "只列出这一级（1、2 或 3）。"),
    "guotu codes list --parent": ("2fa1dd82", "只列出该代码的直接下级。"),
    "guotu codes validate --name": ("578686df", "同时核对该分类的名称。"),
    "guotu codes translate --from": ("5063243e", "代码所属的分类体系（osm 时代码写作 键=值）。"),
    "guotu codes translate --to": ("02a99891", "目标分类体系。"),
    # import
    "guotu import --role": ("7bbf2d21", "图层类型：编号或中文名称（见 guotu roles）。"),
    "guotu import --layer": ("82c236c4", "工作空间中的图层名（默认为图层类型编号）。"),
    "guotu import --source-layer": ("1f89d372", "多图层文件（.gpkg、.gdb）中的图层。"),
    "guotu import --map": (
        "2c80e12c",
        "把源文件的字段对应到标准字段（可重复）：--map 规划代码=YDYHFLDM。",
    ),
    "guotu import --crs": (
        "91f96dd7",
        "声明文件的坐标参考系，如 EPSG:4527（文件没有坐标参考系时必填）。",
    ),
    "guotu import --table": ("cb7dce42", "按 --key 关联的属性表（CSV/XLSX）。"),
    "guotu import --key": ("29bfef48", "图层与 --table 共有的关联字段（如 DKBH）。"),
    "guotu import --replace": ("381ecf9b", "替换同名的已有图层。"),
    "guotu import --workspace-crs": (
        "814c69d0",
        "新工作空间的坐标参考系（默认按数据所在的高斯-克吕格投影带选择）。",
    ),
    "guotu import --encoding": (
        "16e6a84c",
        "文件中文字的编码（GBK、UTF-8 …），优先于 Shapefile 的 .cpg；仍会按实际字节核验。",
    ),
    "guotu import --allow-empty-geometry": (
        "0cb54fa3",
        "保留没有几何的要素（否则拒绝导入）；结果中会给出其数量。",
    ),
    # stats
    "guotu stats --layer": ("93a56ca3", "要汇总的图层（如 GHYD）。"),
    "guotu stats --field": ("8a26f70d", "代码字段（默认为图层类型的代码字段：YDYHFLDM 或 DLBM）。"),
    "guotu stats --boundary": ("ab6a1a7a", "只统计这个图层的要素范围内的部分（如 XZQ）。"),
    "guotu stats --where": ("23d771de", "选择范围图层中的要素：--where XZQDM=370123101000。"),
    "guotu stats --level": ("0b6b01cd", "列到第几级代码。"),
    "guotu stats --mu": ("8cf36b3e", "同时给出以亩计的面积。"),
    "guotu stats --csv": ("db8733c4", "把表写入 CSV 文件。"),
    "guotu stats --xlsx": ("d21e6b61", "把表写入 XLSX 文件。"),
    # demo
    "guotu demo --out": (
        "f6ea455e",
        "存放移交文件和 manifest.json 的文件夹（默认：GeoPackage 文件旁的“文件名_files/”文件夹；PostGIS 时为 ./demo_county_files/）。",
    ),
    "guotu demo --parcels": ("5af95be5", "大约生成多少个地块（GHYD、DLTB）。"),
    "guotu demo --seed": ("d453ea83", "随机种子；种子和规模相同，生成的示范县也相同。"),
    "guotu demo --force": (
        "e5ef2b2e",
        "覆盖已有的工作空间和文件（PostGIS 工作空间会被清空：删除其模式中 guotu 的表后重建）。",
    ),
    "guotu demo --no-check": ("e0d8eed8", "只生成数据，不做随后的质检、用地平衡表和成果审查。"),
    # monitor indicators
    "guotu monitor indicators --from-year": (
        "d171b759",
        "序列的第一个年末（默认为 --as-of 之前五年）。",
    ),
    "guotu monitor indicators --catalogue": ("baeb9555", "指标目录：内置编号或 YAML 文件。"),
    "guotu monitor indicators --targets": (
        "9c7837dc",
        "本次使用的逐年规划目标表（CSV/XLSX：指标名称、单位、2025、2035 …），代替工作空间的规划目标表（guotu monitor targets import）。",
    ),
    "guotu monitor indicators --statistics": (
        "cc65aab1",
        "本次使用的逐年统计数据表（CSV/XLSX：年份、常住人口、用水总量 …），代替工作空间的社会经济统计表。",
    ),
    "guotu monitor indicators --explain": ("2f44b358", "显示一个指标的计算来源。"),
    "guotu monitor indicators --fail-on": (
        "ddac6d7a",
        "有指标达到此状态时退出码为 1（red 为突破，yellow 为预警）。",
    ),
    # monitor cases
    "guotu monitor cases --record": (
        "6fd63004",
        "把案件登记到工作空间（监测案件图层 JCAJ 的新版本；已登记案件的状态和核查记录保留）。",
    ),
    "guotu monitor cases --by": ("7256b748", "登记人（记入操作日志）。"),
    "guotu monitor cases --gpkg": (
        "03047b35",
        "同时把案件及其几何写入这个 GeoPackage 文件（供 QGIS 打开）。",
    ),
    "guotu monitor cases --fail-on": ("b7ce7f42", "有此级别或更严重的未结案件时退出码为 1。"),
    # monitor case
    "guotu monitor case --status": ("d3ac655e", "核查状态：待核查、核查属实、已整改、误报。"),
    "guotu monitor case --by": ("ee04403e", "核查人。"),
    "guotu monitor case --date": ("98ecb9cc", "核查日期（默认今天）。"),
    "guotu monitor case --note": ("4e921112", "核查结论。"),
    "guotu monitor case --rectification": ("367597d5", "整改情况。"),
    # monitor consolidation
    "guotu monitor consolidation --from": (
        "b9b741ee",
        "起点：该日现行的变更调查版本（默认为第一个版本）。",
    ),
    "guotu monitor consolidation --as-of": (
        "caed883f",
        "终点：该日现行的变更调查版本（默认今天）。",
    ),
    "guotu monitor consolidation --fail-on-imbalance": ("3fa5b186", "耕地占补不平衡时退出码为 1。"),
    # monitor report
    "guotu monitor report --as-of": ("6214cb58", "报告日期（默认今天）。"),
    "guotu monitor report --from-year": ("24a97817", "序列的第一个年末。"),
    "guotu monitor report --catalogue": ("baeb9555", "指标目录：内置编号或 YAML 文件。"),
    "guotu monitor report --targets": (
        "85a4d0eb",
        "逐年规划目标表（CSV/XLSX），代替工作空间的规划目标表。",
    ),
    "guotu monitor report --statistics": (
        "7019dd12",
        "逐年统计数据表（CSV/XLSX），代替工作空间的社会经济统计表。",
    ),
    "guotu monitor report --html": ("4252d84a", "把独立的 HTML 报告写到这里。"),
    "guotu monitor report --pdf": ("3d0ebe08", "把 PDF 报告写到这里。"),
    "guotu monitor report --xlsx": ("c78147cc", "把各表写入这个 XLSX 工作簿。"),
    "guotu monitor targets import --catalogue": (
        "6bb24785",
        "与名称匹配的指标目录：内置编号或 YAML 文件。",
    ),
    "guotu monitor targets show --catalogue": (
        "6bb24785",
        "与名称匹配的指标目录：内置编号或 YAML 文件。",
    ),
    "guotu monitor statistics import --catalogue": (
        "6bb24785",
        "与名称匹配的指标目录：内置编号或 YAML 文件。",
    ),
    "guotu monitor statistics show --catalogue": (
        "6bb24785",
        "与名称匹配的指标目录：内置编号或 YAML 文件。",
    ),
    # query
    "guotu query --point": (
        "8b0331bf",
        "一个点：--crs 坐标系下的 X,Y（EPSG:4490 时为 经度,纬度）。",
    ),
    "guotu query --polygon": ("bd04bd63", "含一个多边形的 GeoJSON 文件。"),
    "guotu query --parcel": (
        "fc9d4f80",
        "一个地块：详细规划地块的 DKBH，或总体规划用地图斑的 BSM。",
    ),
    "guotu query --crs": (
        "702c1484",
        "--point/--polygon 的坐标参考系（默认为工作空间的坐标参考系；如 EPSG:4490、CRS84）。",
    ),
    "guotu query --html": ("abe73c1d", "同时把可打印的规划条件查询单写入这个 HTML 文件。"),
    "guotu query --base-url": (
        "0ff1e67d",
        "查询单上永久链接所用的服务器地址（如 http://gis.example.gov.cn）。",
    ),
    # rules
    "guotu rules validate --profile": ("7c4ab911", "同时校验叠加在该规则包上的这个地方配置。"),
    "guotu rules list --rules": ("807b31b2", "规则包：YAML 文件或内置编号。"),
    "guotu rules list --profile": (
        "63d8e684",
        "叠加在规则包上的省级或地方配置（文件或内置编号，如 sd-example）。",
    ),
    "guotu rules list --kind": ("a3e3d4d8", "只列出这一审查类型的规则。"),
    "guotu rules show --rules": ("807b31b2", "规则包：YAML 文件或内置编号。"),
    "guotu rules show --profile": (
        "63d8e684",
        "叠加在规则包上的省级或地方配置（文件或内置编号，如 sd-example）。",
    ),
    # review
    "guotu review --rules": ("807b31b2", "规则包：YAML 文件或内置编号。"),
    "guotu review --profile": (
        "63d8e684",
        "叠加在规则包上的省级或地方配置（文件或内置编号，如 sd-example）。",
    ),
    "guotu review --layer": ("04a84e90", "要审查的工作空间图层（默认为该审查类型对应的图层）。"),
    "guotu review --source-layer": ("8f6ee0b3", "审查对象为多图层文件时，其中的图层。"),
    "guotu review --table": ("abe7f8b2", "与审查对象文件关联的属性表（CSV/XLSX），同导入。"),
    "guotu review --key": ("3fc61bad", "关联 --table 与审查对象文件的字段（如 DKBH）。"),
    "guotu review --map": ("69926f9d", "把审查对象文件的字段对应到标准字段（可重复），同导入。"),
    "guotu review --crs": (
        "2bb02204",
        "声明没有坐标参考系的审查对象文件的坐标参考系，如 EPSG:4527。",
    ),
    "guotu review --allow-empty-geometry": (
        "1edfca05",
        "审查含无几何要素的审查对象文件（否则拒绝），同导入。",
    ),
    "guotu review --fail-on": ("06658475", "有问题达到此级别时退出码为 1。"),
    "guotu review --gpkg": ("01d774bb", "把问题几何写入这个 GeoPackage 文件（供 QGIS 打开）。"),
    "guotu review --html": ("4252d84a", "把独立的 HTML 报告写到这里。"),
    "guotu review --pdf": ("3d0ebe08", "把 PDF 报告写到这里。"),
    "guotu review --xlsx": ("a361d60e", "把问题清单写入这个 XLSX 工作簿。"),
    # serve
    "guotu serve --host": ("15ea14cb", "监听地址（默认 127.0.0.1）。"),
    "guotu serve --port": ("350862b7", "端口（默认 8000）。"),
    "guotu serve --targets": (
        "6d738dbf",
        "监测看板所用的逐年规划目标表（CSV/XLSX），代替工作空间的规划目标表。",
    ),
    "guotu serve --statistics": (
        "cb6ac018",
        "监测看板所用的逐年统计数据表（CSV/XLSX），代替工作空间的社会经济统计表。",
    ),
}

#: Default values shown in Chinese where the default is an English word.
DEFAULT_VALUES: dict[str, str] = {
    "approved": "批复",
}


def command_help(path: str) -> str | None:
    """The Chinese help of the command ``path`` (``guotu plan list``), ``None`` if missing.

    Examples
    --------
    >>> command_help("guotu check").startswith("检查")
    True
    """
    entry = COMMANDS.get(path)
    return None if entry is None else entry[1]


def option_help(path: str, option: str) -> str | None:
    """The Chinese help of ``option`` (its first long name) on the command ``path``: the
    command's own entry, else the shared one; ``None`` if missing.

    Examples
    --------
    >>> option_help("guotu check", "--json")
    '以 JSON 格式输出结果。'
    """
    entry = OPTIONS.get(f"{path} {option}", SHARED_OPTIONS.get(option))
    return None if entry is None else entry[1]


# -- click's own words -------------------------------------------------------------------------
CLICK_WORDS: dict[str, str] = {
    "usage": "用法：",
    "options": "选项",
    "commands": "命令",
    "error": "错误：",
    "try_help": "请运行 {command} 查看帮助。",
    "aborted": "已中止。",
}

#: The usage line's placeholders for options and subcommands.
USAGE_PIECES: dict[str, str] = {
    "[OPTIONS]": "[选项]",
    "COMMAND [ARGS]...": "命令 [参数]...",
    "[COMMAND] [ARGS]...": "[命令] [参数]...",
}

#: The placeholders of arguments and option values (as the code declares them: an argument's
#: name, an option's metavar) in Chinese help. ``"command path --option"`` or ``"command path
#: ARGUMENT"`` is a placeholder that reads differently on one command.
PLACEHOLDERS: dict[str, str] = {
    "FILE": "文件",
    "SOURCE": "审查对象",
    "PLAN": "规划",
    "OLD": "原版本",
    "NEW": "新版本",
    "TARGET": "对象",
    "NAME": "名称",
    "PACK": "规则包",
    "RULE_ID": "规则编号",
    "CODE": "代码",
    "TBBH": "图斑编号",
    "LAYER": "图层",
    "LOCATION": "工作空间",
    "PROFILE": "地方配置",
    "ID": "指标编号",
    "COLUMN=FIELD": "源字段=标准字段",
    "FIELD=VALUE": "字段=值",
    "X,Y": "X,Y",  # coordinates, as a point is written in every language
    "guotu plan create NAME": "规划名称",
    "guotu plan show NAME": "规划名称",
    "guotu check --layer": "图层",
    "guotu query --parcel": "地块编号",
}
_PLACEHOLDER = re.compile(r"(\[?)([A-Z][A-Z_=,]*)(\]?)((?:\.\.\.)?)")


def placeholder(path: str, text: str, option: str | None = None) -> str:
    """A usage piece or metavar (``FILE``, ``[SOURCE]``, ``COLUMN=FIELD``) of the command
    ``path`` in Chinese (:data:`PLACEHOLDERS`; ``option`` names the option whose metavar it
    is); anything else as it is.

    Examples
    --------
    >>> placeholder("guotu review", "[SOURCE]"), placeholder("guotu import", "COLUMN=FIELD")
    ('[审查对象]', '源字段=标准字段')
    >>> placeholder("guotu query", "CODE", "--parcel"), placeholder("guotu review", "{a|b}")
    ('地块编号', '{a|b}')
    """
    found = _PLACEHOLDER.fullmatch(text)
    if found is None:
        return text
    word = found[2]
    zh = PLACEHOLDERS.get(f"{path} {option or word}") or PLACEHOLDERS.get(word)
    return text if zh is None else f"{found[1]}{zh}{found[3]}{found[4]}"


#: Metavars of click's types (by the type's name) where an option declares none.
TYPE_METAVARS: dict[str, str] = {
    "text": "文本",
    "integer": "整数",
    "integer range": "整数",
    "float": "数值",
    "float range": "数值",
    "boolean": "是/否",
}

#: click's kinds of parameter, as a missing one is named.
PARAM_KINDS: dict[str, str] = {"argument": "参数", "option": "选项", "parameter": "参数"}


def _values(text: str) -> str:
    """``'a', 'b'`` (click's quoted list) as ``a、b``."""
    return "、".join(v.strip().strip("'") for v in text.split(", "))


def _dates(text: str) -> str:
    """click's date formats (``'%Y-%m-%d', …``) as examples (``2025-12-31``)."""
    return "、".join(
        datetime(2025, 12, 31, 8, 30).strftime(f.strip().strip("'")) for f in text.split(", ")
    )


_PATH_KINDS = {"file": "文件", "directory": "文件夹", "path": "路径"}

#: click's error sentences (as click 8 writes them) and their Chinese.
CLICK_MESSAGES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), make)
    for pattern, make in (
        (r"No such option '(?P<name>.+)'\.", lambda m: f"没有选项 {m['name']}。"),
        (r"No such option: (?P<name>.+)", lambda m: f"没有选项 {m['name']}。"),
        (r"No such command '(?P<name>.+)'\.", lambda m: f"没有命令 {m['name']}。"),
        (
            r"Option '(?P<name>.+)' requires an argument\.",
            lambda m: f"选项 {m['name']} 需要一个值。",
        ),
        (
            r"Option '(?P<name>.+)' requires (?P<n>\d+) arguments\.",
            lambda m: f"选项 {m['name']} 需要 {m['n']} 个值。",
        ),
        (r"Option '(?P<name>.+)' does not take a value\.", lambda m: f"选项 {m['name']} 不带值。"),
        (
            r"Argument '(?P<name>.+)' takes (?P<n>\d+) values\.",
            lambda m: f"参数 {m['name']} 需要 {m['n']} 个值。",
        ),
        (
            r"Got unexpected extra arguments? \((?P<args>.*)\)",
            lambda m: f"多余的参数：{m['args']}。",
        ),
        (r"Missing command\.", lambda m: "缺少子命令。"),
        (
            r"'(?P<value>.*)' is not one of (?P<choices>.+)\.",
            lambda m: f"{m['value']} 不是可选值（{_values(m['choices'])}）之一。",
        ),
        (
            r"'(?P<value>.*)' is not (?P<choice>'.*')\.",
            lambda m: f"{m['value']} 不是可选值（{_values(m['choice'])}）。",
        ),
        (r"'(?P<value>.*)' is not a valid integer\.", lambda m: f"{m['value']} 不是整数。"),
        (r"'(?P<value>.*)' is not a valid float\.", lambda m: f"{m['value']} 不是数值。"),
        (r"'(?P<value>.*)' is not a valid boolean\..*", lambda m: f"{m['value']} 不是是/否值。"),
        (
            r"(?P<value>.+) is not in the range (?P<range>.+)\.",
            lambda m: f"{m['value']} 不在范围 {m['range']} 内。",
        ),
        (
            r"'(?P<value>.*)' does not match the formats? (?P<formats>.+)\.",
            lambda m: f"{m['value']} 不是有效的日期，应写成如 {_dates(m['formats'])} 的形式。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' does not exist\.",
            lambda m: f"{_PATH_KINDS[m['kind'].lower()]} {m['name']} 不存在。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' is a file\.",
            lambda m: f"{m['name']} 是文件，不是文件夹。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' is a directory\.",
            lambda m: f"{m['name']} 是文件夹，不是文件。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' is not (?P<what>readable|writable|executable)\.",
            lambda m: (
                f"{_PATH_KINDS[m['kind'].lower()]} {m['name']} 不可"
                f"{ {'readable': '读', 'writable': '写', 'executable': '执行'}[m['what'].lower()] }。"
            ),
        ),
        (
            r"Takes (?P<n>\d+) values but (?P<k>\d+) (?:was|were) given\.",
            lambda m: f"需要 {m['n']} 个值，却给了 {m['k']} 个。",
        ),
        (r"Value must be an iterable\.", lambda m: "值必须是一组值。"),
    )
)


def translate_click_message(message: str) -> str:
    """One of click's error sentences in Chinese; any other text as it is.

    Examples
    --------
    >>> translate_click_message("'fr' is not one of 'zh', 'en'.")
    'fr 不是可选值（zh、en）之一。'
    >>> translate_click_message("'2025/1/1' does not match the format '%Y-%m-%d'.")
    '2025/1/1 不是有效的日期，应写成如 2025-12-31 的形式。'
    """
    for pattern, make in CLICK_MESSAGES:
        match = pattern.fullmatch(message.strip())
        if match is not None:
            return make(match)
    return message

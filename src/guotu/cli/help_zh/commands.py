"""The Chinese help of every command (:data:`COMMANDS`: command path → entry; the first
sentence is the short help in a group's list of commands)."""

from __future__ import annotations

from guotu.cli.help_zh.access import ACCESS_COMMANDS
from guotu.cli.help_zh.cases import CASE_COMMANDS
from guotu.cli.help_zh.catalogue import Entry

__all__ = ["COMMANDS", "command_help"]

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
    # -- identity and access (guotu dept|user|role|policy|token|audit|admin)
    **ACCESS_COMMANDS,
    # -- approval cases (guotu case)
    **CASE_COMMANDS,
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

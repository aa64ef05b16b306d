"""The Chinese help of every option: :data:`SHARED_OPTIONS` for those of the shared decorators
(the same meaning on every command), :data:`OPTIONS` (``"command path --option"``) for the
others and where a shared option means something else on one command; and
:data:`DEFAULT_VALUES`, defaults shown in Chinese."""

from __future__ import annotations

from guotu.cli.help_zh.access import ACCESS_OPTIONS
from guotu.cli.help_zh.cases import CASE_OPTIONS
from guotu.cli.help_zh.catalogue import Entry

__all__ = ["DEFAULT_VALUES", "OPTIONS", "SHARED_OPTIONS", "option_help"]

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
    "guotu monitor cases --by": (
        "a0a12c44",
        "实际做登记的人，不是运行命令的用户时填写（记入审计日志的原因）。",
    ),
    "guotu monitor cases --gpkg": (
        "03047b35",
        "同时把案件及其几何写入这个 GeoPackage 文件（供 QGIS 打开）。",
    ),
    "guotu monitor cases --fail-on": ("b7ce7f42", "有此级别或更严重的未结案件时退出码为 1。"),
    # monitor case
    "guotu monitor case --status": ("d3ac655e", "核查状态：待核查、核查属实、已整改、误报。"),
    "guotu monitor case --by": ("2d541307", "核查人（默认：运行命令的用户）。"),
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
    # identity and access (guotu dept|user|policy|token|audit|admin, guotu demo --no-accounts)
    **ACCESS_OPTIONS,
    # approval cases (guotu case)
    **CASE_OPTIONS,
}

#: Default values shown in Chinese where the default is an English word.
DEFAULT_VALUES: dict[str, str] = {
    "approved": "批复",
}


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

"""Standard fields of the one-map databases: names, types, units, plausible ranges, aliases.

Standard field names follow the naming of the 国土空间规划"一张图" databases (pinyin
initials: DLBM, YDYHFLDM, RJL …); source files rarely use them, so each field lists the
Chinese and pinyin names seen in practice (:func:`field_for_alias`), and
:func:`guotu.domain.core.roles.detect_field_mapping` maps a file's columns onto the fields of
a layer's role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from guotu.errors import ConfigError

__all__ = [
    "FIELDS",
    "FieldKind",
    "StandardField",
    "field_for_alias",
    "field_key",
    "field_label",
    "get_field",
]


class FieldKind(StrEnum):
    """Value type of a standard field."""

    TEXT = "text"
    REAL = "real"
    INTEGER = "integer"
    DATE = "date"
    CODE = "code"  # a land-use code (用地用海 or 三调), kept as text


@dataclass(frozen=True)
class StandardField:
    """A standard attribute of the one-map databases.

    ``minimum``/``maximum`` bound plausible values (checked by 质检, not at import);
    ``exclusive_minimum`` makes the lower bound strict (容积率 > 0).
    """

    name: str
    name_zh: str
    kind: FieldKind
    unit: str = ""
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    code_scheme: str | None = None  # "ydyh2023" (用地用海 2023) or "sandiao" (三调)


def _f(
    name: str,
    name_zh: str,
    kind: FieldKind = FieldKind.TEXT,
    *aliases: str,
    unit: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    code_scheme: str | None = None,
) -> StandardField:
    return StandardField(
        name,
        name_zh,
        kind,
        unit,
        (name_zh, *aliases),
        minimum,
        maximum,
        exclusive_minimum,
        code_scheme,
    )


T, R, INT, D, C = FieldKind.TEXT, FieldKind.REAL, FieldKind.INTEGER, FieldKind.DATE, FieldKind.CODE

#: Every standard field, by name. Aliases are compared case-, space- and underscore-insensitively.
FIELDS: Mapping[str, StandardField] = {
    f.name: f
    for f in (
        _f("BSM", "标识码", T, "标识号", "OBJECTCODE"),
        _f(
            "XZQDM",
            "行政区代码",
            T,
            "行政区划代码",
            "XZQHDM",
            "XJXZQDM",
            "XJXZQHDM",
            "ADCODE",
            "XZQDM_",
        ),
        _f("XZQMC", "行政区名称", T, "行政区划名称", "XJXZQMC", "XZQHMC"),
        _f("JB", "行政级别", T, "级别", "XZJB"),
        _f("ZLDWDM", "坐落单位代码", T, "坐落单位编码"),
        _f("ZLDWMC", "坐落单位名称", T, "坐落单位", "ZLDW"),
        _f("DLBM", "地类编码", C, "地类代码", "DLDM", "三调地类编码", code_scheme="sandiao"),
        _f("DLMC", "地类名称", T, "三调地类名称"),
        _f(
            "YDYHFLDM",
            "用地用海分类代码",
            C,
            "用地用海代码",
            "用地用海编码",
            "规划用途代码",
            "规划地类代码",
            "用地性质",
            "用地性质代码",
            "用地代码",
            "YDYHDM",
            "GHYTDM",
            "GHDLDM",
            "YDXZ",
            "YDXZDM",
            "YDDM",
            "YONGDIXINGZHI",
            code_scheme="ydyh2023",
        ),
        _f(
            "YDYHFLMC",
            "用地用海分类名称",
            T,
            "用地用海名称",
            "规划用途名称",
            "规划地类名称",
            "用地性质名称",
            "YDYHMC",
            "GHYTMC",
            "GHDLMC",
            "YDXZMC",
            "YDMC",
        ),
        _f("TBBH", "图斑编号", T, "图斑号"),
        _f("TBMJ", "图斑面积", R, "图斑面积平方米", unit="m2", minimum=0, exclusive_minimum=True),
        _f("MJ", "面积", R, "AREA", "SHAPE_AREA", unit="m2", minimum=0, exclusive_minimum=True),
        _f("LHLX", "红线类型", T, "生态功能类型", "类型", "HXLX"),
        _f("YJJBNTTBBH", "永久基本农田图斑编号", T, "基本农田图斑编号", "JBNTTBBH"),
        _f("GDPDJB", "耕地坡度级别", T, "坡度级别", "PDJB"),
        _f("GHFQDM", "规划分区代码", T, "分区代码", "FQDM"),
        _f("GHFQMC", "规划分区名称", T, "分区名称", "规划分区", "FQMC"),
        _f("DYBH", "单元编号", T, "单元代码", "单元编码", "规划单元编号", "DYDM", "DYBM"),
        _f("DYMC", "单元名称", T, "规划单元名称"),
        _f("DKBH", "地块编号", T, "地块代码", "地块编码", "DKDM", "DKBM", "DKH"),
        _f(
            "RJL",
            "容积率",
            R,
            "容积率上限",
            "FAR",
            "RONGJILV",
            unit="",
            minimum=0,
            maximum=30,
            exclusive_minimum=True,
        ),
        _f("JZMD", "建筑密度", R, "建筑密度上限", "JIANZHUMIDU", unit="%", minimum=0, maximum=100),
        _f("LDL", "绿地率", R, "绿地率下限", "LVDILV", unit="%", minimum=0, maximum=100),
        _f(
            "JZXG",
            "建筑限高",
            R,
            "限高",
            "建筑高度",
            "建筑高度上限",
            "XIANGAO",
            unit="m",
            minimum=0,
            maximum=1000,
            exclusive_minimum=True,
        ),
        _f("PTSS", "配套设施", T, "公共服务设施", "配套", "GGSS"),
        _f("JSYDGM", "建设用地规模", R, "建设用地面积", "JSYDMJ", unit="m2", minimum=0),
        _f("JZYDGM", "居住用地规模", R, "居住用地面积", "JZYDMJ", unit="m2", minimum=0),
        _f(
            "GGFWYDGM",
            "公共管理与公共服务用地规模",
            R,
            "公共服务设施用地规模",
            "公服用地规模",
            "GFYDGM",
            unit="m2",
            minimum=0,
        ),
        _f(
            "LDKJYDGM",
            "绿地与开敞空间用地规模",
            R,
            "绿地规模",
            "绿地面积",
            "LDGM",
            unit="m2",
            minimum=0,
        ),
        _f("XMMC", "项目名称", T, "名称", "MC", "NAME"),
        _f("XMDM", "项目代码", T, "项目编号", "XMBH"),
        _f("XMLX", "项目类型", T, "项目类别", "XMLB"),
        _f("PZLX", "批准类型", T, "审批类型", "批复类型", "SPLX", "PFLX"),
        _f("PZWH", "批准文号", T, "批复文号", "审批文号", "PFWH", "SPWH"),
        _f("PZRQ", "批准日期", D, "批复日期", "审批日期", "PFRQ", "SPRQ"),
        _f("HDLX", "人为活动类型", T, "有限人为活动类型", "活动类型", "YXHDLX"),
        _f("ZDXMLX", "重大项目类型", T, "重大建设项目类型", "重点建设项目类型"),
        _f("PZJG", "批准机关", T, "审批机关", "批准机构", "SPJG"),
        _f("ZXLX", "专项类型", T, "专项规划类型", "设施类型", "SSLX"),
        _f("DLDJ", "道路等级", T, "等级", "DJ"),
        _f(
            "KD",
            "宽度",
            R,
            "路宽",
            "道路宽度",
            "红线宽度",
            "DLKD",
            "WIDTH",
            unit="m",
            minimum=0,
            exclusive_minimum=True,
        ),
        _f("XZGDMJ", "新增耕地面积", R, "计划新增耕地", "XZGD", unit="m2", minimum=0),
        _f("JSYDJSMJ", "建设用地减少面积", R, "建设用地减少", unit="m2", minimum=0),
        _f("STXFMJ", "生态修复面积", R, "生态修复", unit="m2", minimum=0),
        _f("JD", "进度", R, "完成进度", "实施进度", unit="%", minimum=0, maximum=100),
        _f("QSXRQ", "前时相日期", D, "前时相", "前时相影像日期", "QSX"),
        _f("HSXRQ", "后时相日期", D, "后时相", "后时相影像日期", "HSX"),
        _f("BHLX", "变化类型", T, "变化类别"),
        _f("SJNF", "数据年份", INT, "年份", "年度", unit="a", minimum=1949, maximum=2100),
        _f(
            "GDDB",
            "耕地质量等别",
            INT,
            "质量等别",
            "耕地等别",
            "ZLDB",
            "GDZLDB",
            minimum=1,
            maximum=15,
        ),
        _f("AJLX", "案件类型", T, "案件类别"),
        _f("AJLXMC", "案件类型名称", T),
        _f("ZT", "状态", T, "核查状态", "案件状态"),
        _f("PZXMMJ", "已批项目内面积", R, unit="m2", minimum=0),
        _f("HPXMMJ", "后批项目内面积", R, unit="m2", minimum=0),
        _f("HXNMJ", "生态保护红线内面积", R, "红线内面积", unit="m2", minimum=0),
        _f("ZYJBNTMJ", "占用永久基本农田面积", R, "占用基本农田面积", unit="m2", minimum=0),
        _f("KFBJWMJ", "城镇开发边界外面积", R, "开发边界外面积", unit="m2", minimum=0),
        _f("HCR", "核查人", T, "核查人员"),
        _f("HCRQ", "核查日期", D, "核查时间"),
        _f("HCJL", "核查结论", T, "核查意见"),
        _f("ZGQK", "整改情况", T, "整改措施"),
    )
}


def get_field(name: str) -> StandardField:
    """Return the standard field called ``name`` (e.g. ``RJL``)."""
    try:
        return FIELDS[name.upper()]
    except KeyError:
        raise ConfigError(
            f"There is no standard field {name!r}.",
            fix=f"Use one of: {', '.join(sorted(FIELDS))}.",
            message_zh=f"没有标准字段 {name!r}。",
            fix_zh=f"请使用以下之一：{'、'.join(sorted(FIELDS))}。",
        ) from None


def field_label(name: str, lang: str = "zh") -> str:
    """A field as a person reads it: a standard field by its Chinese name with its code
    (``重大项目类型（ZDXMLX）``; in English the code alone), any other field as it is.

    Examples
    --------
    >>> field_label("ZDXMLX"), field_label("PZJG", "en"), field_label("备注")
    ('重大项目类型（ZDXMLX）', 'PZJG', '备注')
    """
    std = FIELDS.get(name)
    if std is None or lang == "en":
        return name
    return f"{std.name_zh}（{name}）"


def field_key(name: str) -> str:
    """``name`` as field names and aliases are compared: without spaces, underscores,
    dashes and brackets, upper-cased.

    Examples
    --------
    >>> field_key("容积率 (上限)"), field_key("dk_bh")
    ('容积率上限', 'DKBH')
    """
    return re.sub(r"[\s_\-（）()]", "", name).upper()


_ALIAS_INDEX: dict[str, str] = {}
for _sf in FIELDS.values():
    for _alias in (_sf.name, *_sf.aliases):
        _ALIAS_INDEX.setdefault(field_key(_alias), _sf.name)


def field_for_alias(name: str) -> str | None:
    """The standard field a column name stands for (its own name or a known Chinese or
    pinyin alias, compared by :func:`field_key`), or ``None``.

    Examples
    --------
    >>> field_for_alias("地块编号"), field_for_alias("备注")
    ('DKBH', None)
    """
    return _ALIAS_INDEX.get(field_key(name))

"""Layer roles of the one map: what a layer is and which standard fields it carries.

A *role* says what a layer is in the one map (生态保护红线, 详细规划地块 …): its geometry kind,
which standard fields (:mod:`guotu.domain.core.fields`) it has, which of them are required and
which field holds its land-use code. :func:`detect_field_mapping` maps a file's columns onto
the fields of a role.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from guotu.domain.core.fields import FIELDS, field_for_alias, field_key, get_field
from guotu.errors import ConfigError, NotFoundError

__all__ = [
    "ROLES",
    "ROLE_NAMES",
    "GeometryKind",
    "Role",
    "detect_field_mapping",
    "get_role",
    "role_name",
]


class GeometryKind(StrEnum):
    """Geometry kinds a role accepts."""

    POLYGON = "polygon"
    LINE = "line"
    POINT = "point"
    POLYGON_OR_LINE = "polygon_or_line"


@dataclass(frozen=True)
class Role:
    """What a layer is in the one map."""

    id: str
    name_zh: str
    name_en: str
    geometry: GeometryKind
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    code_field: str | None = None
    description: str = ""
    sub_zones: tuple[tuple[str, str], ...] = field(default=())
    id_field: str = "BSM"  # the field that names a feature in messages and findings


def _role(
    id: str,
    name_zh: str,
    name_en: str,
    geometry: GeometryKind,
    fields: Iterable[str],
    required: Iterable[str] = (),
    code_field: str | None = None,
    description: str = "",
    sub_zones: tuple[tuple[str, str], ...] = (),
    id_field: str = "BSM",
) -> Role:
    return Role(
        id,
        name_zh,
        name_en,
        geometry,
        tuple(fields),
        tuple(required),
        code_field,
        description,
        sub_zones,
        id_field,
    )


P, L = GeometryKind.POLYGON, GeometryKind.LINE

#: Every role, in the order a planner would list them.
ROLES: tuple[Role, ...] = (
    _role(
        "admin_boundary",
        "行政区/规划范围",
        "Administrative or plan boundary",
        P,
        ["XZQDM", "XZQMC"],
        ["XZQDM"],
        id_field="XZQDM",
    ),
    _role(
        "ecological_redline",
        "生态保护红线",
        "Ecological protection red line",
        P,
        ["BSM", "XZQDM", "LHLX", "MJ"],
    ),
    _role(
        "permanent_farmland",
        "永久基本农田",
        "Permanent basic farmland",
        P,
        ["BSM", "XZQDM", "YJJBNTTBBH", "DLBM", "GDPDJB", "MJ"],
    ),
    _role(
        "urban_boundary",
        "城镇开发边界",
        "Urban development boundary",
        P,
        ["BSM", "XZQDM", "GHFQDM", "GHFQMC", "MJ"],
        description="Sub-zones in GHFQMC/GHFQDM: 集中建设区, 弹性发展区, 特别用途区.",
        sub_zones=(("01", "城镇集中建设区"), ("02", "城镇弹性发展区"), ("03", "特别用途区")),
    ),
    _role(
        "planned_land_use",
        "规划用地",
        "Master-plan land use",
        P,
        ["BSM", "XZQDM", "YDYHFLDM", "YDYHFLMC", "MJ", "HDLX", "ZDXMLX", "PZJG"],
        ["YDYHFLDM"],
        "YDYHFLDM",
    ),
    _role(
        "detailed_unit",
        "详细规划单元",
        "Detailed-plan unit",
        P,
        [
            "DYBH",
            "DYMC",
            "XZQDM",
            "JSYDGM",
            "JZYDGM",
            "GGFWYDGM",
            "LDKJYDGM",
            "RJL",
            "JZMD",
            "LDL",
            "JZXG",
        ],
        ["DYBH"],
        id_field="DYBH",
    ),
    _role(
        "detailed_parcel",
        "详细规划地块",
        "Detailed-plan parcel",
        P,
        [
            "DKBH",
            "DYBH",
            "YDYHFLDM",
            "YDYHFLMC",
            "RJL",
            "JZMD",
            "LDL",
            "JZXG",
            "PTSS",
            "HDLX",
            "ZDXMLX",
            "PZJG",
        ],
        ["DKBH", "YDYHFLDM"],
        "YDYHFLDM",
        id_field="DKBH",
    ),
    _role(
        "special_plan",
        "专项规划",
        "Special plan (roads, pipelines …)",
        GeometryKind.POLYGON_OR_LINE,
        ["BSM", "XMMC", "ZXLX", "DLDJ", "KD", "HDLX", "ZDXMLX", "PZJG"],
    ),
    _role(
        "construction_project",
        "建设项目",
        "Approved construction project",
        P,
        [
            "XMMC",
            "XMDM",
            "XMLX",
            "PZLX",
            "PZWH",
            "PZRQ",
            "YDYHFLDM",
            "RJL",
            "JZMD",
            "LDL",
            "JZXG",
            "HDLX",
            "ZDXMLX",
            "PZJG",
        ],
        ["XMMC"],
        "YDYHFLDM",
        id_field="XMDM",
    ),
    _role(
        "consolidation_project",
        "土地整治项目",
        "Land-consolidation project",
        P,
        ["XMMC", "XMDM", "XZGDMJ", "JSYDJSMJ", "STXFMJ", "JD"],
        ["XMMC"],
        id_field="XMDM",
    ),
    _role(
        "land_survey",
        "现状地类图斑",
        "Current land survey parcels (三调/变更调查)",
        P,
        ["BSM", "TBBH", "DLBM", "DLMC", "TBMJ", "XZQDM", "SJNF", "GDDB"],
        ["DLBM"],
        "DLBM",
    ),
    _role(
        "change_patch",
        "变化图斑",
        "Remote-sensing change patches",
        P,
        ["TBBH", "QSXRQ", "HSXRQ", "BHLX", "XZQDM"],
        ["HSXRQ"],
        id_field="TBBH",
    ),
    _role(
        "monitoring_case",
        "监测案件",
        "Monitoring cases (change patches classified)",
        P,
        [
            "TBBH",
            "AJLX",
            "AJLXMC",
            "ZT",
            "HSXRQ",
            "BHLX",
            "XZQDM",
            "TBMJ",
            "PZXMMJ",
            "HPXMMJ",
            "HXNMJ",
            "ZYJBNTMJ",
            "KFBJWMJ",
            "XMDM",
            "HCR",
            "HCRQ",
            "HCJL",
            "ZGQK",
        ],
        ["TBBH", "AJLX", "ZT"],
        id_field="TBBH",
        description="Written by guotu monitor cases --record; statuses 待核查/核查属实/已整改/误报.",
    ),
)

_ROLE_INDEX: dict[str, Role] = {}
for _r in ROLES:
    _ROLE_INDEX[_r.id] = _r
    _ROLE_INDEX[_r.name_zh] = _r
_ROLE_INDEX["行政区"] = _ROLE_INDEX["规划范围"] = _ROLE_INDEX["admin_boundary"]


def get_role(name: str) -> Role:
    """Return the role with this id (``planned_land_use``) or Chinese name (``规划用地``).

    Examples
    --------
    >>> get_role("生态保护红线").id
    'ecological_redline'
    """
    role = _ROLE_INDEX.get(name.strip())
    if role is None:
        known = ", ".join(f"{r.id} ({r.name_zh})" for r in ROLES)
        close = difflib.get_close_matches(name.strip(), list(_ROLE_INDEX), n=1, cutoff=0.6)
        guess = _ROLE_INDEX[close[0]] if close else None
        raise NotFoundError(
            f"There is no layer role {name!r}."
            + (f" Did you mean {guess.id} ({guess.name_zh})?" if guess else ""),
            fix=f"Use one of: {known}.",
            message_zh=f"没有图层类型 {name!r}。"
            + (f"是否是“{guess.name_zh}”（{guess.id}）？" if guess else ""),
            fix_zh="请使用以下之一（中文名称或编号均可）："
            + "、".join(f"{r.name_zh}（{r.id}）" for r in ROLES)
            + "。",
        )
    return role


def detect_field_mapping(
    columns: Iterable[str],
    role: Role,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Map a file's column names to standard field names.

    Overrides (``{source column: standard name}``) win; then exact standard names; then the
    known Chinese and pinyin aliases. Only fields of ``role`` are mapped automatically, so a
    column called 名称 on a red-line layer stays as it is. Each standard field is mapped at most
    once; unmapped columns are kept under their own names by the importer.

    Examples
    --------
    >>> detect_field_mapping(["容积率", "地块编号", "备注"], get_role("detailed_parcel"))
    {'容积率': 'RJL', '地块编号': 'DKBH'}
    """
    columns = list(columns)
    overrides = dict(overrides or {})
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for source, target in overrides.items():
        std = get_field(target).name
        if source not in columns:
            raise ConfigError(
                f"--map {source}={target}: the file has no column {source!r}.",
                field=source,
                fix=f"Columns in the file: {', '.join(columns)}.",
                message_zh=f"--map {source}={target}：文件中没有列 {source!r}。",
                fix_zh=f"文件中的列：{'、'.join(columns)}。",
            )
        mapping[source] = std
        used.add(std)
    for source, std in mapping.items():
        if std in columns and std not in mapping:
            raise ConfigError(
                f"--map {source}={std}: the file already has a column {std}.",
                field=source,
                fix="Map that column instead, or rename one of them in the file.",
                message_zh=f"--map {source}={std}：文件中已有字段 {std}。",
                fix_zh="请改为映射该字段，或在源文件中把其中一个改名。",
            )
    allowed = set(role.fields)
    # Two passes: exact standard names first, so that a column already called RJL wins
    # over an alias such as 容积率上限 elsewhere in the same file.
    for exact in (True, False):
        for column in columns:
            if column in mapping:
                continue
            key = field_key(column)
            found = key if exact else field_for_alias(column)
            if found is None or found not in allowed or found in used:
                continue
            if exact and found not in FIELDS:
                continue
            mapping[column] = found
            used.add(found)
    return {c: mapping[c] for c in columns if c in mapping}


#: (Chinese, English) name of every role id, and of the indicator table.
ROLE_NAMES: Mapping[str, tuple[str, str]] = {
    **{r.id: (r.name_zh, r.name_en) for r in ROLES},
    "indicator_table": ("规划指标表", "indicator table"),
}


def role_name(role: str, lang: str = "zh", default: str | None = None) -> str:
    """The name of ``role`` in ``lang`` (anything but ``"en"`` is Chinese); ``default`` (the
    role id when not given) for a role that is not in :data:`ROLE_NAMES`.

    Examples
    --------
    >>> role_name("ecological_redline"), role_name("ecological_redline", "en")
    ('生态保护红线', 'Ecological protection red line')
    >>> role_name("no_such_role"), role_name("", default="GHYD")
    ('no_such_role', 'GHYD')
    """
    names = ROLE_NAMES.get(role)
    if names is None:
        return role if default is None else default
    return names[1] if lang == "en" else names[0]

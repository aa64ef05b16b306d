"""Plans, versions and the two time axes (valid time, record time).

A **plan** (某县国土空间总体规划, 某单元控制性详细规划 …) has **versions**. A version is
immutable once recorded. It has a *valid time* (in force from ``valid_from`` until
``valid_to``; open ends allowed) and a *record time* (``recorded_at``: when the system
learned it). An amendment is a version with a ``parent``: it shares the parent's features
and records only what it adds and retires.

Which version applies "as of" a date, "as known at" a moment, is decided here, purely:

* only approved versions count: status 批复 (approved), 修改 (amended) or 废止 (repealed);
* ``valid_from ≤ as_of < valid_to`` (a missing bound is open);
* ``recorded_at ≤ known_at``;
* among those, the one with the latest ``valid_from`` wins, then the latest ``recorded_at``
  (a retroactive correction recorded later for the same start supersedes the original);
* if the winner is a 废止 (repeal), no version is in force from its ``valid_from`` on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TypeVar

from guotu.errors import ConfigError, LayerError, NotFoundError

__all__ = [
    "DECIDING",
    "IN_FORCE",
    "PENDING",
    "Plan",
    "PlanLevel",
    "PlanType",
    "Version",
    "VersionStatus",
    "check_layer_name",
    "check_plan_name",
    "lineage",
    "parse_enum",
    "pending_versions",
    "version_in_force",
]


E = TypeVar("E", bound=StrEnum)

#: Longest layer name in UTF-8 bytes (16 Chinese characters, 48 letters): a layer name
#: becomes a table name, and PostgreSQL keeps 63 bytes of an identifier, of which a layer's
#: index names add 15 (``_guotu_added_in``).
LAYER_NAME_MAX_BYTES = 48
#: Longest plan name and version label, in characters.
PLAN_NAME_MAX_CHARS = 100
_LAYER_NAME = re.compile(r"[A-Za-z0-9_\u3400-\u9fff]+")
_RESERVED_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "guotu_", "pg_")
#: Characters a plan name or version label may not hold: markup, quotes, path separators
#: and control characters (names appear in web pages, URLs and file names).
_UNSAFE_TEXT = re.compile(r"[<>\"'`/\\\x00-\x1f\x7f]")


def check_layer_name(name: str) -> None:
    """Refuse a layer name that is not 字母、数字、汉字或下划线, starts with a reserved
    prefix or is longer than :data:`LAYER_NAME_MAX_BYTES`.

    Examples
    --------
    >>> check_layer_name("GHYD"), check_layer_name("城镇开发边界_2035")
    (None, None)
    >>> check_layer_name("../../etc/passwd")
    Traceback (most recent call last):
    ...
    guotu.errors.LayerError: '../../etc/passwd' cannot be a layer name. Fix: Use only letters, digits, Chinese characters and underscores (at most 48 bytes: 16 Chinese characters), not starting with gpkg_, rtree_, sqlite_, guotu_ or pg_.
    """
    fits = (
        bool(_LAYER_NAME.fullmatch(name))
        and len(name.encode("utf-8")) <= LAYER_NAME_MAX_BYTES
        and not name.lower().startswith(_RESERVED_PREFIXES)
    )
    if not fits:
        shown = name if len(name) <= 60 else name[:60] + "…"
        raise LayerError(
            f"{shown!r} cannot be a layer name.",
            fix=f"Use only letters, digits, Chinese characters and underscores (at most "
            f"{LAYER_NAME_MAX_BYTES} bytes: {LAYER_NAME_MAX_BYTES // 3} Chinese characters), "
            "not starting with gpkg_, rtree_, sqlite_, guotu_ or pg_.",
            message_zh=f"{shown!r} 不能用作图层名。",
            fix_zh=f"请只用字母、数字、汉字或下划线命名图层（最长 {LAYER_NAME_MAX_BYTES} 字节，即 "
            f"{LAYER_NAME_MAX_BYTES // 3} 个汉字），且不要以 gpkg_、rtree_、sqlite_、guotu_ 或 pg_ 开头。",
        )


def check_plan_name(name: str, what: str = "plan name", what_zh: str = "规划名称") -> None:
    """Refuse a plan name or version label that is empty, longer than
    :data:`PLAN_NAME_MAX_CHARS` or holds markup, quotes, slashes or control characters.

    Examples
    --------
    >>> check_plan_name("示范县国土空间总体规划（2021—2035年）")
    >>> check_plan_name("<img src=x onerror=alert(1)>")
    Traceback (most recent call last):
    ...
    guotu.errors.ConfigError: plan name '<img src=x onerror=alert(1)>' holds a character that is not allowed ('<'). Fix: Leave out < > " ' ` / \\ and control characters; at most 100 characters.
    """
    text = name.strip()
    bad = _UNSAFE_TEXT.search(text)
    if text and not bad and len(text) <= PLAN_NAME_MAX_CHARS:
        return
    shown = text if len(text) <= 60 else text[:60] + "…"
    problem = (
        f"holds a character that is not allowed ({bad.group()!r})"
        if bad
        else "is empty"
        if not text
        else f"is longer than {PLAN_NAME_MAX_CHARS} characters"
    )
    problem_zh = (
        f"含有不允许的字符 {bad.group()!r}"
        if bad
        else "为空"
        if not text
        else f"超过 {PLAN_NAME_MAX_CHARS} 个字符"
    )
    raise ConfigError(
        f"{what} {shown!r} {problem}.",
        fix=f"Leave out < > \" ' ` / \\ and control characters; at most {PLAN_NAME_MAX_CHARS} "
        "characters.",
        message_zh=f"{what_zh} {shown!r} {problem_zh}。",
        fix_zh=f"请不要使用 < > \" ' ` / \\ 和控制字符，长度不超过 {PLAN_NAME_MAX_CHARS} 个字符。",
    )


class PlanLevel(StrEnum):
    """Administrative level of a plan (规划层级)."""

    NATIONAL = "national"  # 国家
    PROVINCIAL = "provincial"  # 省
    MUNICIPAL = "municipal"  # 市
    COUNTY = "county"  # 县
    TOWNSHIP = "township"  # 乡镇


class PlanType(StrEnum):
    """Kind of plan (规划类型); ``survey`` holds 三调/变更调查 and other current-state data."""

    MASTER = "master"  # 总体规划
    DETAILED = "detailed"  # 详细规划
    SPECIAL = "special"  # 专项规划
    VILLAGE = "village"  # 村庄规划
    CONSOLIDATION = "consolidation"  # 土地整治规划
    SURVEY = "survey"  # 调查/现状数据
    DATA = "data"  # any other layer imported without a plan


class VersionStatus(StrEnum):
    """Procedural status of a version (版本状态)."""

    DRAFTING = "drafting"  # 编制中
    PUBLICITY = "publicity"  # 公示
    SUBMITTED = "submitted"  # 报批
    APPROVED = "approved"  # 批复
    AMENDED = "amended"  # 修改
    REPEALED = "repealed"  # 废止


#: Statuses under which a version is in force.
IN_FORCE = frozenset({VersionStatus.APPROVED, VersionStatus.AMENDED})
#: Statuses that take part in deciding what is in force (a repeal ends what came before).
DECIDING = IN_FORCE | {VersionStatus.REPEALED}
#: Statuses of versions on their way to approval (shown as pending by the site query).
PENDING = frozenset({VersionStatus.PUBLICITY, VersionStatus.SUBMITTED})

_ZH: Mapping[str, str] = {
    "国家": "national",
    "省": "provincial",
    "省级": "provincial",
    "市": "municipal",
    "市级": "municipal",
    "县": "county",
    "县级": "county",
    "乡镇": "township",
    "乡": "township",
    "镇": "township",
    "总体规划": "master",
    "详细规划": "detailed",
    "专项规划": "special",
    "村庄规划": "village",
    "土地整治规划": "consolidation",
    "调查": "survey",
    "现状": "survey",
    "数据": "data",
    "编制中": "drafting",
    "公示": "publicity",
    "报批": "submitted",
    "批复": "approved",
    "修改": "amended",
    "废止": "repealed",
}


def parse_enum(kind: type[E], value: str | E, what: str) -> E:
    """Parse ``value`` (English id or Chinese name) as a member of ``kind``.

    Examples
    --------
    >>> parse_enum(VersionStatus, "批复", "--status")
    <VersionStatus.APPROVED: 'approved'>
    """
    if isinstance(value, kind):
        return value
    text = str(value).strip()
    try:
        return kind(_ZH.get(text, text).lower())
    except ValueError:
        zh = {v: k for k, v in _ZH.items()}
        known = ", ".join(f"{m.value} ({zh.get(m.value, '')})" for m in kind)
        known_zh = "、".join(
            f"{zh[m.value]}（{m.value}）" if m.value in zh else m.value for m in kind
        )
        raise ConfigError(
            f"{what}: {value!r} is not one of {known}.",
            fix=f"Use one of: {known}.",
            message_zh=f"{what}：{value!r} 不是可选值。",
            fix_zh=f"可选值（中文名称或编号均可）：{known_zh}。",
        ) from None


@dataclass(frozen=True)
class Plan:
    """A plan: name, level, type, jurisdiction and the upper-level plan it must conform to."""

    id: int
    name: str
    level: PlanLevel
    type: PlanType
    xzqdm: str = ""
    parent_plan_id: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Version:
    """One recorded version of a plan. Immutable once recorded."""

    id: int
    plan_id: int
    label: str
    status: VersionStatus
    recorded_at: datetime
    parent_id: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    approval_no: str = ""  # 批复文号
    approval_organ: str = ""  # 批复机关
    approval_date: date | None = None
    author: str = ""
    reason: str = ""

    def is_valid_on(self, day: date) -> bool:
        """Whether ``day`` lies in the valid time (status aside)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


def _candidates(
    versions: Iterable[Version], as_of: date, known_at: datetime, statuses: frozenset[VersionStatus]
) -> list[Version]:
    return [
        v
        for v in versions
        if v.status in statuses and v.recorded_at <= known_at and v.is_valid_on(as_of)
    ]


def version_in_force(
    versions: Iterable[Version], as_of: date, known_at: datetime
) -> Version | None:
    """The version in force on ``as_of`` as recorded by ``known_at``, or ``None``.

    Examples
    --------
    >>> t = datetime(2024, 1, 1)
    >>> v1 = Version(1, 1, "2021版", VersionStatus.APPROVED, t, valid_from=date(2021, 5, 1))
    >>> v2 = Version(2, 1, "2023修改", VersionStatus.AMENDED, datetime(2024, 7, 1), parent_id=1,
    ...              valid_from=date(2023, 9, 1))
    >>> version_in_force([v1, v2], date(2024, 6, 1), datetime(2024, 7, 2)).label
    '2023修改'
    >>> version_in_force([v1, v2], date(2024, 6, 1), datetime(2024, 6, 2)).label
    '2021版'
    """
    found = _candidates(versions, as_of, _naive_utc(known_at), DECIDING)
    if not found:
        return None
    winner = max(found, key=lambda v: (v.valid_from or date.min, v.recorded_at, v.id))
    return None if winner.status == VersionStatus.REPEALED else winner


def _naive_utc(moment: datetime) -> datetime:
    """Record times are kept as naive UTC; an aware moment is converted to it."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def pending_versions(versions: Iterable[Version], known_at: datetime) -> list[Version]:
    """Versions on their way to approval (公示, 报批) known at ``known_at``, newest first."""
    known_at = _naive_utc(known_at)
    found = [v for v in versions if v.status in PENDING and v.recorded_at <= known_at]
    return sorted(found, key=lambda v: (v.recorded_at, v.id), reverse=True)


def lineage(version_id: int, versions: Mapping[int, Version]) -> list[int]:
    """Ids from the root ancestor down to ``version_id`` (an amendment's features are those
    added along this chain and not retired along it).

    Examples
    --------
    >>> t = datetime(2024, 1, 1)
    >>> vs = {1: Version(1, 1, "a", VersionStatus.APPROVED, t),
    ...       2: Version(2, 1, "b", VersionStatus.AMENDED, t, parent_id=1),
    ...       3: Version(3, 1, "c", VersionStatus.AMENDED, t, parent_id=2)}
    >>> lineage(3, vs)
    [1, 2, 3]
    """
    chain: list[int] = []
    seen: set[int] = set()
    current: int | None = version_id
    while current is not None:
        if current in seen:
            raise ValueError(f"version {version_id} has a cycle in its parents")
        if current not in versions:
            raise NotFoundError(
                f"There is no version {current}.", message_zh=f"不存在版本 {current}。"
            )
        seen.add(current)
        chain.append(current)
        current = versions[current].parent_id
    return chain[::-1]

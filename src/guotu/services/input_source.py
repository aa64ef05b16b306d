"""Where a monitoring run's targets (规划目标) and statistics (社会经济统计) came from: the
workspace's table of that kind in force, a file given for the run, or none
(:class:`InputSource`); and the two kinds of table (:data:`TABLE_KINDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from guotu.domain.core.catalog import TableVersion
from guotu.domain.core.plan_labels import (
    TABLE_NAMES,
    is_implicit_plan,
    plan_label,
    plan_version_label,
)
from guotu.errors import ConfigError

__all__ = ["TABLE_KINDS", "InputSource", "check_kind", "local_time"]

#: The workspace tables monitoring reads, by kind: (Chinese name, English name).
TABLE_KINDS: Mapping[str, tuple[str, str]] = TABLE_NAMES


def check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`TABLE_KINDS`.

    Examples
    --------
    >>> check_kind("targets")
    'targets'
    """
    if kind not in TABLE_KINDS:
        raise ConfigError(
            f"There is no monitoring table {kind!r}.",
            fix=f"Use one of: {', '.join(TABLE_KINDS)}.",
            message_zh=f"没有名为 {kind!r} 的监测表。",
            fix_zh=f"可选：{'、'.join(TABLE_KINDS)}。",
        )
    return kind


def local_time(recorded_at: datetime) -> str:
    """A record time (kept in UTC) as this machine's local time, as ``--known-at`` takes it.

    Examples
    --------
    >>> len(local_time(datetime(2026, 12, 7, 5, 30)))
    16
    """
    return recorded_at.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class InputSource:
    """Where a run's targets or statistics came from.

    ``origin`` is ``"workspace"`` (``table``: the recording read), ``"file"`` (``file``: the
    path given; ``table``: the workspace's own recording it overrides, if any) or ``"none"``
    (``table``: ``None``; ``as_of`` says for which date nothing was in force)."""

    kind: str
    origin: str
    file: str = ""
    table: TableVersion | None = None
    as_of: date | None = None

    def to_dict(self, *, bare_names: bool = False) -> dict[str, Any]:
        """JSON-ready dict; ``bare_names`` leaves directories out of file names (HTTP)."""

        def name(text: str) -> str:
            return Path(text).name if bare_names and text else text

        table = (
            None
            if self.table is None
            else {
                **self.table.to_dict(),
                "source": name(self.table.source),
                "plan_version_label": plan_version_label(self.table.plan, self.table.version.label),
            }
        )
        used = self.origin == "workspace"
        return {
            "from": self.origin,
            "file": name(self.file) or None,
            "table": table if used else None,
            "overridden_table": None if used else table,
        }

    def describe(self, lang: str = "zh") -> str:
        """One sentence saying where the values came from (terminal and server output).

        Examples
        --------
        >>> InputSource("targets", "file", "规划目标.xlsx").describe()
        '规划目标：文件 规划目标.xlsx。'
        >>> InputSource("statistics", "none").describe()  # doctest: +ELLIPSIS
        '社会经济统计：无（工作空间没有生效的社会经济统计表（statistics）；...'
        >>> InputSource("statistics", "none").describe("en")  # doctest: +ELLIPSIS
        'Statistics: none (the workspace has no statistics table in force; ...'
        """
        zh_name, en_name = TABLE_KINDS[self.kind]
        en_name = en_name.capitalize()
        table_zh = f"{zh_name}表（{self.kind}）"  # 规划目标表（targets）: its name, then its id
        t = self.table
        if t is not None:
            v = t.version
            when = local_time(v.recorded_at)
            src_zh = f"，导入自 {t.source}" if t.source else ""
            src_en = f", from {t.source}" if t.source else ""
            # a table recorded in a plan of the bureau's names the plan; an implicit plan
            # (table:targets) is the table itself, already named
            plan_zh = "" if is_implicit_plan(t.plan) else f"规划 {plan_label(t.plan)}，"
            plan_en = "" if is_implicit_plan(t.plan) else f"plan {plan_label(t.plan, 'en')}, "
            version_zh = (
                f"工作空间的{table_zh}的版本 {v.label}（{plan_zh}{when} 登记"
                f"{src_zh}，{t.rows} 个数值）"
            )
            version_en = (
                f"version {v.label} of the workspace's {self.kind} table ("
                f"{plan_en}recorded {when}{src_en}, {t.rows} values)"
            )
        if self.origin == "workspace" and t is not None:
            return f"{zh_name}：{version_zh}。" if lang == "zh" else f"{en_name}: {version_en}."
        if self.origin == "file":
            if lang == "zh":
                return f"{zh_name}：文件 {self.file}" + (
                    f"；本次运行以它代替{version_zh}。" if t is not None else "。"
                )
            return f"{en_name}: file {self.file}" + (
                f", used for this run instead of {version_en}." if t is not None else "."
            )
        when_zh = f"在 {self.as_of.isoformat()} " if self.as_of else ""
        when_en = f" on {self.as_of.isoformat()}" if self.as_of else ""
        if lang == "zh":
            return (
                f"{zh_name}：无（工作空间{when_zh}没有生效的{table_zh}；可用 guotu monitor "
                f"{self.kind} import 文件 -w 工作空间 导入）。"
            )
        return (
            f"{en_name}: none (the workspace has no {self.kind} table in "
            f"force{when_en}; import one with guotu monitor {self.kind} import FILE -w "
            "WORKSPACE)."
        )

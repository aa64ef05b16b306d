"""What the ``guotu case`` commands read from their command line: the engine's setup from the
settings, the site of an application (a GeoJSON file or a WKT text), planned indicators and
materials (``FIELD=VALUE``, ``名称=FILE``), and outcomes and opinions in Chinese or by id.

Every refusal is an :class:`~guotu.errors.InputError` (exit 2) naming what was given: the file,
the option, the value, and what would do instead.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from guotu.domain.workflow.definition import Stage, Workflow
from guotu.errors import GuotuError, InputError
from guotu.services.approval_setup import ApprovalSetup, setup_from_settings
from guotu.services.site_parsing import parse_polygon
from guotu.settings import load_settings

__all__ = [
    "OPINION_WORDS",
    "OUTCOME_WORDS",
    "Moment",
    "SiteMaterial",
    "approval_setup",
    "check_materials",
    "check_opinion",
    "check_outcome",
    "opinion_value",
    "outcome_value",
    "parse_indicators",
    "read_material",
    "read_materials",
    "read_site",
]

#: Outcomes typed in Chinese (the id is accepted as well).
OUTCOME_WORDS: dict[str, str] = {
    "完成": "done",
    "办结": "done",
    "受理": "done",
    "补正": "supplement",
    "批准": "approved",
    "准予": "approved",
    "通过": "approved",
    "同意": "approved",
    "有条件批准": "conditional",
    "有条件同意": "conditional",
    "不予批准": "rejected",
    "不予许可": "rejected",
    "不同意": "rejected",
    "驳回": "rejected",
}
#: Opinions of a co-review typed in Chinese (the id is accepted as well).
OPINION_WORDS: dict[str, str] = {"同意": "agree", "有条件同意": "conditional", "不同意": "disagree"}

#: The time the engine records events at; a test replaces it to fix the clock.
_clock: Callable[[], datetime] = datetime.now


def approval_setup() -> ApprovalSetup:
    """The engine's setup from the settings (``GUOTU_*``), as the server builds it
    (:func:`~guotu.services.approval_setup.setup_from_settings`): the issuing authority, the
    public address printed on documents, the procedure profiles, the holiday arrangement and
    the notices' outbox; the clock is :data:`_clock`."""
    return setup_from_settings(load_settings(), now=lambda: _clock())


class Moment(click.DateTime):
    """A moment typed as ``YYYY-MM-DD HH:MM`` (or with seconds); a date alone means the end
    of that day (the case as it stood when the day's work was done)."""

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        out = super().convert(value, param, ctx)
        if isinstance(value, str) and len(value.strip()) == len("2026-01-01"):
            out = out.replace(hour=23, minute=59, second=59)
        return out


# -- the site --------------------------------------------------------------------------------
def _site_error(where: str, exc: GuotuError) -> InputError:
    return InputError(
        f"The site {where} is not usable: {exc.render('en')}",
        file=where if not where.startswith("--") else None,
        message_zh=f"用地范围 {where} 无效：{exc.render('zh')}",
        fix="Give a Polygon or MultiPolygon in the workspace CRS (or name its CRS with --crs).",
        fix_zh="请给出工作空间坐标系下的面（Polygon 或 MultiPolygon），或用 --crs 注明其坐标系。",
    )


def read_site(
    path: Path | None, wkt: str | None, crs: str | None, workspace: CRS | None
) -> BaseGeometry:
    """The site of an application in the workspace CRS, from ``--site FILE`` (GeoJSON: a
    geometry, a Feature or a FeatureCollection of one feature) or ``--site-wkt``.

    Raises
    ------
    InputError
        Neither or both given, the workspace has no CRS yet, or the file or text is not a
        valid polygon (naming the file).
    """
    if (path is None) == (wkt is None):
        raise InputError(
            "Give the site with exactly one of --site FILE or --site-wkt.",
            message_zh="请用 --site 或 --site-wkt 之一给出用地范围（只给一个）。",
        )
    if workspace is None:
        raise InputError(
            "The workspace has no CRS yet (no layer), so the site's coordinates cannot be read.",
            fix="Import the one map's layers first (guotu import).",
            message_zh="工作空间尚无坐标参考系（还没有图层），无法读取用地范围的坐标。",
            fix_zh="请先导入一张图的图层（guotu import）。",
        )
    if path is not None:
        try:
            doc: Any = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"Cannot read the site file {path}: {exc}.",
                file=str(path),
                message_zh=f"无法读取用地范围文件 {path}（须为 UTF-8 编码的 GeoJSON）。",
            ) from None
        where = str(path)
    else:
        where = "--site-wkt"
        try:
            geom = shapely.from_wkt(str(wkt))
        except (shapely.errors.GEOSException, ValueError, TypeError):
            raise InputError(
                f"--site-wkt {wkt!r} is not a WKT geometry.",
                message_zh=f"--site-wkt 的值 {wkt!r} 不是有效的几何文本。",
                fix_zh="请写成如 POLYGON((X Y, X Y, X Y, X Y)) 的形式。",
            ) from None
        doc = json.loads(shapely.to_geojson(geom)) if geom is not None else None
    try:
        return parse_polygon(doc, crs, workspace, max_vertices=100_000).geometry
    except InputError as exc:  # GeometryError and CRSError too: the file or text named
        raise _site_error(where, exc) from exc


# -- indicators and materials ----------------------------------------------------------------
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


def parse_indicators(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``FIELD=VALUE`` pairs as planned indicators: a number as a number (``RJL=2.0``), a
    code as written (``YDYHFLDM=0701`` keeps its leading zero).

    Examples
    --------
    >>> parse_indicators(("RJL=2.0", "YDYHFLDM=0701", "JZXG=24"))
    {'RJL': 2.0, 'YDYHFLDM': '0701', 'JZXG': 24.0}
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(
                f"--indicator {pair!r} is not FIELD=VALUE.",
                message_zh=f"--indicator 的值 {pair!r} 不是“字段=值”的形式。",
                fix_zh="请写成如 RJL=2.0 或 YDYHFLDM=0701 的形式。",
            )
        out[key] = float(value) if _NUMBER.fullmatch(value) else value
    return out


@dataclass(frozen=True)
class SiteMaterial:
    """A material handed in with an application: its name, the file and its bytes."""

    name: str
    path: Path
    content: bytes

    @property
    def media_type(self) -> str:
        return mimetypes.guess_type(self.path.name)[0] or "application/octet-stream"


def read_material(name: str, path: Path) -> SiteMaterial:
    """The material ``name`` in the file at ``path``, read (before anything is recorded).

    Raises
    ------
    InputError
        The file cannot be read (naming it).
    """
    try:
        content = path.read_bytes()
    except OSError:
        raise InputError(
            f"Cannot read the material file {path}.",
            file=str(path),
            message_zh=f"无法读取材料文件 {path}。",
            fix_zh="请核对文件路径。",
        ) from None
    return SiteMaterial(name.strip(), path, content)


def read_materials(pairs: tuple[str, ...]) -> list[SiteMaterial]:
    """``名称=FILE`` pairs, each file read (:func:`read_material`).

    Raises
    ------
    InputError
        A pair without ``=``, or a file that cannot be read (naming it).
    """
    out = []
    for pair in pairs:
        name, sep, where = pair.partition("=")
        if not sep or not name.strip() or not where.strip():
            raise InputError(
                f"--material {pair!r} is not NAME=FILE.",
                message_zh=f"--material 的值 {pair!r} 不是“材料名称=文件”的形式。",
                fix_zh="请写成如 建设工程规划许可证申请表=申请表.pdf 的形式。",
            )
        out.append(read_material(name, Path(where.strip())))
    return out


def check_materials(flow: Workflow, materials: list[SiteMaterial]) -> None:
    """Refuse, before the case is recorded, a material ``flow`` does not ask for or a file
    type it does not accept for it (the service checks again when it keeps the file)."""
    from guotu.services.approval_as_built import AS_BUILT_MATERIAL

    asked = {m.name_zh: m for s in flow.stages.values() for m in s.materials}
    for m in materials:
        wanted = asked.get(m.name)
        if wanted is None and m.name != AS_BUILT_MATERIAL:
            raise InputError(
                f"{flow.name_en} asks for no material {m.name!r}.",
                message_zh=f"“{flow.name_zh}”不要求“{m.name}”；可提交的材料：{'、'.join(asked)}。",
            )
        types = wanted.types if wanted is not None else ("gpkg", "geojson", "zip")
        suffix = m.path.suffix.lower().lstrip(".")
        if types and suffix not in types:
            raise InputError(
                f"{m.name} must be a {', '.join(types)} file; {m.path.name} is not.",
                file=str(m.path),
                message_zh=f"“{m.name}”须为 {'、'.join(types)} 文件，{m.path.name} 不是。",
            )


# -- outcomes and opinions -------------------------------------------------------------------
def outcome_value(text: str) -> str:
    """An outcome typed in Chinese or by id, as its id.

    Examples
    --------
    >>> outcome_value("有条件批准"), outcome_value("done")
    ('conditional', 'done')
    """
    word = text.strip()
    return OUTCOME_WORDS.get(word, word)


def opinion_value(text: str) -> str:
    """An opinion typed in Chinese or by id, as its id (``agree``, ``conditional``,
    ``disagree``); anything else is refused listing them.

    Examples
    --------
    >>> opinion_value("有条件同意")
    'conditional'
    """
    word = text.strip()
    value = OPINION_WORDS.get(word, word)
    if value not in OPINION_WORDS.values():
        raise InputError(
            f"An opinion is agree, conditional or disagree, not {text!r}.",
            message_zh=f"意见须为 同意、有条件同意 或 不同意，不能是“{text}”。",
        )
    return value


def check_opinion(value: str, conditions: tuple[str, ...], note: str) -> None:
    """Refuse a conditional opinion without its conditions, or a disagreement without its
    reasons (the service refuses them too; here before the workspace is opened)."""
    if value != "agree" and not (conditions or note.strip()):
        raise InputError(
            "A conditional opinion names its conditions (--condition), a disagreement its "
            "reasons (--note).",
            message_zh="有条件同意须写明条件（--condition），不同意须写明理由（--note）。",
        )


def check_outcome(stage: Stage, value: str, typed: str, names: Callable[[str], str]) -> None:
    """Refuse an outcome ``value`` (``typed`` so) that ``stage`` (one a person acts in) does
    not have, listing those it has by ``names`` (id → how the run writes it)."""
    if value in stage.outcomes or stage.is_end or stage.kind in ("automatic", "co_review"):
        return
    listed_zh = "、".join(names(o) for o in stage.outcomes)
    raise InputError(
        f"Stage {stage.name_en or stage.id} has no outcome {typed!r}; its outcomes: "
        f"{', '.join(stage.outcomes)}.",
        message_zh=f"“{stage.name_zh}”环节没有“{typed}”这一结果，可选：{listed_zh}。",
    )

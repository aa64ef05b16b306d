"""Plan review (成果审查): load rule packs, gather the layers a review needs, run, stamp.

A review reviews one *source* against the workspace:

* a layer already in the workspace (the default: the layer of the review kind's role, or
  ``layer=``), read as of a date;
* a recorded plan version (``PLAN@LABEL``): the plan's layer of that role in that version;
* a file (Shapefile, GeoPackage, GeoJSON …): imported into a throw-away memory workspace in
  the workspace's CRS with the usual field mapping and checks, so the workspace is never
  touched; for the indicator review, a CSV/XLSX indicator table.

The control lines, master plan and units it is checked against are read from the workspace
as of ``as_of``/``known_at``; the report is stamped with the rule pack, its hash and the
version of every layer read.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

from guotu.domain.core.findings import Severity
from guotu.domain.core.layers import LayerData, as_text
from guotu.domain.review.evaluate import IndicatorRow, ReviewContext, ReviewFinding, SkippedRule
from guotu.domain.review.operators import OPERATORS, run_review
from guotu.domain.review.pack import (
    KINDS,
    PackProblem,
    Rule,
    RulePack,
    apply_profile,
    pack_error,
    pack_hash,
    parse_pack,
)
from guotu.errors import ConfigError, LayerError, NotFoundError, RulePackError
from guotu.io.readers import read_attribute_table
from guotu.io.safe_yaml import load_yaml
from guotu.services.checking import read_layer_data
from guotu.services.layer_choice import check_chosen_layers, layer_of_role

__all__ = [
    "BUILTIN_PACKS",
    "LayerRead",
    "ReviewReport",
    "find_pack",
    "load_rule_pack",
    "read_indicator_table",
    "review_plan",
    "validate_pack_files",
]

log = logging.getLogger(__name__)

#: Packs shipped in the package (``guotu/rulesets``), by id.
BUILTIN_PACKS = ("cn-base", "sd-example")

_INDICATOR_COLUMNS = {
    "name": ("指标名称", "指标", "ZBMC", "name", "indicator"),
    "unit": ("单位", "DW", "unit"),
    "planned": ("规划目标值", "规划值", "目标值", "规划目标", "规划期末", "GHZ", "planned"),
    "allocated": (
        "上级下达值",
        "下达值",
        "上级分解值",
        "上级下达指标",
        "上级指标",
        "分解下达值",
        "XDZ",
        "allocated",
    ),
    "attribute": ("指标属性", "属性", "ZBSX", "attribute"),
}


def _read_yaml(path: str | Path) -> tuple[str, Any]:
    """(source, document) of a pack or profile file, read by the capped safe loader."""
    p = Path(path)
    return str(p), load_yaml(p, what_zh="规则包", what_en="rule pack", error=RulePackError)


def find_pack(name: str | Path) -> Path:
    """The file of a pack: a path, or the id of a built-in pack (``cn-base``).

    Examples
    --------
    >>> find_pack("cn-base").name
    'cn-base.yaml'
    """
    p = Path(name)
    if p.suffix.lower() in (".yaml", ".yml", ".json") or p.exists():
        return p
    builtin = files("guotu") / "rulesets" / f"{name}.yaml"
    if builtin.is_file():
        return Path(str(builtin))
    raise RulePackError(
        f"There is no rule pack {name!r}.",
        fix=f"Give a YAML file or one of the built-in packs: {', '.join(BUILTIN_PACKS)}.",
        message_zh=f"没有名为 {name!r} 的规则包。",
        fix_zh=f"请指定 YAML 文件，或内置规则包之一：{'、'.join(BUILTIN_PACKS)}。",
    )


def _schema_problems(source: str, data: Any) -> list[PackProblem]:
    schema = json.loads(
        (files("guotu") / "schemas" / "rulepack-v1.json").read_text(encoding="utf-8")
    )
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(x) for x in e.path])
    out = []
    for e in errors:
        message = e.message
        if (
            e.validator == "type"
            and isinstance(e.instance, int)
            and not isinstance(e.instance, bool)
            and "string" in str(e.validator_value)
        ):
            message += ' (quote codes, e.g. "0701": unquoted, YAML reads 0701 as the number 449)'
        out.append(PackProblem(source, e.json_path, message))
    return out


def _document(path: str | Path, problems: list[PackProblem]) -> tuple[str, Any, bool]:
    """(source, document, whether it follows the schema); schema problems are collected."""
    source, data = _read_yaml(find_pack(path))
    found = _schema_problems(source, data)
    problems.extend(found)
    return source, data, not found


def _semantic_pass(fn: Any, *args: Any, **kw: Any) -> Any:
    """Run a parse step on a document that broke the schema, to list its other problems too;
    shapes the schema already refused may make it fail, which adds nothing new."""
    try:
        return fn(*args, **kw)
    except (TypeError, AttributeError, ValueError, KeyError):
        return None


def load_rule_pack(
    pack: str | Path = "cn-base",
    profile: str | Path | None = None,
    *,
    problems: list[PackProblem] | None = None,
) -> RulePack:
    """Load, validate and layer a rule pack and an optional profile.

    Every problem (schema, ids, operators, code sets, overrides) is collected;
    :class:`RulePackError` lists them all, each with its file and JSON path.

    Examples
    --------
    >>> p = load_rule_pack("cn-base", "sd-example")
    >>> p.profile, p.rule("sanqu.redline.construction").severity.value
    ('sd-example', 'error')
    """
    collect = problems if problems is not None else []
    ops = OPERATORS.names()
    source, data, ok = _document(pack, collect)
    if isinstance(data, dict) and "profile" in data:
        collect.append(
            PackProblem(
                source,
                "$.profile",
                "this is a profile; give it with --profile and its base pack with --rules",
            )
        )
        data = None
    if not isinstance(data, dict):
        data = None
    if data is not None and ok:
        base = parse_pack(data, source=source, known_operators=ops, problems=collect)
    else:
        if data is not None:  # list the semantic problems too, as far as they can be seen
            _semantic_pass(parse_pack, data, source=source, known_operators=ops, problems=collect)
        base, data = RulePack("", "", "", "", ()), None
    result = base
    if profile is not None:
        psource, pdata, pok = _document(profile, collect)
        if isinstance(pdata, dict) and "pack" in pdata:
            collect.append(PackProblem(psource, "$.pack", "this is a base pack, not a profile"))
            pdata = None
        if isinstance(pdata, dict) and data is not None:
            if pok:
                result = apply_profile(
                    base, pdata, source=psource, known_operators=ops, problems=collect
                )
            else:
                _semantic_pass(
                    apply_profile,
                    base,
                    pdata,
                    source=psource,
                    known_operators=ops,
                    problems=collect,
                )
    if problems is None and collect:
        raise pack_error(source if profile is None else f"{source} + {profile}", collect)
    return result


def validate_pack_files(
    pack: str | Path, profile: str | Path | None = None
) -> tuple[RulePack | None, list[PackProblem]]:
    """Every problem of a pack (and profile), for ``guotu rules validate``."""
    problems: list[PackProblem] = []
    result = load_rule_pack(pack, profile, problems=problems)
    return (None if problems else result), problems


# -- sources ------------------------------------------------------------------------------------
def _pick(frame_cols: Iterable[str], names: Sequence[str]) -> str | None:
    cols = {str(c).strip(): str(c) for c in frame_cols}
    for n in names:
        if n in cols:
            return cols[n]
    return None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        x = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return None if np.isnan(x) else x


def read_indicator_table(path: str | Path) -> list[IndicatorRow]:
    """Read a 规划指标表 (CSV/XLSX): name, unit, planned value, upper-level allocation.

    Columns are found by their usual Chinese or coded names (指标名称/ZBMC, 单位/DW,
    规划目标值/GHZ, 上级下达值/XDZ, 指标属性).

    Raises
    ------
    LayerError
        A missing column, or a value that is not a number (naming the row and column).
    """
    frame = read_attribute_table(path)
    header = 0
    if _pick(frame.columns, _INDICATOR_COLUMNS["name"]) is None:
        # a title row or two above the header (常见：第一行为表名)
        for n in range(min(5, len(frame))):
            cells = [(as_text(v) or "") for v in frame.iloc[n].tolist()]
            if _pick(cells, _INDICATOR_COLUMNS["name"]) is not None:
                frame = frame.iloc[n + 1 :].set_axis(cells, axis=1).reset_index(drop=True)
                header = n + 1
                break
    cols = {k: _pick(frame.columns, v) for k, v in _INDICATOR_COLUMNS.items()}
    for key in ("name", "planned"):
        if cols[key] is None:
            wanted = "、".join(_INDICATOR_COLUMNS[key][:3])
            raise LayerError(
                f"Indicator table {path} has no column {_INDICATOR_COLUMNS[key][0]} ({key}).",
                file=str(path),
                field=_INDICATOR_COLUMNS[key][0],
                fix=f"Name the column one of: {', '.join(_INDICATOR_COLUMNS[key])}.",
                message_zh=f"规划指标表 {path} 缺少“{_INDICATOR_COLUMNS[key][0]}”列。",
                fix_zh=f"请将该列命名为：{wanted}。",
            )
    rows: list[IndicatorRow] = []
    for i, rec in enumerate(frame.to_dict("records")):
        name = str(rec.get(cols["name"] or "") or "").strip()
        if not name or name == "nan":
            continue
        values: dict[str, float | None] = {}
        for key in ("planned", "allocated"):
            col = cols[key]
            raw = rec.get(col) if col else None
            value = _number(raw)
            if raw is not None and str(raw).strip() not in ("", "nan", "None") and value is None:
                raise LayerError(
                    f"Indicator table {path}, row {i + header + 2}, column {col}: {raw!r} is "
                    "not a number.",
                    file=str(path),
                    feature=f"row {i + header + 2}",
                    field=col,
                    fix="Write the value as a plain number (the unit goes in 单位).",
                    message_zh=f"规划指标表 {path} 第 {i + header + 2} 行“{col}”列的值 {raw!r} "
                    "不是数字。",
                    fix_zh="请填写纯数字，单位写在“单位”列。",
                )
            values[key] = value
        unit_col, attr_col = cols["unit"], cols["attribute"]
        unit = (as_text(rec.get(unit_col)) or "") if unit_col else ""
        if not unit:  # a unit written in the name: 生态保护红线面积（平方公里）
            bracket = re.search(r"[（(]([^（）()]+)[）)]\s*$", name)
            unit = bracket.group(1).strip() if bracket else ""
        rows.append(
            IndicatorRow(
                name=name,
                unit=unit,
                planned=values["planned"],
                allocated=values["allocated"],
                attribute=(as_text(rec.get(attr_col)) or "") if attr_col else "",
                row=i + header + 2,
            )
        )
    return rows


def _roles_needed(rules: Sequence[Rule], pack: RulePack) -> set[str]:
    roles: set[str] = set()
    for r in rules:
        if r.zone_role:
            roles.add(r.zone_role)
        for key in ("reference_role", "unit_role", "parent_role"):
            if key in r.args:
                roles.add(str(r.args[key]))
        if r.operator == "map_table_consistency":
            table = pack.table(str(r.args.get("indicators", ""))) or {}
            roles.update(str(spec.get("role")) for spec in table.values() if isinstance(spec, dict))
    return roles


@dataclass(frozen=True)
class LayerRead:
    """The version of one workspace layer a review read: the layer and its role, the plan
    and version label as stored (``None``: no version in force, an imported layer), the
    version's status and start, and whether the version was named (``PLAN@LABEL``) rather
    than found in force on the review date."""

    layer: str
    role: str
    plan: str | None
    version: str | None
    status: str | None = None
    valid_from: date | None = None
    is_pinned: bool = False

    def stamp_text(self) -> str:
        """The version as the report's stamp records it (``layer:GHYD v1（approved）``)."""
        if self.version is None:
            return "未登记版本（导入的图层）"
        if self.is_pinned:
            return f"{self.plan} {self.version}（指定版本）"
        since = f"，{self.valid_from.isoformat()} 起施行" if self.valid_from else ""
        return f"{self.plan} {self.version}（{self.status}{since}）"


def _layer_read(store: Any, info: Any, as_of: date, known_at: datetime | None) -> LayerRead:
    version = store.layer_version(info.name, as_of=as_of, known_at=known_at)
    if version is None:
        return LayerRead(info.name, info.role, info.plan or None, None)
    return LayerRead(
        info.name,
        info.role,
        store.plan(version.plan_id).name,
        version.label,
        version.status.value,
        version.valid_from,
    )


@dataclass(frozen=True)
class ReviewReport:
    """A finished review: findings, the rules run and skipped, and the stamp.

    ``reads`` are the versions of the workspace layers read; ``subject`` is the one of the
    layer reviewed (``None`` when a file or an indicator table was reviewed)."""

    kind: str
    source: str
    workspace: str
    crs: str
    pack: RulePack
    rules: tuple[Rule, ...]
    findings: tuple[ReviewFinding, ...]
    skipped: tuple[SkippedRule, ...]
    as_of: date
    known_at: datetime | None
    reads: tuple[LayerRead, ...] = ()
    repairs: tuple[dict[str, Any], ...] = ()
    layers: dict[str, LayerData] = field(default_factory=dict, compare=False, repr=False)
    subject: LayerRead | None = None

    @property
    def data_versions(self) -> dict[str, str]:
        """The version of each layer read, as the stamp records it, by layer."""
        return {r.layer: r.stamp_text() for r in self.reads}

    def stamp(self) -> dict[str, Any]:
        """The ``stamp`` object of the JSON output."""
        return {
            "rule_pack": self.pack.id,
            "rule_pack_version": self.pack.version,
            "profile": self.pack.profile,
            "rule_pack_hash": pack_hash(self.pack),
            "as_of": self.as_of.isoformat(),
            "known_at": None if self.known_at is None else self.known_at.isoformat(),
            "data_versions": dict(sorted(self.data_versions.items())),
        }

    def reaches(self, threshold: str) -> bool:
        """Whether any finding is at or above ``threshold`` (``never``: never)."""
        if threshold == "never":
            return False
        level = Severity.parse(threshold).rank
        return any(f.severity.rank >= level for f in self.findings)


def _workspace_layer(store: Any, role: str, name: str | None) -> Any:
    if name is not None:
        info = store.layer(name)
        if info.role != role:
            raise ConfigError(
                f"Layer {name} is a {info.role} layer, not {role}.",
                layer=name,
                fix="Give a layer of the review's role with --layer.",
                message_zh=f"图层 {name} 的类型是 {info.role}，不是 {role}。",
                fix_zh="请用 --layer 指定该审查类型对应的图层。",
            )
        return info
    found = layer_of_role(store, role, option="--layer")
    if found is None:
        raise NotFoundError(
            f"Workspace {store.path} has no {role} layer to review.",
            fix=f"Import one with guotu import FILE --role {role}, or give a file as SOURCE.",
            message_zh=f"工作空间 {store.path} 中没有可审查的 {role} 图层。",
            fix_zh=f"请先用 guotu import FILE --role {role} 导入，或直接指定文件作为审查对象。",
        )
    return found


def _file_subject(
    store: Any,
    path: Path,
    role: str,
    table: str | Path | None,
    table_key: str | None,
    source_layer: str | None,
    field_map: dict[str, str] | None,
    source_crs: str | None,
    allow_empty_geometry: bool,
) -> LayerData:
    from guotu.services.importing import import_file
    from guotu.store.memory import MemoryStore

    memory = MemoryStore("review")
    crs = store.crs
    result = import_file(
        memory,  # type: ignore[arg-type]  # any FeatureStore
        path,
        role=role,
        source_layer=source_layer,
        table=table,
        table_key=table_key,
        field_map=field_map,
        crs=source_crs,
        workspace_crs=None if crs is None else crs.to_wkt(),
        reason="guotu review (file under review)",
        allow_empty_geometry=allow_empty_geometry,
    )
    return read_layer_data(memory, result.layer)  # type: ignore[arg-type]


#: A recorded version reference: PLAN@LABEL, with no path separator on either side.
_VERSION_REF = re.compile(r"^[^/\\@]+@[^/\\]+$")


def review_plan(
    store: Any,
    kind: str,
    source: str | Path | None = None,
    *,
    pack: RulePack | None = None,
    layer: str | None = None,
    source_layer: str | None = None,
    table: str | Path | None = None,
    table_key: str | None = None,
    field_map: dict[str, str] | None = None,
    source_crs: str | None = None,
    as_of: date | None = None,
    known_at: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    files_allowed: bool = True,
    use_layers: Sequence[str] = (),
    allow_empty_geometry: bool = False,
) -> ReviewReport:
    """Review ``source`` (or the workspace's layer of the kind's role) with ``pack``.

    Parameters
    ----------
    kind
        ``master-plan``, ``detailed-plan``, ``special-plan``, ``project`` or ``indicators``.
    source
        ``None`` (the workspace layer), ``PLAN@LABEL`` (a recorded version), or a file.
    table
        An attribute table joined to a source file (parcel indicators), as for import.
    progress
        Called with the rule id, its number and the rule count before each rule.
    files_allowed
        Whether a ``source`` string may name a file; ``False`` (the web app) accepts only
        ``PLAN@LABEL``, so a request never reads a file on the server.
    use_layers
        The layers to review against where the workspace has several of a role
        (``--use-layer``); with several and none chosen the review is refused.

    Raises
    ------
    ConfigError, NotFoundError, LayerError
        An unknown kind, a missing layer or version, an unreadable file.
    """
    if kind not in KINDS:
        raise ConfigError(
            f"Unknown review kind {kind!r}.",
            fix=f"Use one of: {', '.join(KINDS)}.",
            message_zh=f"未知的审查类型 {kind!r}。",
            fix_zh=f"请使用：{'、'.join(KINDS)}。",
        )
    pack = pack if pack is not None else load_rule_pack()
    day = as_of or date.today()
    role = KINDS[kind]
    rules = pack.rules_for(kind)
    crs = store.crs
    if crs is None:
        raise NotFoundError(
            f"Workspace {store.path} is empty: there is nothing to review against.",
            fix="Import the control lines and plans first.",
            message_zh=f"工作空间 {store.path} 为空，没有可对照的图层。",
            fix_zh="请先导入三区三线和规划图层。",
        )
    check_chosen_layers(store, use_layers)
    reads: dict[str, LayerRead] = {}
    subject_read: LayerRead | None = None
    subject: LayerData | None = None
    rows: list[IndicatorRow] = []
    source_text = ""
    if kind == "indicators":
        if source is None:
            raise ConfigError(
                "The indicator review needs the indicator table (CSV/XLSX).",
                fix="guotu review indicators 规划指标表.xlsx",
                message_zh="指标审查需要指定规划指标表（CSV/XLSX）。",
                fix_zh="例如：guotu review indicators 规划指标表.xlsx",
            )
        rows = read_indicator_table(source)
        source_text = str(source)
    elif source is None:
        info = _workspace_layer(store, role, layer)
        subject = read_layer_data(store, info, as_of=day, known_at=known_at)
        subject_read = reads[info.name] = _layer_read(store, info, day, known_at)
        source_text = f"workspace:{info.name}"
    elif isinstance(source, str) and not files_allowed and not _VERSION_REF.match(source):
        raise ConfigError(
            f"{source!r} is not a recorded plan version PLAN@LABEL.",
            fix="Give PLAN@LABEL (see guotu plan list), or upload the file.",
            message_zh=f"{source!r} 不是已登记的规划版本 PLAN@LABEL。",
            fix_zh="请写 规划名@版本，或上传文件。",
        )
    elif (
        isinstance(source, str)
        and "@" in source
        and (not files_allowed or (not Path(source).exists() and not Path(source).suffix))
    ):
        plan_name, label = source.split("@", 1)
        version = store.version(plan_name, label)
        candidates = [
            i
            for i in store.layers_with_role(role)
            if i.plan == plan_name and (layer is None or i.name == layer)
        ]
        if not candidates:
            raise NotFoundError(
                f"Plan {plan_name} has no {role} layer.",
                fix="Check the plan name with guotu plan list.",
                message_zh=f"规划 {plan_name} 没有 {role} 图层。",
                fix_zh="请用 guotu plan list 核对规划名称。",
            )
        info = layer_of_role(store, role, option="--layer", candidates=candidates)
        assert info is not None  # candidates is not empty
        subject = read_layer_data(store, info, version_id=version.id)
        subject_read = reads[info.name] = LayerRead(
            info.name,
            info.role,
            plan_name,
            label,
            version.status.value,
            version.valid_from,
            is_pinned=True,
        )
        source_text = f"{plan_name}@{label}"
    else:
        path = Path(source)
        subject = _file_subject(
            store,
            path,
            role,
            table,
            table_key,
            source_layer,
            field_map,
            source_crs,
            allow_empty_geometry,
        )
        source_text = str(path)
    refs: list[LayerData] = []
    for need in sorted(_roles_needed(rules, pack)):
        if subject is not None and need == role and source is None:
            continue
        info = layer_of_role(store, need, chosen=use_layers)
        if info is None:
            continue
        refs.append(read_layer_data(store, info, as_of=day, known_at=known_at))
        reads[info.name] = _layer_read(store, info, day, known_at)
    context = ReviewContext(subject, refs, crs, pack, rows)

    def tick(rule: Rule, n: int, total: int) -> None:
        if progress is not None:
            progress(rule.id, n, total)

    run = run_review(pack, kind, context, tick)
    if run.rules and len(run.skipped) == len(run.rules):
        reasons = "；".join(f"{s.rule}：{s.reason_zh}" for s in run.skipped)
        raise NotFoundError(
            f"No rule of the {kind} review could run: "
            + "; ".join(f"{s.rule}: {s.reason_en}" for s in run.skipped),
            fix="Import the layers the rules check against (guotu import FILE --role ROLE).",
            message_zh=f"{kind} 审查的规则都无法运行：{reasons}",
            fix_zh="请先导入规则所对照的图层（guotu import 文件 --role 图层类型）。",
        )
    repairs = _repairs(subject) if subject is not None else ()
    return ReviewReport(
        kind=kind,
        source=source_text,
        workspace=str(store.path),
        crs=crs.to_string(),
        pack=pack,
        rules=run.rules,
        findings=run.findings,
        skipped=run.skipped,
        as_of=day,
        known_at=known_at,
        reads=tuple(reads[k] for k in sorted(reads)),
        repairs=repairs,
        layers={x.name: x for x in ([subject] if subject else []) + refs},
        subject=subject_read,
    )


def _repairs(layer: LayerData) -> tuple[dict[str, Any], ...]:
    import shapely

    from guotu.domain.geometry.area import planar_area_m2

    bad = np.flatnonzero(~layer.is_valid)
    if not len(bad):
        return ()
    reasons = shapely.is_valid_reason(layer.geometries[bad])
    before = planar_area_m2(layer.geometries[bad])
    after = planar_area_m2(layer.repaired[bad])
    out = []
    for k, pos in enumerate(bad.tolist()):
        name, ident = layer.feature_key(pos)
        out.append(
            {
                "layer": layer.name,
                "fid": int(layer.fids[pos]),
                "feature": f"{name}={ident}" if ident else f"fid {layer.fids[pos]}",
                "reason": str(reasons[k]),
                "area_before_m2": round(float(before[k]), 2),
                "area_after_m2": round(float(after[k]), 2),
            }
        )
    return tuple(out)

"""Plan review (成果审查): gather the layers a review needs, run the rule pack, stamp.

A review reviews one *source* (:data:`~guotu.services.review_source.ReviewSource`, parsed
where the request comes in) against the workspace:

* a layer already in the workspace (the default: the layer of the review kind's role, or
  the one named), read as of a date;
* a recorded plan version (``PLAN@LABEL``): the plan's layer of that role in that version;
* a file (Shapefile, GeoPackage, GeoJSON …): imported into a throw-away memory workspace in
  the workspace's CRS with the usual field mapping and checks, so the workspace is never
  touched; for the indicator review, a CSV/XLSX indicator table.

The control lines, master plan and units it is checked against are read from the workspace
as of ``as_of``/``known_at``; the report is stamped with the rule pack, its hash and the
version of every layer read.

A review for someone who may not read every layer (:attr:`ReviewOptions.readable`) neither
reviews nor reviews against the others: they are left out as if the workspace did not have
them (a rule that needs one is skipped, the subject is not found, in the same words), and the
report says that layers were left out (``restricted_layers_omitted``), never which.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from guotu.domain.core.findings import Finding, Repair, Skipped, reaches
from guotu.domain.core.layer_context import feature_at
from guotu.domain.core.layers import LayerData
from guotu.domain.geometry.area import planar_area_m2
from guotu.domain.review.evaluate import IndicatorRow, ReviewContext
from guotu.domain.review.operators import run_review
from guotu.domain.review.pack import KINDS, Rule, RulePack, pack_hash
from guotu.errors import ConfigError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import layer_not_found
from guotu.services.checking import read_layer_data
from guotu.services.indicator_table import read_indicator_table
from guotu.services.layer_choice import check_chosen_layers, layer_of_role
from guotu.services.review_source import RecordedVersion, ReviewSource, SourceFile, WorkspaceLayer
from guotu.services.rule_packs import load_rule_pack

__all__ = [
    "LayerRead",
    "ReviewOptions",
    "ReviewReport",
    "load_rule_pack",
    "read_indicator_table",
    "review_plan",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewOptions:
    """How a review runs, whatever it reviews.

    Attributes
    ----------
    pack
        The effective rule pack (default: the built-in ``cn-base``).
    as_of, known_at
        The plans in force on ``as_of`` (default: today), as recorded at ``known_at``.
    use_layers
        The layers to review against where the workspace has several of a role
        (``--use-layer``); with several and none chosen the review is refused.
    progress
        Called with the rule id, its number and the rule count before each rule.
    readable
        The workspace layers the reviewer may read whole (``None``: every layer); the others
        are left out of the review as if the workspace did not have them.
    """

    pack: RulePack | None = None
    as_of: date | None = None
    known_at: datetime | None = None
    use_layers: Sequence[str] = ()
    progress: Callable[[str, int, int], None] | None = None
    readable: frozenset[str] | None = None


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


def _layer_read(
    store: FeatureStore, info: Any, as_of: date, known_at: datetime | None
) -> LayerRead:
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

    ``crs`` is the workspace CRS of every geometry; ``reads`` are the versions of the
    workspace layers read; ``subject`` is the one of the layer reviewed (``None`` when a file
    or an indicator table was reviewed); ``repairs`` the reviewed features whose invalid
    geometry was repaired to review them; ``layers`` the layers read, by name (for maps)."""

    kind: str
    source: str
    workspace: str
    crs: CRS
    pack: RulePack
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    as_of: date
    known_at: datetime | None
    reads: tuple[LayerRead, ...] = ()
    repairs: tuple[Repair, ...] = ()
    layers: dict[str, LayerData] = field(default_factory=dict, compare=False, repr=False)
    subject: LayerRead | None = None
    restricted_layers_omitted: bool = False

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
        return reaches(self.findings, threshold)


def _usable(
    store: FeatureStore, infos: Sequence[Any], readable: frozenset[str] | None
) -> list[Any]:
    """``infos`` without the layers the reviewer may not read."""
    return list(infos) if readable is None else [i for i in infos if i.name in readable]


def _workspace_layer(
    store: FeatureStore, role: str, name: str | None, readable: frozenset[str] | None = None
) -> Any:
    if name is not None:
        if readable is not None and name not in readable:
            shown = [i.name for i in store.layers() if i.name in readable]
            raise layer_not_found(name, shown)
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
    found = layer_of_role(
        store,
        role,
        option="--layer",
        candidates=_usable(store, store.layers_with_role(role), readable),
    )
    if found is None:
        raise NotFoundError(
            f"Workspace {store.path} has no {role} layer to review.",
            fix=f"Import one with guotu import FILE --role {role}, or give a file as SOURCE.",
            message_zh=f"工作空间 {store.path} 中没有可审查的 {role} 图层。",
            fix_zh=f"请先用 guotu import FILE --role {role} 导入，或直接指定文件作为审查对象。",
        )
    return found


def _file_subject(store: FeatureStore, source: SourceFile, role: str) -> LayerData:
    from guotu.services.importing import import_file
    from guotu.store.memory import MemoryStore

    memory = MemoryStore("review")
    crs = store.crs
    opts = source.options
    result = import_file(
        memory,
        source.path,
        role=role,
        source_layer=opts.source_layer,
        table=opts.table,
        table_key=opts.table_key,
        field_map=dict(opts.field_map) or None,
        crs=opts.crs,
        workspace_crs=None if crs is None else crs.to_wkt(),
        reason="guotu review (file under review)",
        allow_empty_geometry=opts.allow_empty_geometry,
    )
    return read_layer_data(memory, result.layer)


def _version_subject(
    store: FeatureStore, source: RecordedVersion, role: str, readable: frozenset[str] | None
) -> tuple[LayerData, LayerRead]:
    version = store.version(source.plan, source.label)
    candidates = [
        i
        for i in _usable(store, store.layers_with_role(role), readable)
        if i.plan == source.plan and (source.layer is None or i.name == source.layer)
    ]
    if not candidates:
        raise NotFoundError(
            f"Plan {source.plan} has no {role} layer.",
            fix="Check the plan name with guotu plan list.",
            message_zh=f"规划 {source.plan} 没有 {role} 图层。",
            fix_zh="请用 guotu plan list 核对规划名称。",
        )
    info = layer_of_role(store, role, option="--layer", candidates=candidates)
    assert info is not None  # candidates is not empty
    read = LayerRead(
        info.name,
        info.role,
        source.plan,
        source.label,
        version.status.value,
        version.valid_from,
        is_pinned=True,
    )
    return read_layer_data(store, info, version_id=version.id), read


@dataclass(frozen=True)
class _Subject:
    """What a review reviews, read: the layer (``None`` for the indicator review), its
    version, the indicator table's rows and how the report names the source."""

    layer: LayerData | None
    read: LayerRead | None
    rows: tuple[IndicatorRow, ...]
    text: str


def _read_subject(
    store: FeatureStore,
    kind: str,
    source: ReviewSource,
    day: date,
    known_at: datetime | None,
    readable: frozenset[str] | None = None,
) -> _Subject:
    role = KINDS[kind]
    if kind == "indicators":
        if not isinstance(source, SourceFile):
            raise ConfigError(
                "The indicator review needs the indicator table (CSV/XLSX).",
                fix="guotu review indicators 规划指标表.xlsx",
                message_zh="指标审查需要指定规划指标表（CSV/XLSX）。",
                fix_zh="例如：guotu review indicators 规划指标表.xlsx",
            )
        return _Subject(None, None, tuple(read_indicator_table(source.path)), str(source.path))
    if isinstance(source, WorkspaceLayer):
        info = _workspace_layer(store, role, source.layer, readable)
        layer = read_layer_data(store, info, as_of=day, known_at=known_at)
        return _Subject(
            layer, _layer_read(store, info, day, known_at), (), f"workspace:{info.name}"
        )
    if isinstance(source, RecordedVersion):
        layer, read = _version_subject(store, source, role, readable)
        return _Subject(layer, read, (), str(source))
    return _Subject(_file_subject(store, source, role), None, (), str(source.path))


def review_plan(
    store: FeatureStore,
    kind: str,
    source: ReviewSource | None = None,
    options: ReviewOptions | None = None,
) -> ReviewReport:
    """Review ``source`` (default: the workspace's layer of the kind's role) against the
    workspace, as ``options`` say.

    Parameters
    ----------
    kind
        ``master-plan``, ``detailed-plan``, ``special-plan``, ``project`` or ``indicators``.
    source
        The workspace layer, a recorded version or a file
        (:func:`~guotu.services.review_source.parse_review_source` reads what a person typed).
    options
        The rule pack, dates, chosen layers and progress callback (:class:`ReviewOptions`).

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
    source = source if source is not None else WorkspaceLayer()
    opts = options if options is not None else ReviewOptions()
    pack = opts.pack if opts.pack is not None else load_rule_pack()
    day = opts.as_of or date.today()
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
    readable = opts.readable
    if readable is not None:
        for name in opts.use_layers:
            if name not in readable:
                raise layer_not_found(name, [i.name for i in store.layers() if i.name in readable])
    check_chosen_layers(store, opts.use_layers)
    needed = _roles_needed(rules, pack)
    omitted = readable is not None and any(
        i.name not in readable and i.role in needed | {role} for i in store.layers()
    )
    subject = _read_subject(store, kind, source, day, opts.known_at, readable)
    reads: dict[str, LayerRead] = {}
    if subject.read is not None:
        reads[subject.read.layer] = subject.read
    refs: list[LayerData] = []
    for need in sorted(needed):
        if subject.layer is not None and need == role and isinstance(source, WorkspaceLayer):
            continue
        info = layer_of_role(
            store,
            need,
            chosen=opts.use_layers,
            candidates=_usable(store, store.layers_with_role(need), readable),
        )
        if info is None:
            continue
        refs.append(read_layer_data(store, info, as_of=day, known_at=opts.known_at))
        reads[info.name] = _layer_read(store, info, day, opts.known_at)
    context = ReviewContext(subject.layer, refs, crs, pack, subject.rows)

    def tick(rule: Rule, n: int, total: int) -> None:
        if opts.progress is not None:
            opts.progress(rule.id, n, total)

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
    layer = subject.layer
    return ReviewReport(
        kind=kind,
        source=subject.text,
        workspace=str(store.path),
        crs=crs,
        pack=pack,
        rules=run.rules,
        findings=run.findings,
        skipped=run.skipped,
        as_of=day,
        known_at=opts.known_at,
        reads=tuple(reads[k] for k in sorted(reads)),
        repairs=_repairs(layer) if layer is not None else (),
        layers={x.name: x for x in ([layer] if layer else []) + refs},
        subject=subject.read,
        restricted_layers_omitted=omitted,
    )


def _repairs(layer: LayerData) -> tuple[Repair, ...]:
    """The features of the reviewed layer whose invalid geometry was repaired to review it."""
    bad = np.flatnonzero(~layer.is_valid)
    if not len(bad):
        return ()
    reasons = shapely.is_valid_reason(layer.geometries[bad])
    before = planar_area_m2(layer.geometries[bad])
    after = planar_area_m2(layer.repaired[bad])
    return tuple(
        Repair(feature_at(layer, pos), str(reasons[k]), float(before[k]), float(after[k]))
        for k, pos in enumerate(bad.tolist())
    )

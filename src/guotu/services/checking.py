"""Data-quality checking (质检) of a workspace: load layers, run the check list, report.

The check list is data (``guotu/data/checks.yaml`` by default, validated against
``guotu/schemas/checks-v1.json``); the checks themselves are the pure operators of
:mod:`guotu.domain.checks.engine` and :mod:`guotu.domain.checks.topology`. This module only reads layers
from the store into arrays, runs the checks and, when asked (``repair=True``), rewrites invalid
geometries with ``make_valid`` and lists every feature it changed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from guotu.domain.checks.engine import parse_check_list, run_checks
from guotu.domain.checks.spec import CheckContext, CheckSpec
from guotu.domain.core.catalog import LayerInfo
from guotu.domain.core.documents import CHECK_LIST
from guotu.domain.core.findings import (
    SEVERITY_ORDER,
    FeatureRef,
    Finding,
    Repair,
    Severity,
    Skipped,
    reaches,
)
from guotu.domain.core.layers import LayerData
from guotu.domain.geometry.polygons import repair_polygonal
from guotu.errors import CRSError, NotFoundError
from guotu.io.findings import finding_to_dict
from guotu.io.yaml_documents import load_document
from guotu.ports import FeatureStore

__all__ = [
    "QualityReport",
    "check_workspace",
    "frame_attributes",
    "load_check_list",
    "read_layer_data",
    "repair_layers",
]

log = logging.getLogger(__name__)

_SQL_TO_KIND = {
    "TEXT": "text",
    "REAL": "real",
    "INTEGER": "integer",
    "DATE": "date",
    "BOOLEAN": "boolean",
}


@dataclass(frozen=True)
class QualityReport:
    """What ``guotu check`` found: sorted findings, skipped checks and repairs."""

    workspace: str
    crs: str
    layers: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()
    repairs: tuple[Repair, ...] = field(default=())

    def worst(self) -> Severity | None:
        """The highest severity found, ``None`` when there is no finding."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    def reaches(self, threshold: str) -> bool:
        """Whether any finding is at or above ``threshold`` (``never`` is never reached)."""
        return reaches(self.findings, threshold)

    def counts(self) -> list[dict[str, Any]]:
        """Findings per (check, layer), in check-list order then layer name."""
        names = {c.id: c for c in self.checks}
        order = {c.id: i for i, c in enumerate(self.checks)}
        counter = Counter((f.rule, str(f.layer)) for f in self.findings)
        rows = []
        for (check, layer), n in sorted(
            counter.items(), key=lambda kv: (order.get(kv[0][0], 1 << 30), kv[0])
        ):
            spec = names.get(check)
            rows.append(
                {
                    "check": check,
                    "layer": layer,
                    "count": n,
                    "name_zh": spec.name_zh if spec else check,
                    "name_en": spec.name_en if spec else check,
                    "severity": spec.severity.value if spec else "",
                }
            )
        return rows

    def summary(self) -> dict[str, Any]:
        """Totals by severity and by check/layer, skipped checks and repairs."""
        by_sev = Counter(f.severity.value for f in self.findings)
        return {
            "total": len(self.findings),
            "by_severity": {s.value: by_sev.get(s.value, 0) for s in SEVERITY_ORDER},
            "by_check": self.counts(),
            "layers": list(self.layers),
            "crs": self.crs,
            "checks_run": [c.id for c in self.checks],
            "skipped": [
                {
                    "check": s.rule,
                    "layer": s.layer,
                    "reason_zh": s.reason_zh,
                    "reason_en": s.reason_en,
                }
                for s in self.skipped
            ],
            "repaired": [
                {
                    "layer": r.layer,
                    "fid": r.fid,
                    "reason": r.reason,
                    "area_before_m2": round(r.area_before_m2, 4),
                    "area_after_m2": round(r.area_after_m2, 4),
                    "geometry_type": r.geometry_type,
                }
                for r in self.repairs
            ],
        }

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The ``--json`` document: workspace, findings (sorted) and summary."""
        return {
            "workspace": self.workspace,
            "findings": [finding_to_dict(f, lang) for f in self.findings],
            "summary": self.summary(),
        }


def load_check_list(path: str | Path | None = None) -> tuple[CheckSpec, ...]:
    """Read and validate a check list (default: the one shipped in the package).

    Raises
    ------
    ConfigError
        The file is missing, is not YAML or is refused by :func:`guotu.io.safe_yaml.load_yaml`
        (too large, not UTF-8, anchors, too deep …), breaks the schema or names an unknown
        operator or role (every problem listed with its JSON path;
        :func:`guotu.io.yaml_documents.load_document`).

    Examples
    --------
    >>> [c.id for c in load_check_list()][:2]
    ['geometry.empty', 'geometry.invalid']
    """
    if path is None:
        shipped = (files("guotu") / "data" / "checks.yaml").read_bytes()
        source, data = load_document(("guotu/data/checks.yaml", shipped), CHECK_LIST)
    else:
        source, data = load_document(path, CHECK_LIST)
    return parse_check_list(data, source=source)


def frame_attributes(frame: Any) -> dict[str, Any]:
    """A GeoDataFrame's columns (not its geometry) as object arrays, nulls as ``None``."""
    return {
        c: np.asarray(
            frame[c].astype(object).where(frame[c].notna(), None).to_numpy(), dtype=object
        )
        for c in frame.columns
        if c != frame.geometry.name
    }


def read_layer_data(
    store: FeatureStore,
    info: LayerInfo,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    version_id: int | None = None,
) -> LayerData:
    """Read one workspace layer into the arrays the checks use."""
    frame = store.read_layer(info.name, as_of=as_of, known_at=known_at, version_id=version_id)
    crs = frame.crs if frame.crs is not None else store.crs
    if crs is None:
        raise CRSError(
            f"Layer {info.name} has no CRS in workspace {store.path}.",
            layer=info.name,
            fix="Import the layer again with --crs.",
            message_zh=f"工作空间 {store.path} 中的图层 {info.name} 没有坐标参考系。",
            fix_zh="请用 --crs 重新导入该图层。",
        )
    return LayerData(
        name=info.name,
        role=info.role,
        crs=crs,
        fids=np.asarray(frame.index.to_numpy(), dtype=np.int64),
        geometries=np.asarray(frame.geometry.values, dtype=object),
        attributes=frame_attributes(frame),
    )


def _select(infos: Sequence[LayerInfo], names: Iterable[str] | None, path: Path | str) -> list[str]:
    known = [i.name for i in infos]
    if not names:
        return known
    chosen = []
    for name in names:
        if name not in known:
            raise NotFoundError(
                f"Workspace {path} has no layer {name!r}.",
                layer=name,
                fix=f"Layers in it: {', '.join(known) or 'none yet'}.",
                message_zh=f"工作空间 {path} 中没有图层 {name!r}。",
                fix_zh=f"其中的图层有：{'、'.join(known) or '暂无'}。",
            )
        chosen.append(name)
    return sorted(set(chosen))


def repair_layers(store: FeatureStore, names: Iterable[str]) -> tuple[Repair, ...]:
    """Rewrite the invalid geometries of ``names`` with make_valid; list each repaired feature.

    Polygon layers keep only the polygonal parts of the repaired geometry. A feature whose
    repair would leave nothing is kept as it is (and is still reported by
    ``geometry.invalid``). Each layer's repair is recorded as a new version in one
    transaction: the repaired features get new revisions (new fids), everything else is
    shared unchanged, and the invalid originals stay in the layer's history.
    """
    repairs: list[Repair] = []
    for name in names:
        info = store.layer(name)
        frame = store.read_layer(name)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        bad = np.flatnonzero(
            ~(shapely.is_valid(geoms) | shapely.is_missing(geoms) | shapely.is_empty(geoms))
        )
        if not len(bad):
            continue
        reasons = shapely.is_valid_reason(geoms[bad])
        fixed = repair_polygonal(geoms[bad])
        usable = ~shapely.is_empty(fixed)
        new = geoms.copy()
        new[bad[usable]] = fixed[usable]
        before = shapely.area(geoms[bad])
        after = shapely.area(fixed)
        for k, pos in enumerate(bad.tolist()):
            if not usable[k]:
                log.warning(
                    "Layer %s feature %s: make_valid leaves nothing; not repaired.",
                    name,
                    frame.index[pos],
                )
                continue
            repairs.append(
                Repair(
                    FeatureRef(name, int(frame.index[pos])),
                    str(reasons[k]),
                    float(before[k]),
                    float(after[k]),
                    fixed[k].geom_type,
                )
            )
        out = frame.set_geometry(new)
        types = {c: _SQL_TO_KIND.get(t, "text") for c, t in info.columns.items()}
        store.write_layer(
            name,
            info.role,
            out,
            column_types=types,
            geometry_type=info.geometry_type,
            source=info.source,
            source_layer=info.source_layer,
            field_map=info.field_map,
            replace=True,
            reason="guotu check --repair (make_valid)",
        )
    return tuple(repairs)


def _referenced_roles(specs: Iterable[CheckSpec]) -> set[str]:
    return {str(v) for s in specs for k, v in s.params.items() if k.endswith("_role")}


def check_workspace(
    store: FeatureStore,
    *,
    layers: Iterable[str] | None = None,
    checks: Sequence[CheckSpec] | None = None,
    repair: bool = False,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> QualityReport:
    """Run the quality checks on the workspace's layers (all, or ``layers``).

    Parameters
    ----------
    store
        The open workspace.
    layers
        Layer names to check; layers they refer to (plan boundary, units) are read too.
    checks
        The check list (default :func:`load_check_list`).
    repair
        First rewrite invalid geometries of the checked layers (see :func:`repair_layers`).

    Raises
    ------
    NotFoundError
        A layer name the workspace does not have.
    """
    specs = tuple(checks) if checks is not None else load_check_list()
    infos = store.layers()
    selected = _select(infos, layers, store.path)
    repairs = repair_layers(store, selected) if repair else ()
    roles = _referenced_roles(specs)
    wanted = [i for i in store.layers() if i.name in selected or i.role in roles]
    ctx = CheckContext(read_layer_data(store, i, as_of=as_of, known_at=known_at) for i in wanted)
    run = run_checks(specs, ctx, selected)
    crs = store.crs
    return QualityReport(
        workspace=str(store.path),
        crs="" if crs is None else crs.to_string(),
        layers=tuple(selected),
        checks=specs,
        findings=run.findings,
        skipped=run.skipped,
        repairs=repairs,
    )

"""Import a layer into the workspace: read, map fields, check, reproject, write atomically.

The steps, each of which either passes or raises one :class:`~guotu.errors.InputError`
naming the file, layer, feature and field and saying how to fix it (exit code 2), before
anything is written:

1. read the file (encoding of Shapefiles from .cpg, GBK/GB18030 detected without one);
2. map its columns to standard names (auto-detected Chinese/pinyin names, ``--map``
   overrides, the mapping saved with the layer and reused when the layer is replaced);
3. join a CSV/XLSX attribute table by key, if given;
4. check the geometry kind against the role, coordinates for sanity and the CRS;
5. coerce standard fields to their types (numbers, dates, land-use codes as text);
6. reproject to the workspace CRS (chosen from the data's longitude when the first layer
   arrives) and write the layer in one transaction.

The checks live by concept: columns and field types in :mod:`guotu.services.import_fields`,
the attribute table join in :mod:`guotu.services.import_table`, geometry in
:mod:`guotu.services.import_geometry`, coordinate reference systems in
:mod:`guotu.services.import_crs`. The layer goes into any :class:`~guotu.ports.FeatureStore`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guotu.domain.core.catalog import LayerInfo, VersionSpec
from guotu.domain.core.model import check_layer_name
from guotu.domain.core.roles import detect_field_mapping, get_role
from guotu.domain.geometry.crs import parse_crs
from guotu.errors import ConfigError, CRSError, LayerError
from guotu.io.readers import SourceInfo, read_vector, require_file
from guotu.ports import FeatureStore
from guotu.services.import_crs import check_coordinates, crs_for_data, crs_text, file_crs
from guotu.services.import_fields import (
    check_column_names,
    check_required_columns,
    coerce_fields,
    column_types,
    normalise_code,
)
from guotu.services.import_geometry import check_geometry
from guotu.services.import_table import join_table
from guotu.settings import Settings

__all__ = ["ImportResult", "import_file", "normalise_code"]


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    layer: LayerInfo
    source: SourceInfo
    field_map: dict[str, str]
    source_crs: str
    workspace_crs: str
    workspace_crs_chosen: bool = False
    table_rows_joined: int | None = None
    warnings: tuple[str, ...] = field(default=())
    empty_geometries: int = 0
    warnings_zh: tuple[str, ...] = field(default=())  # the same warnings in Chinese

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable form for ``--json``."""
        return {
            "layer": self.layer.to_dict(),
            "source": self.source.__dict__,
            "field_map": self.field_map,
            "source_crs": self.source_crs,
            "workspace_crs": self.workspace_crs,
            "workspace_crs_chosen": self.workspace_crs_chosen,
            "table_rows_joined": self.table_rows_joined,
            "warnings": list(self.warnings),
            "warnings_zh": list(self.warnings_zh),
            "empty_geometries": self.empty_geometries,
        }


def import_file(
    store: FeatureStore,
    path: str | Path,
    *,
    role: str,
    layer: str | None = None,
    source_layer: str | None = None,
    field_map: Mapping[str, str] | None = None,
    crs: str | None = None,
    table: str | Path | None = None,
    table_key: str | None = None,
    replace: bool = False,
    workspace_crs: str | None = None,
    version: VersionSpec | None = None,
    actor: str = "",
    reason: str = "",
    encoding: str | None = None,
    allow_empty_geometry: bool = False,
    settings: Settings | None = None,
) -> ImportResult:
    """Import one layer of ``path`` into ``store`` as ``layer`` (default: the role id).

    Parameters
    ----------
    role
        Role id or Chinese name (see ``guotu roles``).
    field_map
        ``{source column: standard field}`` overrides of the automatic mapping.
    crs
        Declared CRS of the file (needed when it has none; overrides the one it has).
    table, table_key
        A CSV/XLSX attribute table left-joined on ``table_key`` (a standard field name
        after mapping, or a column name present in both).
    workspace_crs
        CRS for a new, empty workspace instead of the CGCS2000 GK zone of the data.
    version, actor, reason
        Record the layer in this version of a plan (see :class:`VersionSpec`); who imports
        it and why, for the audit log.
    encoding
        The encoding of the file's text, overriding a Shapefile's ``.cpg`` (checked
        strictly against the bytes all the same).
    allow_empty_geometry
        Keep features whose geometry is NULL or empty (refused otherwise); the result's
        ``empty_geometries`` counts them.
    settings
        Limits (``max_table_mb``, ``max_unzipped_mb`` …); default
        :func:`guotu.settings.load_settings`.
    """
    the_role = get_role(role)
    require_file(path)
    name = (layer or the_role.id).strip()
    existing = {i.name: i for i in store.layers()}
    same = next((n for n in existing if n.casefold() == name.casefold()), None)
    if same is not None and same != name:
        name = same  # SQL table names ignore case: GHYD and ghyd are one layer
    if name not in existing:
        _check_layer_name(name, path)
    if name in existing and not replace and version is None:
        raise LayerError(
            f"The workspace already has a layer {name!r}.",
            layer=name,
            file=str(path),
            fix="Choose another --layer name, add --replace to record the file as "
            "a new version of it (nothing is overwritten), or give --plan/--version.",
            message_zh=f"工作空间中已有图层 {name!r}。",
            fix_zh="请用 --layer 换一个图层名，或加上 --replace 将文件登记为该图层的"
            "新版本（原数据不会被覆盖），或用 --plan/--version 登记到规划版本。",
        )
    frame, source = read_vector(
        path, source_layer=source_layer, layer_hint=name, encoding=encoding, settings=settings
    )
    where = {"file": str(path), "layer": source.layer}
    overrides = dict(field_map or {})
    if not overrides and name in existing:
        overrides = {
            k: v for k, v in existing[name].field_map.items() if k in frame.columns and k != v
        }
    try:
        mapping = detect_field_mapping(
            [c for c in frame.columns if c != frame.geometry.name], the_role, overrides
        )
    except ConfigError as exc:  # a bad --map: say which file it was about
        exc.file = exc.file or str(path)
        raise
    frame = frame.rename(columns=mapping)
    check_column_names(frame, where)
    warnings_: list[tuple[str, str]] = []  # (zh, en)
    joined: int | None = None
    if table is not None:
        frame, joined, more = join_table(frame, table, table_key, the_role, where, settings)
        warnings_ += more
    check_required_columns(frame, the_role, where, mapping)
    geometry_type, empty = check_geometry(frame, the_role, where, allow_empty_geometry)
    if empty:
        warnings_.append(
            (
                f"{empty} 个要素没有几何（因 --allow-empty-geometry 而保留）。",
                f"{empty} features have no geometry (kept: --allow-empty-geometry).",
            )
        )
    frame = coerce_fields(frame, where)
    source_crs = file_crs(frame, crs, where)
    frame = frame.set_crs(source_crs, allow_override=True)
    check_coordinates(frame, source_crs, where)
    chosen = False
    target = store.crs
    if (
        target is not None
        and workspace_crs
        and not parse_crs(workspace_crs, source="--workspace-crs").equals(target)
    ):
        raise CRSError(
            f"--workspace-crs {workspace_crs}: the workspace already uses {target.name}.",
            **where,
            fix="Leave out --workspace-crs, or import into a new workspace.",
            message_zh=f"--workspace-crs {workspace_crs}：工作空间已使用 {target.name}。",
            fix_zh="请去掉 --workspace-crs，或导入到新的工作空间。",
        )
    if target is None:
        target = (
            parse_crs(workspace_crs, source="--workspace-crs")
            if workspace_crs
            else crs_for_data(frame, source_crs)
        )
        chosen = True
    if not target.is_projected:
        raise CRSError(
            f"The workspace CRS must be projected (metres); {target.name} is not.",
            fix="Use a CGCS2000 Gauss-Krüger CRS such as EPSG:4527.",
            message_zh=f"工作空间的坐标参考系必须是投影坐标系（单位：米），{target.name} 不是。",
            fix_zh="请使用 CGCS2000 高斯-克吕格投影坐标系，如 EPSG:4527。",
        )
    if not source_crs.equals(target):
        frame = frame.to_crs(target)
    types = column_types(frame)
    # A new workspace's CRS is fixed in the same transaction as its first layer.
    info = store.write_layer(
        name,
        the_role.id,
        frame,
        column_types=types,
        geometry_type=geometry_type,
        source=str(path),
        source_layer=source.layer,
        field_map=mapping,
        replace=replace,
        crs=target if chosen else None,
        version=version,
        actor=actor,
        reason=reason,
    )
    return ImportResult(
        info,
        source,
        mapping,
        crs_text(source_crs),
        crs_text(target),
        chosen,
        joined,
        tuple(en for _, en in warnings_),
        empty,
        tuple(zh for zh, _ in warnings_),
    )


def _check_layer_name(name: str, path: str | Path) -> None:
    try:
        check_layer_name(name)
    except LayerError as exc:
        exc.file = str(path)
        raise

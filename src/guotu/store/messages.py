"""The errors every store gives in the same words, whichever backend raises them: an unknown
layer, column or table, a layer that exists already, a CRS that does not fit.

Each names the workspace and the layer (or table) and says what to do, in English and
Chinese; the contract suite (``tests/store/``) checks that every backend raises these.
"""

from __future__ import annotations

from collections.abc import Sequence

from guotu.errors import ConfigError, LayerError, NotFoundError, StoreError

__all__ = [
    "crs_already_set_error",
    "layer_case_clash_error",
    "layer_exists_error",
    "no_column_error",
    "no_crs_error",
    "no_layer_error",
    "no_table_error",
    "other_crs_error",
]


def no_layer_error(where: object, name: str, names: Sequence[str]) -> NotFoundError:
    """``name`` is not a layer of workspace ``where`` (the error lists ``names``).

    Examples
    --------
    >>> no_layer_error("ws.gpkg", "C", ["A", "B"]).render()
    "工作空间 ws.gpkg 中没有图层 'C'。解决办法：其中的图层有：A、B。"
    """
    known = ", ".join(names) or "none yet"
    known_zh = "、".join(names) or "暂无"
    return NotFoundError(
        f"Workspace {where} has no layer {name!r}.",
        layer=name,
        fix=f"Layers in it: {known}.",
        message_zh=f"工作空间 {where} 中没有图层 {name!r}。",
        fix_zh=f"其中的图层有：{known_zh}。",
    )


def no_column_error(name: str, column: str, columns: Sequence[str]) -> NotFoundError:
    """Layer ``name`` has no ``column``."""
    return NotFoundError(
        f"Layer {name!r} has no column {column!r}.",
        layer=name,
        field=column,
        fix=f"Columns: {', '.join(columns)}.",
        message_zh=f"图层 {name!r} 中没有字段 {column!r}。",
        fix_zh=f"现有字段：{'、'.join(columns)}。",
    )


def no_table_error(where: object, name: str, names: Sequence[str]) -> NotFoundError:
    """``name`` is not a table of workspace ``where`` (the error lists ``names``)."""
    known = ", ".join(names) or "none yet"
    known_zh = "、".join(names) or "暂无"
    return NotFoundError(
        f"Workspace {where} has no table {name!r}.",
        fix=f"Tables in it: {known}.",
        message_zh=f"工作空间 {where} 中没有表 {name!r}。",
        fix_zh=f"其中的表有：{known_zh}。",
    )


def layer_exists_error(where: object, name: str, *, just_created: bool = False) -> LayerError:
    """A write without ``replace`` or a version to a layer that exists; ``just_created``:
    the layer did not exist when the write began (another writer made it meanwhile).

    Examples
    --------
    >>> layer_exists_error("ws.gpkg", "GHYD").render()
    "工作空间 ws.gpkg 中已有图层 'GHYD'。解决办法：请用 --layer 换一个图层名，或加上 --replace 登记新版本。"
    """
    if just_created:
        return LayerError(
            f"Workspace {where} already has a layer {name!r} (another import created it "
            "just now); nothing was written.",
            layer=name,
            fix="Check the layer another import wrote (guotu layers), then import under "
            "another --layer name, or add --replace to record a new version of it.",
            message_zh=f"工作空间 {where} 中已有图层 {name!r}（另一个导入刚刚创建了它），"
            "本次未写入任何内容。",
            fix_zh="请先查看另一个导入写入的图层（guotu layers），再用 --layer 换一个图层名导入，"
            "或加上 --replace 登记为该图层的新版本。",
        )
    return LayerError(
        f"Workspace {where} already has a layer {name!r}.",
        layer=name,
        fix="Choose another --layer name, or add --replace to record a new version.",
        message_zh=f"工作空间 {where} 中已有图层 {name!r}。",
        fix_zh="请用 --layer 换一个图层名，或加上 --replace 登记新版本。",
    )


def layer_case_clash_error(where: object, name: str, clash: str) -> ConfigError:
    """``name`` differs from the existing layer ``clash`` only in letter case."""
    return ConfigError(
        f"Workspace {where} has a layer {clash!r}; names that differ only in case "
        "are the same table.",
        layer=name,
        fix=f"Use --layer {clash} or another name.",
        message_zh=f"工作空间 {where} 中已有图层 {clash!r}；仅大小写不同的名称视为同一图层。",
        fix_zh=f"请用 --layer {clash} 或换一个名称。",
    )


def no_crs_error(where: object, name: str) -> StoreError:
    """A write of layer ``name`` to a workspace with no CRS, and none given with it (a
    caller's mistake: ``guotu import`` always gives one)."""
    return StoreError(
        f"Workspace {where} has no CRS yet, so layer {name} cannot be written.",
        layer=name,
        fix="Give the CRS with the write (crs=…), or call set_crs first.",
        message_zh=f"工作空间 {where} 尚未设置坐标参考系，无法写入图层 {name}。",
        fix_zh="请在写入时给出坐标参考系（crs=…），或先调用 set_crs。",
    )


def other_crs_error(where: object, name: str, current: str, given: str) -> ConfigError:
    """Layer ``name`` comes in CRS ``given``, but the workspace already uses ``current``.

    Examples
    --------
    >>> other_crs_error("ws.gpkg", "GHYD", "EPSG:4527", "EPSG:4528").render()  # doctest: +ELLIPSIS
    '图层 GHYD 的坐标参考系为 EPSG:4528，而工作空间 ws.gpkg 已使用坐标系 EPSG:4527。解决办法：...'
    """
    return ConfigError(
        f"Layer {name} is in {given}, but workspace {where} already uses {current}.",
        layer=name,
        fix=f"Reproject the data to {current} first (guotu import does), or use another workspace.",
        message_zh=f"图层 {name} 的坐标参考系为 {given}，而工作空间 {where} 已使用坐标系 "
        f"{current}。",
        fix_zh=f"请先把数据投影到 {current}（guotu import 会自动投影），或换一个工作空间。",
    )


def crs_already_set_error(where: object, current: str) -> StoreError:
    """``set_crs`` on a workspace whose CRS is fixed already (to another one)."""
    return StoreError(
        f"Workspace {where} already uses {current}.",
        file=str(where),
        message_zh=f"工作空间 {where} 已使用坐标参考系 {current}。",
    )

"""The web UI's data: the 用地平衡表, the plans and the differences between their versions.

* ``GET /ui/balance.json?layer=GHYD&as_of=…``: the 用地平衡表 of a layer (``guotu stats``),
  with ``data_version``: which version was read, in words.
* ``GET /ui/balance.{csv,xlsx}?layer=GHYD&as_of=…``: the same table as a file (the columns of
  ``guotu stats --csv/--xlsx --mu``), with the data-version sentence under it.
* ``GET /ui/plans.json``: the plans with their versions (for the version-diff view).
* ``GET /ui/diff.json?plan=…&from=…&to=…``: ``guotu diff --json`` of two versions (each
  layer's codes named by its own classification), plus ``map``, the changed features in
  lon/lat (at most :data:`DIFF_MAP_FEATURES`).

Answers are the principal's: plans and diffs hold only what they may read
(:mod:`guotu.services.access`); a 用地平衡表 needs the whole layer, its download export. The
page itself is :mod:`guotu.web.ui`.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from guotu.errors import NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import (
    access_for,
    require_export,
    require_plan,
    require_whole,
    restrict_diff,
    visible_plans,
)
from guotu.services.diff import diff_versions
from guotu.services.features import lonlat_collection
from guotu.services.stats import land_use_balance
from guotu.services.workspace import workspace_crs
from guotu.web.deps import Who, open_store

__all__ = ["DIFF_MAP_FEATURES", "router"]

#: Most changed features the diff view draws (the tables list every change).
DIFF_MAP_FEATURES = 5_000

router = APIRouter(tags=["web UI 一张图"])
Store = Annotated[FeatureStore, Depends(open_store)]


BalanceLayer = Annotated[str, Query(description="Layer with a land-use code field")]
BalanceAsOf = Annotated[
    date | None, Query(description="Valid time: the version in force on this date (default today)")
]
BalanceLevel = Annotated[int, Query(ge=1, le=3, description="Deepest code level listed")]
_BALANCE = ("land-use balance", "用地平衡表")
_BALANCE_FILES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/ui/balance.json", summary="用地平衡表 of a layer (land-use balance)")
def ui_balance(
    store: Store,
    who: Who,
    layer: BalanceLayer = "GHYD",
    as_of: BalanceAsOf = None,
    max_level: BalanceLevel = 2,
) -> dict[str, Any]:
    """The ``guotu stats --json`` document of ``layer`` in force on ``as_of``; its
    ``data_version`` says which version was read."""
    require_whole(store, who, layer, _BALANCE)
    table = land_use_balance(store, layer, max_level=max_level, as_of=as_of)
    return table.to_dict()


@router.get(
    "/ui/balance.{fmt}",
    summary="用地平衡表 of a layer as CSV or XLSX",
    response_class=Response,
    responses={
        200: {
            "description": "The table as a file.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in _BALANCE_FILES.values()
            },
        },
        404: {"description": "An unknown format or layer."},
    },
)
def ui_balance_file(
    request: Request,
    store: Store,
    who: Who,
    fmt: Annotated[str, PathParam(json_schema_extra={"enum": list(_BALANCE_FILES)})],
    layer: BalanceLayer = "GHYD",
    as_of: BalanceAsOf = None,
    max_level: BalanceLevel = 2,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> Response:
    """The table as ``guotu stats --csv/--xlsx --mu`` writes it, the sentence saying which
    version was read under it.

    Raises
    ------
    NotFoundError
        Another format.
    """
    if fmt not in _BALANCE_FILES:
        raise NotFoundError(
            f"No table format {fmt!r}.",
            fix="Use .csv or .xlsx.",
            message_zh=f"没有 {fmt!r} 格式的表。",
            fix_zh="请用 .csv 或 .xlsx。",
        )
    access = require_whole(store, who, layer, _BALANCE)
    address = request.client.host if request.client is not None else ""
    require_export(store, access, [layer], f"balance.{fmt}", address)
    table = land_use_balance(store, layer, max_level=max_level, as_of=as_of)
    frame = table.to_frame(lang=lang, mu=True)
    note = table.read.text(lang) if table.read else ""
    buffer = io.BytesIO()
    if fmt == "csv":
        text = frame.to_csv(index=False)
        if note:
            text += f"\n{note}\n"
        buffer.write(text.encode("utf-8-sig"))
    else:
        sheet = "用地平衡表" if lang != "en" else "Land-use balance"
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name=sheet)
            if note:
                writer.sheets[sheet].cell(row=len(frame) + 3, column=1, value=note)
    stem = f"用地平衡表-{layer}" if lang != "en" else f"land-use-balance-{layer}"
    name = f"{stem}-{as_of.isoformat() if as_of else date.today().isoformat()}.{fmt}"
    return Response(
        buffer.getvalue(),
        media_type=_BALANCE_FILES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="balance.{fmt}"; '
            f"filename*=UTF-8''{quote(name)}"
        },
    )


def _day(value: Any) -> str | None:
    return None if value is None else value.isoformat()


@router.get("/ui/plans.json", summary="Plans and their versions")
def ui_plans(store: Store, who: Who) -> list[dict[str, Any]]:
    """Every plan the principal may know of (:func:`~guotu.services.access.visible_plans`)
    with its versions (oldest first) and the one in force today."""
    out = []
    for plan in visible_plans(store, access_for(store, who)):
        versions = store.versions(plan.id)
        current = store.resolve_version(plan.id)
        labels = {v.id: v.label for v in versions}
        out.append(
            {
                "name": plan.name,
                "level": str(plan.level),
                "type": str(plan.type),
                "in_force": None if current is None else current.label,
                "versions": [
                    {
                        "label": v.label,
                        "status": str(v.status),
                        "parent": labels.get(v.parent_id) if v.parent_id else None,
                        "valid_from": _day(v.valid_from),
                        "valid_to": _day(v.valid_to),
                        "approval_no": v.approval_no,
                        "recorded_at": v.recorded_at.isoformat(timespec="seconds"),
                    }
                    for v in versions
                ],
            }
        )
    return out


@router.get("/ui/diff.json", summary="Differences between two versions of a plan")
def ui_diff(
    store: Store,
    who: Who,
    plan: Annotated[str, Query()],
    old: Annotated[str, Query(alias="from")],
    new: Annotated[str, Query(alias="to")],
) -> dict[str, Any]:
    """``guotu diff --json`` of ``plan`` from one version to another, with ``map``: the
    removed (old geometry), added and changed (new geometry) features in lon/lat; only what
    the principal may see (:func:`~guotu.services.access.restrict_diff`)."""
    access = access_for(store, who)
    require_plan(store, access, plan)
    found = restrict_diff(diff_versions(store, plan, old, new), access)
    doc = found.to_dict()
    geoms: list[Any] = []
    props: list[dict[str, Any]] = []
    for layer in found.layers if store.crs is not None else ():
        code = layer.code_field
        for change in layer.changes:
            if len(geoms) >= DIFF_MAP_FEATURES:
                break
            frame, fid = (
                (layer.old, change.old_fid)
                if change.kind == "removed"
                else (layer.new, change.new_fid)
            )
            if fid is None or fid not in frame.index:
                continue
            geom = frame.geometry.loc[fid]
            if geom is None or geom.is_empty:
                continue
            geoms.append(geom)
            props.append(
                {
                    "layer": layer.layer,
                    "kind": change.kind,
                    "key": change.key,
                    "from_code": layer.old[code].get(change.old_fid)
                    if code and change.old_fid
                    else None,
                    "to_code": layer.new[code].get(change.new_fid)
                    if code and change.new_fid
                    else None,
                    "area_old_m2": change.area_old_m2,
                    "area_new_m2": change.area_new_m2,
                }
            )
    doc["map"] = (
        lonlat_collection(geoms, props, workspace_crs(store))
        if geoms
        else {"type": "FeatureCollection", "features": []}
    )
    features = doc["map"]["features"]
    doc["map_truncated"] = sum(len(d.changes) for d in found.layers) > len(features)
    return doc

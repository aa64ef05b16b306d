"""The web UI (一张图): one Chinese-first page at ``/ui/`` over the app's own API.

* ``GET /ui/``: the page (MapLibre GL map of the workspace's vector tiles, layer tree and
  legend, as-of date, site query panel, plan review, 用地平衡表); ``/ui`` redirects there.
* ``GET /ui/monitor``: the monitoring dashboard (规划实施监测) over ``/monitor/*``.
* ``GET /ui/static/{name}``: the page's own script and style (``static/ui/``).
* ``GET /ui/vendor/{name}``: MapLibre GL JS, served from ``static/node_modules`` (installed by
  ``npm ci`` from ``static/package-lock.json``; no CDN and no online basemap: the map shows the
  workspace's layers only).
* ``GET /ui/config.json``: the layers (name, role, geometry type, count, code scheme), the
  workspace extent in lon/lat, the colour tables of the legends (用地用海 and 三调 level-1
  classes), the level-1 classes present in the workspace's coded layers (``present``, so the
  legend and the query panel list the classes that occur, not all 24) and the standard fields
  (Chinese name, unit) the query panel labels attributes with.
* ``GET /ui/balance.json?layer=GHYD&as_of=…``: the 用地平衡表 of a layer (``guotu stats``),
  with ``data_version``: which version was read, in words.
* ``GET /ui/balance.{csv,xlsx}?layer=GHYD&as_of=…``: the same table as a file (the columns of
  ``guotu stats --csv/--xlsx --mu``), with the data-version sentence under it.
* ``GET /ui/plans.json``: the plans with their versions (for the version-diff view).
* ``GET /ui/diff.json?plan=…&from=…&to=…``: ``guotu diff --json`` of two versions (each
  layer's codes named by its own classification), plus ``map``, the changed features in
  lon/lat (at most :data:`DIFF_MAP_FEATURES`).

The page sends ``lang`` (``zh``/``en``, as chosen) with every request it makes.

Answers are the principal's: layers, extent, classes, plans and diffs hold only what they may
read (:mod:`guotu.services.access`); a 用地平衡表 needs the whole layer, its download export.

When the npm assets are missing, ``/ui/`` answers 503 with a page that says how to install
them; the API routes keep working.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pyproj import CRS, Transformer

from guotu.domain.codes.classification import SEA_CLASSES
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.roles import get_role
from guotu.errors import NotFoundError
from guotu.ports import FeatureStore
from guotu.services import features as svc
from guotu.services.access import (
    LayerAccess,
    access_for,
    require_export,
    require_plan,
    require_whole,
    restrict_diff,
    row_mask,
    visible_plans,
)
from guotu.services.diff import diff_versions
from guotu.services.features import lonlat_collection
from guotu.services.stats import land_use_balance
from guotu.services.workspace import data_version, workspace_crs
from guotu.web.deps import Who, open_store

__all__ = [
    "CONTROL_LINE_COLOURS",
    "DIFF_MAP_FEATURES",
    "LAND_SURVEY_COLOURS",
    "LAND_USE_COLOURS",
    "SANDIAO_WETLAND_CODES",
    "level1_class",
    "router",
    "vendor_files",
]

STATIC = Path(__file__).parent / "static"
#: The page's own files (``static/ui``).
UI_DIR = STATIC / "ui"
#: Where ``npm ci`` (run in ``static/``) puts the front-end packages.
NODE_MODULES = STATIC / "node_modules"
_VENDOR = {
    "maplibre-gl.js": ("maplibre-gl/dist/maplibre-gl.js", "text/javascript"),
    "maplibre-gl.css": ("maplibre-gl/dist/maplibre-gl.css", "text/css"),
    "echarts.min.js": ("echarts/dist/echarts.min.js", "text/javascript"),
}
#: Most changed features the diff view draws (the tables list every change).
DIFF_MAP_FEATURES = 5_000
_OWN = {
    f"{page}.{ext}": media
    for page in ("app", "monitor", "login", "admin")  # login, admin: pages of guotu.web.admin
    for ext, media in (("js", "text/javascript"), ("css", "text/css"))
}

#: Level-1 classes of 用地用海分类 (自然资发〔2023〕234号) → fill colour. The colours follow the
#: usual 国土空间规划 colour convention of the plan-mapping rules (《市级国土空间总体规划制图规范
#: （试行）》, 自然资源部 2021, 用地用海分类色彩): yellow housing, red commerce, magenta public
#: services, greens for farmland/forest/grass, blues for water and sea. Provinces may adjust
#: shades; check the local 制图规范 before printing.
LAND_USE_COLOURS: dict[str, tuple[str, str, str]] = {
    "01": ("耕地", "Cropland", "#F5F8DC"),
    "02": ("园地", "Garden land", "#BFE9AA"),
    "03": ("林地", "Forest land", "#68B167"),
    "04": ("草地", "Grassland", "#CDF57A"),
    "05": ("湿地", "Wetland", "#65CDAA"),
    "06": ("农业设施建设用地", "Agricultural facility land", "#D8D79F"),
    "07": ("居住用地", "Residential land", "#FFFF2D"),
    "08": ("公共管理与公共服务用地", "Public administration and service land", "#FF55C8"),
    "09": ("商业服务业用地", "Commercial and business land", "#FF0000"),
    "10": ("工矿用地", "Industrial and mining land", "#BB9674"),
    "11": ("仓储用地", "Warehouse land", "#8761D3"),
    "12": ("交通运输用地", "Transport land", "#ADADAD"),
    "13": ("公用设施用地", "Public utility land", "#00638A"),
    "14": ("绿地与开敞空间用地", "Green and open space", "#00D200"),
    "15": ("特殊用地", "Special land", "#85914F"),
    "16": ("留白用地", "Reserved land", "#FFFFFF"),
    "17": ("陆地水域", "Inland water", "#4DB3E6"),
    "18": ("渔业用海", "Fishery sea", "#8EB8E0"),
    "19": ("工矿通信用海", "Industrial and communication sea", "#6C8EBF"),
    "20": ("交通运输用海", "Transport sea", "#9DB0D3"),
    "21": ("游憩用海", "Recreation sea", "#A7D1E8"),
    "22": ("特殊用海", "Special sea", "#5B7FB2"),
    "23": ("其他土地", "Other land", "#D9D2C4"),
    "24": ("其他海域", "Other sea", "#C9E3F5"),
}
#: First-level classes of the 三调 working classification (第三次全国国土调查工作分类; the land
#: survey's ``DLBM``) → fill colour. This is guotu's own palette, not a standard's colour
#: table: it keeps the colour families 三调 land-use maps use (yellow farmland, greens for
#: garden, forest and grass, blues for water, reds and pinks for built-up classes, grey for
#: transport; the official 图示 is set by 《第三次全国国土调查技术规程》TD/T 1055-2019, whose
#: RGB values are not reproduced here). ``00`` 湿地 is the first-level group of the wetland
#: codes (:data:`SANDIAO_WETLAND_CODES`), which sit under other level-1 numbers.
LAND_SURVEY_COLOURS: dict[str, tuple[str, str, str]] = {
    "00": ("湿地", "Wetland", "#6CC3B5"),
    "01": ("耕地", "Cultivated land", "#F3E38C"),
    "02": ("种植园用地", "Plantation land", "#CDE38A"),
    "03": ("林地", "Forest land", "#4E9F5D"),
    "04": ("草地", "Grassland", "#A9D77E"),
    "05": ("商业服务业用地", "Commercial and business land", "#E8604C"),
    "06": ("工矿用地", "Industrial and mining land", "#B48A6C"),
    "07": ("住宅用地", "Residential land", "#F4A259"),
    "08": ("公共管理与公共服务用地", "Public administration and service land", "#E58CC4"),
    "09": ("特殊用地", "Special land", "#8E9A5B"),
    "10": ("交通运输用地", "Transport land", "#A3A3A3"),
    "11": ("水域及水利设施用地", "Water and water facilities", "#5AAEE0"),
    "12": ("其他土地", "Other land", "#DCD3C3"),
}
#: 三调 codes of the first-level group 湿地 (00): 红树林地, 森林沼泽, 灌丛沼泽, 沼泽草地, 盐田,
#: 沿海滩涂, 内陆滩涂, 沼泽地 (the working classification's 湿地 group).
SANDIAO_WETLAND_CODES: tuple[str, ...] = (
    "0303",
    "0304",
    "0306",
    "0402",
    "0603",
    "1105",
    "1106",
    "1108",
)


def level1_class(code: Any, scheme: str | None) -> str:
    """The level-1 class a code is drawn and listed under: its first two digits, or ``00``
    湿地 for a 三调 wetland code.

    Examples
    --------
    >>> level1_class("0102", "ydyh2023"), level1_class("1106", "sandiao"), level1_class("0103", "sandiao")
    ('01', '00', '01')
    """
    text = str(code or "").strip()
    if scheme == "sandiao" and text[:4] in SANDIAO_WETLAND_CODES:
        return "00"
    return text[:2]


#: Roles drawn as outlined zones (三区三线 and boundaries) → line colour, as usually mapped:
#: 生态保护红线 green, 永久基本农田 ochre, 城镇开发边界 red-violet, administrative grey.
CONTROL_LINE_COLOURS: dict[str, str] = {
    "ecological_redline": "#00A651",
    "permanent_farmland": "#E8A33D",
    "urban_boundary": "#C2185B",
    "admin_boundary": "#555555",
    "detailed_unit": "#7B61FF",
    "construction_project": "#9C27B0",
    "consolidation_project": "#795548",
    "change_patch": "#E53935",
    "special_plan": "#FF6F00",
}

router = APIRouter(tags=["web UI 一张图"])
Store = Annotated[FeatureStore, Depends(open_store)]

_MISSING_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>一张图：前端资源未安装</title>
<link rel="icon" href="data:,"></head>
<body style="font-family:sans-serif;max-width:44em;margin:3em auto;line-height:1.6">
<h1>一张图网页的前端资源未安装</h1>
<p>地图组件 MapLibre GL JS 由 npm 安装，当前缺少 <code>{missing}</code>。
请在代码仓库中运行：</p>
<pre>make ui        # 即 cd src/guotu/web/static &amp;&amp; npm ci</pre>
<p>然后刷新本页。接口（<a href="/">OGC API</a>、<code>/tiles</code>、<code>/query</code>、
<code>/review</code>）不受影响，仍可使用。</p>
<hr><p lang="en">The web UI's front-end assets are not installed ({missing} is missing). Run
<code>make ui</code> (that is, <code>npm ci</code> in <code>src/guotu/web/static</code>)
and reload. The API keeps working.</p>
</body></html>
"""


def vendor_files() -> dict[str, Path]:
    """The npm files the page loads, by the name it loads them under (may not exist yet)."""
    return {name: NODE_MODULES / rel for name, (rel, _) in _VENDOR.items()}


@router.get("/ui", include_in_schema=False)
def ui_redirect() -> RedirectResponse:
    """``/ui`` → ``/ui/``, so the page's relative links resolve."""
    return RedirectResponse("/ui/", status_code=307)


def _page(name: str) -> Response:
    missing = [
        f"node_modules/{_VENDOR[v][0]}" for v, path in vendor_files().items() if not path.is_file()
    ]
    if missing:
        return HTMLResponse(_MISSING_PAGE.format(missing=", ".join(missing)), status_code=503)
    return FileResponse(
        UI_DIR / name, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get("/ui/", response_class=HTMLResponse, summary="The web UI (一张图)")
def ui_page() -> Response:
    """The page, or (503) how to install the npm assets when they are missing."""
    return _page("index.html")


@router.get(
    "/ui/monitor", response_class=HTMLResponse, summary="The monitoring dashboard (规划实施监测)"
)
def ui_monitor_page() -> Response:
    """Indicator cards, trends, warnings, cases on a map and the farmland ledger."""
    return _page("monitor.html")


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(
        f"The web UI has no file {name!r}.",
        fix="Run `make ui` (npm ci).",
        message_zh=f"网页没有文件 {name!r}。",
        fix_zh="请运行 make ui（npm ci）。",
    )


@router.get("/ui/static/{name}", include_in_schema=False)
def ui_static(name: str) -> FileResponse:
    """The page's own script and style."""
    if name not in _OWN:
        raise _not_found(name)
    return FileResponse(UI_DIR / name, media_type=_OWN[name], headers={"Cache-Control": "no-cache"})


@router.get("/ui/vendor/{name}", include_in_schema=False)
def ui_vendor(name: str) -> FileResponse:
    """A front-end package file installed by npm (MapLibre GL JS)."""
    path = vendor_files().get(name)
    if path is None or not path.is_file():
        raise _not_found(name)
    return FileResponse(
        path, media_type=_VENDOR[name][1], headers={"Cache-Control": "public, max-age=3600"}
    )


def _view(store: FeatureStore, access: LayerAccess) -> tuple[Any, ...]:
    """What the principal sees of the workspace, as a cache key: the data version and the
    layers they may read, with what is hidden from them."""
    names = access.readable(i.name for i in store.layers())
    return (data_version(store), *((n, access.view_key(n)) for n in names))


def _cached(request: Request, name: str, key: tuple[Any, ...]) -> dict[tuple[Any, ...], Any]:
    """The app's cache ``name`` (answers by principal view; emptied when it grows)."""
    state = request.app.state
    cache: dict[tuple[Any, ...], Any] | None = getattr(state, name, None)
    if cache is None or (key not in cache and len(cache) > 64):
        cache = {}
        setattr(state, name, cache)
    return cache


def _lonlat_bounds(
    store: FeatureStore, request: Request, access: LayerAccess
) -> list[float] | None:
    """The extent of the layers the principal may read (of their rows; in force today) in
    lon/lat, cached by data version and what they see."""
    key = _view(store, access)
    cache = _cached(request, "ui_bounds", key)
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    names = [name for name, _view_key in key[1:]]
    boxes = [b for n in names if (b := svc.layer_extent(store, n, access.row_filter(n)))]
    bounds: list[float] | None = None
    if boxes and store.crs is not None:
        to_lonlat = Transformer.from_crs(
            CRS.from_user_input(store.crs), CRS.from_epsg(4326), always_xy=True
        )
        box = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        bounds = [round(v, 7) for v in to_lonlat.transform_bounds(*box)]
    cache[key] = bounds
    return bounds


def _scheme(code_field: str | None) -> str | None:
    found = FIELDS.get(code_field or "")
    return found.code_scheme if found else None


def _present_classes(
    store: FeatureStore, request: Request, access: LayerAccess
) -> dict[str, list[str]]:
    """The level-1 classes that occur in the coded layers the principal may read (in their
    rows; in force today), per code scheme (``ydyh2023``, ``sandiao``), cached by data
    version and what they see."""
    key = _view(store, access)
    cache = _cached(request, "ui_present", key)
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    present: dict[str, set[str]] = {}
    for info in store.layers():
        field = get_role(info.role).code_field
        scheme = _scheme(field)
        if field is None or scheme is None or field not in info.columns:
            continue
        if not access.may_read(info.name) or field in access.hidden(info.name):
            continue
        rows = access.row_filter(info.name)
        columns = [field] if rows is None else list(dict.fromkeys([field, rows.field]))
        frame = store.read_layer(info.name, columns=columns)
        if rows is not None:
            frame = frame[row_mask(frame[rows.field].to_numpy(), rows)]
        values = frame[field]
        present.setdefault(scheme, set()).update(
            level1_class(v, scheme) for v in values.dropna().astype(str).unique()
        )
    found = {k: sorted(v) for k, v in present.items()}
    cache[key] = found
    return found


@router.get("/ui/config.json", summary="Layers, extent and legend of the web UI")
def ui_config(request: Request, store: Store, who: Who) -> dict[str, Any]:
    """What the page needs to draw the map: the layers the principal may read with their
    role, extent and colours, the legends' colour tables and the level-1 classes present."""
    access = access_for(store, who)
    layers = []
    for info in store.layers():
        if not access.may_read(info.name):
            continue
        role = get_role(info.role)
        layers.append(
            {
                "name": info.name,
                "role": info.role,
                "role_zh": role.name_zh,
                "role_en": role.name_en,
                "geometry_type": info.geometry_type,
                "features": info.features if access.row_filter(info.name) is None else None,
                "code_field": role.code_field,
                "code_scheme": _scheme(role.code_field),
                "id_field": role.id_field,
                "colour": CONTROL_LINE_COLOURS.get(info.role),
            }
        )
    return {
        "layers": layers,
        "bounds": _lonlat_bounds(store, request, access),
        "land_use_colours": [
            {
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "colour": colour,
                "sea": code in SEA_CLASSES,
            }
            for code, (zh, en, colour) in LAND_USE_COLOURS.items()
        ],
        "land_survey_colours": [
            {"code": code, "name_zh": zh, "name_en": en, "colour": colour}
            for code, (zh, en, colour) in LAND_SURVEY_COLOURS.items()
        ],
        "sandiao_wetland_codes": list(SANDIAO_WETLAND_CODES),
        "present": _present_classes(store, request, access),
        "fields": {
            f.name: {"name_zh": f.name_zh, "kind": str(f.kind), "unit": f.unit}
            for f in FIELDS.values()
        },
    }


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

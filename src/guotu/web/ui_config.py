"""The web UI's map configuration: ``GET /ui/config.json`` and the legends it serves.

* ``GET /ui/config.json``: the layers (name, role, geometry type, count, code scheme), the
  workspace extent in lon/lat, the colour tables of the legends (用地用海 and 三调 level-1
  classes), the level-1 classes present in the workspace's coded layers (``present``, so the
  legend and the query panel list the classes that occur, not all 24) and the standard fields
  (Chinese name, unit) the query panel labels attributes with.

The answer is the principal's: only the layers they may read, the extent and the classes of
their rows (:mod:`guotu.services.access`); the extent and the classes are cached in
``app.state`` by data version and by what the principal sees. The page itself is
:mod:`guotu.web.ui`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pyproj import CRS, Transformer

from guotu.domain.codes.classification import SEA_CLASSES
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.roles import get_role
from guotu.ports import FeatureStore
from guotu.services import features as svc
from guotu.services.access import LayerAccess, access_for, row_mask
from guotu.services.workspace import data_version
from guotu.web.deps import Who, open_store

__all__ = [
    "CONTROL_LINE_COLOURS",
    "LAND_SURVEY_COLOURS",
    "LAND_USE_COLOURS",
    "SANDIAO_WETLAND_CODES",
    "level1_class",
    "router",
]

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

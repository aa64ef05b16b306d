"""Write the demo county as the files a bureau hands over.

Each layer goes out in the form such data usually arrives in, with its usual quirks:

================================  ==========================================================
file                              form
================================  ==========================================================
行政区.shp                        Shapefile, UTF-8 with a ``.cpg``, EPSG:4527
DLTB.shp                          三调 地类图斑, Shapefile in **GBK without a .cpg** (and DBF
                                  language id 0), EPSG:4527: the importer must detect GBK
三区三线.gpkg                     GeoPackage, layers STBHHX, YJJBNT, CZKFBJ, EPSG:4527
规划用地.gdb                      FileGDB, layer GHYD, **EPSG:4548** (the same zone without
                                  the zone prefix), Chinese column names
详细规划单元.geojson              GeoJSON, lon/lat EPSG:4490, Chinese column names
详细规划地块.geojson              GeoJSON, lon/lat EPSG:4490; indicators not included …
地块控制指标.xlsx                 … but in this table, joined on 地块编号
专项规划.geojson                  GeoJSON lines, lon/lat EPSG:4490
建设项目.shp                      Shapefile, UTF-8 with a ``.cpg``, EPSG:4527
土地整治项目.geojson              GeoJSON, lon/lat EPSG:4490
变化图斑.shp                      Shapefile, UTF-8 with a ``.cpg``, EPSG:4527
规划指标表.xlsx                   the indicator table (sheet 规划指标), not a layer
================================  ==========================================================

The handover note (数据说明.txt) says which plan and approved version each plan file is, with
its 批复文号 and date (synthetic), as the import records them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from guotu.demo.county import INDICATOR_FILE, County
from guotu.demo.indicator_table import COLUMNS, SHEET
from guotu.demo.plans import PLANS
from guotu.errors import LayerError

__all__ = [
    "HANDOVER",
    "HISTORY_DIR",
    "STATISTICS_FILE",
    "TARGETS_FILE",
    "Handover",
    "write_handover_files",
]

#: Folder of the earlier yearly survey updates (DLTB_2021.shp … DLTB_2024.shp).
HISTORY_DIR = "年度变更调查"
#: Plan targets by year, and statistics by year (for the monitoring indicators).
TARGETS_FILE = "规划目标.xlsx"
STATISTICS_FILE = "社会经济统计.xlsx"


@dataclass(frozen=True)
class Handover:
    """One handed-over file and how it becomes a workspace layer."""

    layer: str
    file: str
    role: str
    source_layer: str | None = None
    table: str | None = None
    table_key: str | None = None
    #: The file holds a feature without geometry on purpose (a planted quality problem that
    #: 质检 must report), so the import accepts it explicitly (--allow-empty-geometry).
    allow_empty_geometry: bool = False


#: The files, in import order (the first one fixes the workspace CRS, EPSG:4527).
HANDOVER: tuple[Handover, ...] = (
    Handover("XZQ", "行政区.shp", "admin_boundary"),
    Handover("DLTB", "DLTB.shp", "land_survey"),
    Handover("STBHHX", "三区三线.gpkg", "ecological_redline", source_layer="STBHHX"),
    Handover("YJJBNT", "三区三线.gpkg", "permanent_farmland", source_layer="YJJBNT"),
    Handover("CZKFBJ", "三区三线.gpkg", "urban_boundary", source_layer="CZKFBJ"),
    Handover("GHYD", "规划用地.gdb", "planned_land_use", source_layer="GHYD"),
    Handover("XXGHDY", "详细规划单元.geojson", "detailed_unit"),
    Handover(
        "XXGHDK",
        "详细规划地块.geojson",
        "detailed_parcel",
        table="地块控制指标.xlsx",
        table_key="DKBH",
        allow_empty_geometry=True,
    ),
    Handover("ZXGH", "专项规划.geojson", "special_plan"),
    Handover("JSXM", "建设项目.shp", "construction_project"),
    Handover("TDZZXM", "土地整治项目.geojson", "consolidation_project"),
    Handover("BHTB", "变化图斑.shp", "change_patch"),
)

#: Column renames into the Chinese names used in the handed-over files.
_ZH = {
    "GHYD": {
        "BSM": "标识码",
        "XZQDM": "行政区代码",
        "YDYHFLDM": "用地用海代码",
        "YDYHFLMC": "用地用海名称",
        "MJ": "面积",
        "HDLX": "人为活动类型",
        "ZDXMLX": "重大项目类型",
        "PZJG": "批准机关",
    },
    "XXGHDY": {
        "DYBH": "单元编号",
        "DYMC": "单元名称",
        "XZQDM": "行政区代码",
        "JSYDGM": "建设用地规模",
        "JZYDGM": "居住用地规模",
        "GGFWYDGM": "公共管理与公共服务用地规模",
        "LDKJYDGM": "绿地与开敞空间用地规模",
        "RJL": "容积率",
        "JZMD": "建筑密度",
        "LDL": "绿地率",
        "JZXG": "建筑限高",
    },
    "XXGHDK": {
        "DKBH": "地块编号",
        "DYBH": "单元编号",
        "YDYHFLDM": "用地性质",
        "YDYHFLMC": "用地性质名称",
    },
    "ZXGH": {"XMMC": "项目名称", "ZXLX": "专项类型", "DLDJ": "道路等级", "KD": "宽度"},
    "TDZZXM": {
        "XMMC": "项目名称",
        "XMDM": "项目代码",
        "XZGDMJ": "新增耕地面积",
        "JSYDJSMJ": "建设用地减少面积",
        "STXFMJ": "生态修复面积",
        "JD": "进度",
    },
}
_INDICATOR_TABLE = {
    "DKBH": "地块编号",
    "RJL": "容积率",
    "JZMD": "建筑密度",
    "LDL": "绿地率",
    "JZXG": "建筑限高",
    "PTSS": "配套设施",
}
#: The zone prefix of EPSG:4527 that EPSG:4548 leaves out (false easting 39 500 000 → 500 000).
_ZONE_PREFIX_M = 39_000_000.0
#: FileGDB coordinate grid: origin 0 and 2**20 steps per metre hold the demo's binary grid
#: (and every planted coordinate) exactly.
_GDB_GRID = {"XORIGIN": 0, "YORIGIN": 0, "XYSCALE": 2**20}


def _shapefile(frame: gpd.GeoDataFrame, path: Path, *, encoding: str = "UTF-8") -> None:
    pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile", encoding=encoding, use_arrow=True)


def _geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    pyogrio.write_dataframe(frame.to_crs("EPSG:4490"), path, driver="GeoJSON")


def _strip_cpg(shp: Path) -> None:
    """Remove the ``.cpg`` and zero the DBF language id, as many GBK exports arrive."""
    shp.with_suffix(".cpg").unlink()
    dbf = shp.with_suffix(".dbf")
    with dbf.open("r+b") as fh:
        fh.seek(29)
        fh.write(b"\x00")


def _without_prefix(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The same geometries in EPSG:4548 (exact: only the false easting changes)."""
    offset = np.array([_ZONE_PREFIX_M, 0.0])
    geoms = shapely.transform(np.asarray(frame.geometry.values), lambda xy: xy - offset)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs="EPSG:4548")


def _nullable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Blank strings stay blank; NaN in text columns becomes null."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and col != "geometry":
            out[col] = out[col].where(pd.notna(out[col]), None)
    return out


def write_handover_files(
    county: County, out_dir: str | Path, *, force: bool = False
) -> dict[str, Path]:
    """Write every handover file of ``county`` into ``out_dir``.

    Parameters
    ----------
    county
        The generated county.
    out_dir
        Folder to write into; created if missing.
    force
        Overwrite files that already exist. Without it an existing file is an error.

    Returns
    -------
    dict
        Workspace layer name → the file it comes from.

    Raises
    ------
    LayerError
        If a file exists and ``force`` is false.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = sorted(
        {h.file for h in HANDOVER}
        | {h.table for h in HANDOVER if h.table}
        | {INDICATOR_FILE, HISTORY_DIR, TARGETS_FILE, STATISTICS_FILE}
    )
    for name in [*names, "数据说明.txt"]:
        target = out / name
        if target.exists():
            if not force:
                raise LayerError(
                    f"{target} already exists; the demo does not overwrite it.",
                    file=str(target),
                    fix="Add --force, or choose another --out.",
                )
            _remove(target)
    layers = {k: _nullable(v) for k, v in county.layers.items()}

    _shapefile(layers["XZQ"], out / "行政区.shp")
    _shapefile(layers["DLTB"], out / "DLTB.shp", encoding="GBK")
    _strip_cpg(out / "DLTB.shp")
    for name in ("STBHHX", "YJJBNT", "CZKFBJ"):
        pyogrio.write_dataframe(layers[name], out / "三区三线.gpkg", layer=name, driver="GPKG")
    ghyd = _without_prefix(layers["GHYD"].rename(columns=_ZH["GHYD"]))
    pyogrio.write_dataframe(
        ghyd, out / "规划用地.gdb", layer="GHYD", driver="OpenFileGDB", layer_options=_GDB_GRID
    )
    _geojson(layers["XXGHDY"].rename(columns=_ZH["XXGHDY"]), out / "详细规划单元.geojson")
    dk = layers["XXGHDK"]
    indicator_cols = [c for c in _INDICATOR_TABLE if c != "DKBH"]
    _geojson(
        dk.drop(columns=indicator_cols).rename(columns=_ZH["XXGHDK"]), out / "详细规划地块.geojson"
    )
    table = pd.DataFrame(dk[list(_INDICATOR_TABLE)]).rename(columns=_INDICATOR_TABLE)
    table = table[table["地块编号"].astype(str) != ""]
    table.to_excel(out / "地块控制指标.xlsx", sheet_name="控制指标", index=False)
    _geojson(layers["ZXGH"].rename(columns=_ZH["ZXGH"]), out / "专项规划.geojson")
    _shapefile(layers["JSXM"], out / "建设项目.shp")
    _geojson(layers["TDZZXM"].rename(columns=_ZH["TDZZXM"]), out / "土地整治项目.geojson")
    _shapefile(layers["BHTB"], out / "变化图斑.shp")
    rows = pd.DataFrame(county.indicators, columns=list(COLUMNS)).rename(columns=COLUMNS)
    rows.to_excel(out / INDICATOR_FILE, sheet_name=SHEET, index=False)
    if county.history is not None:
        (out / HISTORY_DIR).mkdir(exist_ok=True)
        for year, frame in county.history.frames.items():
            target = out / HISTORY_DIR / f"DLTB_{year}.shp"
            _shapefile(_nullable(frame), target, encoding="GBK")
            _strip_cpg(target)
        pd.DataFrame(county.history.targets).to_excel(
            out / TARGETS_FILE, sheet_name="规划目标", index=False
        )
        pd.DataFrame(county.history.statistics).to_excel(
            out / STATISTICS_FILE, sheet_name="社会经济统计", index=False
        )
    (out / "数据说明.txt").write_text(_readme(county), encoding="utf-8")
    return {h.layer: out / h.file for h in HANDOVER}


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
        return
    if path.suffix == ".shp":
        for sibling in path.parent.glob(f"{path.stem}.*"):
            sibling.unlink()
        return
    path.unlink()


def _readme(county: County) -> str:
    """A short handover note (数据说明) listing the files, as bureaus add one."""
    lines = [
        "示范县国土空间规划“一张图”演示数据（合成数据，非真实地理信息）",
        f"随机种子 {county.seed}，地块规模 {county.parcels}。",
        "坐标系：CGCS2000 3 度带高斯-克吕格投影第 39 带（EPSG:4527），另有说明者除外。",
        "",
    ]
    counts: dict[str, Any] = {k: len(v) for k, v in county.layers.items()}
    for h in HANDOVER:
        extra = f"（图层 {h.source_layer}）" if h.source_layer else ""
        table = f"，指标表 {h.table}" if h.table else ""
        lines.append(f"{h.file}{extra}{table}：{counts[h.layer]} 个要素")
    lines.append(
        f"{INDICATOR_FILE}（工作表 {SHEET}）：规划指标 {len(county.indicators)} 项，"
        "含规划目标值（2035 年）与上级下达值，面积单位为公顷"
    )
    lines += ["", "规划成果与批复（批复文号为演示用的虚构文号）："]
    for plan in PLANS:
        files = "、".join(dict.fromkeys(h.file for h in HANDOVER if h.layer in plan.layers))
        lines.append(
            f"{files}：{plan.name}，版本“{plan.label}”，{plan.approval_organ}批复"
            f"（{plan.approval_no}），{plan.valid_from.isoformat()} 起施行"
        )
    lines += [
        "",
        "DLTB.shp 为 GBK 编码（无 .cpg）；规划用地.gdb 为 EPSG:4548（不带带号）；",
        "GeoJSON 文件为经纬度坐标（EPSG:4490）。",
        "规划用地.gdb 的人为活动类型、重大项目类型、批准机关字段仅在申报有限人为活动或"
        "重大项目的图斑上填写；",
        "详细规划单元.geojson 含建设用地、居住用地、公共管理与公共服务用地、绿地与开敞空间"
        "用地规模（平方米）。",
        "DLTB.shp 为 2025 年度国土变更调查；年度变更调查/DLTB_2021.shp … DLTB_2024.shp 为"
        "此前各年度（GBK 编码，数据年份 SJNF 为各自年度）；",
        f"{TARGETS_FILE} 为总体规划的规划目标值（2025 年近期目标、2035 年目标，与"
        f"{INDICATOR_FILE}一致），{STATISTICS_FILE} 为分年度人口、用水总量与地区生产总值，"
        "供实施监测使用。",
    ]
    return "\n".join(lines) + "\n"

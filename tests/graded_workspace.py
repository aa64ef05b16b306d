"""A small county workspace with graded layers (分级开放), built in code, and the principals
who ask of it: the fixture of the graded-access tests (``tests/services/test_access.py``,
``tests/web/test_graded_access.py``).

Six 100 m squares in a row, three in each of two towns (乡镇 370999001 and 370999002):

* ``GHYD`` (规划用地, 内部) covers all six; its policy limits a town user to their own rows
  (``region_field`` XZQDM); square 0 is residential (0701), so it breaks the farmland rule;
* ``YJJBNT`` (永久基本农田, 受限) has two parcels, over squares 0-1 and square 4, and only the
  department ``gengdi`` may read it;
* ``CZKFBJ`` (城镇开发边界, 公开) covers squares 2-5, the only thing anonymous users see;
* ``DLTB`` (现状地类图斑, 内部) covers all six with the owner's name ``QLRMC``, which only the
  department ``queren`` sees.

``with_farmland=False`` builds the same workspace without ``YJJBNT``: what a restricted layer
looks like to those who may not read it must be exactly what an absent one looks like.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import CRS

from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import ANONYMOUS, AccessList, Action, LayerPolicy, Principal
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.services.importing import import_file
from guotu.store.geopackage import GeoPackageStore

GK = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0
MASTER = "示范县国土空间总体规划"
LINES = "示范县三区三线划定成果"
SURVEY = "示范县国土变更调查"
TOWN_A, TOWN_B = "370999001", "370999002"
XZQDM = [f"{TOWN_A}00{i}" for i in (1, 2, 3)] + [f"{TOWN_B}00{i}" for i in (1, 2, 3)]
OWNERS = ["张三", "李四", "王五", "赵六", "钱七", "孙八"]

#: Who asks: a planner (规划科), the farmland department, a town, the owner-rights
#: department, and nobody.
PLANNER = Principal("wang", frozenset({"viewer", "editor", "reviewer"}), "guihua")
FARMLAND = Principal("li", frozenset({"viewer", "editor", "reviewer"}), "gengdi")
TOWN = Principal("zhao", frozenset({"viewer"}), "xiangzhen", (TOWN_A,))
OWNER_RIGHTS = Principal("qian", frozenset({"viewer"}), "queren")
VIEWER_FARMLAND = Principal("sun", frozenset({"viewer"}), "gengdi")  # reads, cannot export
NOBODY = ANONYMOUS

POLICIES = (
    LayerPolicy(
        "YJJBNT",
        Grade.RESTRICTED,
        {
            Action.READ: AccessList(departments=frozenset({"gengdi"})),
            Action.EXPORT: AccessList(departments=frozenset({"gengdi"})),
        },
    ),
    LayerPolicy("CZKFBJ", Grade.PUBLIC),
    LayerPolicy("GHYD", Grade.INTERNAL, region_field="XZQDM"),
    LayerPolicy(
        "DLTB",
        Grade.INTERNAL,
        hidden_fields={"QLRMC": AccessList(departments=frozenset({"queren"}))},
    ),
)


def square(i: int) -> shapely.Polygon:
    """Square ``i`` of the row (100 m, lower-left corner at X0 + 100 i)."""
    return shapely.box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100)


def centre(i: int) -> tuple[float, float]:
    """The centre of square ``i``."""
    return X0 + 100 * i + 50, Y0 + 50


def _import(
    store: GeoPackageStore, tmp: Path, name: str, role: str, frame: gpd.GeoDataFrame, plan: str
) -> None:
    path = tmp / f"src_{name}.gpkg"
    frame.to_file(path, layer=name)
    spec = VersionSpec(plan, "2021版", valid_from=date(2021, 1, 1))
    import_file(store, path, role=role, layer=name, version=spec)


def build_graded_workspace(path: Path, *, with_farmland: bool = True) -> Path:
    """The workspace at ``path`` (a new GeoPackage; sources written beside it)."""
    tmp = path.parent / f"{path.stem}_sources"
    tmp.mkdir(parents=True, exist_ok=True)
    with GeoPackageStore.open(path, create=True) as store:
        for plan, kind in ((MASTER, PlanType.MASTER), (LINES, PlanType.MASTER)):
            store.create_plan(plan, level=PlanLevel.COUNTY, type=kind)
        store.create_plan(SURVEY, level=PlanLevel.COUNTY, type=PlanType.SURVEY)
        six = [square(i) for i in range(6)]
        _import(
            store,
            tmp,
            "GHYD",
            "planned_land_use",
            gpd.GeoDataFrame(
                {
                    "BSM": [f"GH{i}" for i in range(6)],
                    "XZQDM": XZQDM,
                    "YDYHFLDM": ["0701", "0101", "0701", "0703", "0101", "1207"],
                    "MJ": [10_000.0] * 6,
                },
                geometry=six,
                crs=GK,
            ),
            MASTER,
        )
        if with_farmland:
            _import(
                store,
                tmp,
                "YJJBNT",
                "permanent_farmland",
                gpd.GeoDataFrame(
                    {
                        "BSM": ["NT1", "NT2"],
                        "XZQDM": [TOWN_A, TOWN_B],
                        "DLBM": ["0101", "0101"],
                        "MJ": [16_000.0, 8_100.0],
                    },
                    geometry=[
                        shapely.box(X0 + 10, Y0 + 10, X0 + 190, Y0 + 90),
                        shapely.box(X0 + 405, Y0 + 5, X0 + 495, Y0 + 95),
                    ],
                    crs=GK,
                ),
                LINES,
            )
        _import(
            store,
            tmp,
            "CZKFBJ",
            "urban_boundary",
            gpd.GeoDataFrame(
                {"BSM": ["KF1"], "GHFQDM": ["10"], "GHFQMC": ["城镇集中建设区"], "MJ": [40_000.0]},
                geometry=[shapely.box(X0 + 200, Y0, X0 + 600, Y0 + 100)],
                crs=GK,
            ),
            LINES,
        )
        _import(
            store,
            tmp,
            "DLTB",
            "land_survey",
            gpd.GeoDataFrame(
                {
                    "BSM": [f"TB{i}" for i in range(6)],
                    "DLBM": ["0101", "0101", "0702", "0702", "0101", "1003"],
                    "XZQDM": XZQDM,
                    "QLRMC": OWNERS,
                },
                geometry=six,
                crs=GK,
            ),
            SURVEY,
        )
        for policy in POLICIES:
            store.put_layer_policy(policy, actor="anquan", reason="分级开放")
    return path

"""guotu 国土: an open territorial spatial planning "one map" (国土空间规划一张图) platform.

The library API most users need; the CLI (``guotu``) and, later, the web server are built on it.
"""

from guotu.domain.codes.classification import CodeTable, LandUseCode, ydyh_2023
from guotu.domain.codes.crosswalks import translate, translate_osm
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.roles import ROLES, get_role
from guotu.domain.geometry.area import ellipsoidal_area_m2, planar_area_m2
from guotu.errors import GuotuError
from guotu.services.importing import import_file
from guotu.services.stats import land_use_balance
from guotu.services.workspace import open_workspace

__all__ = [
    "FIELDS",
    "ROLES",
    "CodeTable",
    "GuotuError",
    "LandUseCode",
    "ellipsoidal_area_m2",
    "get_role",
    "import_file",
    "land_use_balance",
    "open_workspace",
    "planar_area_m2",
    "translate",
    "translate_osm",
    "ydyh_2023",
]

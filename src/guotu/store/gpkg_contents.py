"""What QGIS and GDAL read of a GeoPackage workspace besides the rows: a layer table's entries
in ``gpkg_contents`` and ``gpkg_geometry_columns``, its SRS in ``gpkg_spatial_ref_sys``, its
R-tree index with the spec's triggers, its extent, and the view ``<layer>_现行`` showing the
version in force today.

Functions over the workspace's sqlite3 connection, called inside the store's write
transaction (:class:`guotu.store.geopackage.GeoPackageStore`).
"""

from __future__ import annotations

import contextlib
import sqlite3

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS
from pyproj.enums import WktVersion

from guotu.domain.core.model import DECIDING, VersionStatus
from guotu.store.gpkg_schema import q, rtree_name, rtree_triggers
from guotu.store.layout import ADDED_IN, CONTENT_HASH, GEOM, now
from guotu.store.rtree_bulk import bulk_load_rtree

__all__ = [
    "create_layer_table",
    "create_rtree",
    "current_view_name",
    "ensure_srs",
    "find_srs_id",
    "planned_srs_id",
    "update_extent",
    "write_current_view",
]


def current_view_name(layer: str) -> str:
    """Name of the view showing ``layer`` as in force today.

    Examples
    --------
    >>> current_view_name("GHYD")
    'GHYD_现行'
    """
    return f"{layer}_现行"


def create_layer_table(
    conn: sqlite3.Connection,
    name: str,
    role: str,
    cols: list[str],
    types: dict[str, str],
    geometry_type: str,
    srs_id: int,
) -> None:
    """Create the table of a new layer and register it as GeoPackage feature content."""
    coldefs = "".join(f", {q(c)} {types[c]}" for c in cols)
    conn.execute(
        f"CREATE TABLE {q(name)} (fid INTEGER PRIMARY KEY AUTOINCREMENT, "
        f"{GEOM} {geometry_type}{coldefs}, {ADDED_IN} INTEGER NOT NULL, "
        f"{CONTENT_HASH} INTEGER NOT NULL)"
    )
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
        " last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
        (name, name, role, now(), srs_id),
    )
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
        (name, GEOM, geometry_type, srs_id),
    )


def create_rtree(conn: sqlite3.Connection, name: str, geoms: npt.NDArray[np.object_]) -> None:
    """Build a new layer's R-tree (bulk-packed) from the geometries just inserted into it, in
    fid order, then its triggers and its ``gpkg_extensions`` row."""
    rt = rtree_name(name)
    conn.execute(f"CREATE VIRTUAL TABLE {q(rt)} USING rtree(id, minx, maxx, miny, maxy)")
    ids = np.fromiter(
        (r[0] for r in conn.execute(f"SELECT fid FROM {q(name)} ORDER BY fid")), dtype=np.int64
    )
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bulk_load_rtree(conn, rt, ids[ok], shapely.bounds(geoms)[ok][:, [0, 2, 1, 3]])
    for trigger in rtree_triggers(name):
        conn.execute(trigger)
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (name, GEOM),
    )


def write_current_view(
    conn: sqlite3.Connection,
    name: str,
    plan_id: int,
    cols: list[str],
    geometry_type: str,
    srs_id: int,
) -> None:
    """(Re)create the view ``<layer>_现行`` that QGIS and GDAL open: the layer as the
    version of its plan in force today (as recorded now), resolved by SQLite at read time
    with the same rule as :func:`guotu.domain.core.model.version_in_force` (a repeal in force
    shows nothing); a plan with no approved version at all yet shows its latest draft."""
    view = current_view_name(name)
    literal = "'" + name.replace("'", "''") + "'"
    select = ", ".join(["fid", GEOM, *(q(c) for c in cols)])
    deciding = ", ".join(f"'{v.value}'" for v in DECIDING)
    repealed = f"'{VersionStatus.REPEALED.value}'"
    today = "date('now', 'localtime')"  # the same calendar day as date.today()
    conn.execute(f"DROP VIEW IF EXISTS {q(view)}")
    conn.execute(f"""CREATE VIEW {q(view)} AS
WITH RECURSIVE
  winner(id, status) AS (SELECT id, status FROM guotu_versions WHERE plan_id = {int(plan_id)}
    AND status IN ({deciding}) AND (valid_from IS NULL OR valid_from <= {today})
    AND (valid_to IS NULL OR {today} < valid_to)
    ORDER BY coalesce(valid_from, '0000-00-00') DESC, recorded_at DESC, id DESC LIMIT 1),
  head(id) AS (SELECT id FROM winner WHERE status != {repealed} UNION ALL
    SELECT max(id) FROM guotu_versions WHERE plan_id = {int(plan_id)}
    AND NOT EXISTS (SELECT 1 FROM guotu_versions WHERE plan_id = {int(plan_id)}
                    AND status IN ({deciding}))),
  chain(id) AS (SELECT id FROM head UNION ALL
    SELECT v.parent_id FROM guotu_versions v JOIN chain c ON v.id = c.id
    WHERE v.parent_id IS NOT NULL)
SELECT {select} FROM {q(name)} WHERE {ADDED_IN} IN (SELECT id FROM chain)
  AND fid NOT IN (SELECT fid FROM guotu_retired WHERE layer = {literal}
                  AND version_id IN (SELECT id FROM chain))""")
    if not conn.execute("SELECT 1 FROM gpkg_contents WHERE table_name = ?", (view,)).fetchone():
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
            " last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
            (view, view, f"{name}: the version in force today", now(), srs_id),
        )
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
            (view, GEOM, geometry_type, srs_id),
        )
    conn.execute(
        "UPDATE gpkg_contents SET min_x = (SELECT min_x FROM gpkg_contents WHERE "
        "table_name = ?), min_y = (SELECT min_y FROM gpkg_contents WHERE table_name = ?), "
        "max_x = (SELECT max_x FROM gpkg_contents WHERE table_name = ?), max_y = (SELECT "
        "max_y FROM gpkg_contents WHERE table_name = ?), last_change = ? "
        "WHERE table_name = ?",
        (name, name, name, name, now(), view),
    )


def update_extent(conn: sqlite3.Connection, name: str) -> None:
    """Record the layer's extent (from its R-tree) in ``gpkg_contents``."""
    row = conn.execute(
        f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {q(rtree_name(name))}"
    ).fetchone()
    conn.execute(
        "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?,"
        " last_change = ? WHERE table_name = ?",
        (*row, now(), name),
    )


def find_srs_id(conn: sqlite3.Connection, crs: CRS) -> int | None:
    """The ``srs_id`` under which ``crs`` is registered in the file, if it is."""
    auth = crs.to_authority()
    if auth:
        row = conn.execute(
            "SELECT srs_id FROM gpkg_spatial_ref_sys WHERE upper(organization) = ? AND "
            "organization_coordsys_id = ?",
            (auth[0].upper(), int(auth[1])),
        ).fetchone()
        if row:
            return int(row[0])
    else:  # a CRS without an authority code (城市独立坐标系): match its definition
        for srs_id, definition in conn.execute(
            "SELECT srs_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id > 0"
        ):
            with contextlib.suppress(Exception):
                if CRS.from_wkt(definition).equals(crs):
                    return int(srs_id)
    return None


def planned_srs_id(conn: sqlite3.Connection, crs: CRS) -> int:
    """The ``srs_id`` of ``crs`` in the file: the one it is registered under, else the one
    :func:`ensure_srs` will give it (its authority code, or a private code from 100000)."""
    found = find_srs_id(conn, crs)
    if found is not None:
        return found
    auth = crs.to_authority()
    if auth:
        return int(auth[1])
    return 100000 + int(conn.execute("SELECT COUNT(*) FROM gpkg_spatial_ref_sys").fetchone()[0])


def ensure_srs(conn: sqlite3.Connection, crs: CRS) -> int:
    """Register ``crs`` in ``gpkg_spatial_ref_sys`` unless it is there; its ``srs_id``."""
    if (found := find_srs_id(conn, crs)) is not None:
        return found
    code = planned_srs_id(conn, crs)
    auth = crs.to_authority()
    org = auth[0] if auth else "NONE"
    conn.execute(
        "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization,"
        " organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)",
        (crs.name, code, org, code, crs.to_wkt(WktVersion.WKT1_GDAL), crs.name),
    )
    return code

"""SQL text of the GeoPackage workspace (GeoPackage 1.3 tables, the R-tree triggers of the
spec, and guotu's own tables), identifier quoting, and the checks of a workspace file's name
and kind. What every backend shares (column names, types, values) is in
:mod:`guotu.store.layout`."""

from __future__ import annotations

import os
from pathlib import Path

from guotu.errors import ConfigError
from guotu.store.layout import GEOM

#: The GeoPackage tables a workspace file must hold (QGIS and GDAL cannot open it without).
REQUIRED_GPKG_TABLES = ("gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns")
#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def check_workspace_name(path: Path) -> None:
    """Refuse a workspace file name whose bytes are not UTF-8 (a GBK name copied from
    Windows reaches Python as surrogate escapes): QGIS and GDAL cannot open such a file, and
    the name could not be printed or written into a report.

    Examples
    --------
    >>> check_workspace_name(Path("示范县.gpkg"))
    """
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("gb18030", "replace")
        raise ConfigError(
            f"The name of workspace {shown} is not UTF-8 (it was probably copied from a "
            "Windows system in GBK); QGIS and GDAL cannot open it.",
            file=shown,
            fix="Rename the file, e.g. with `convmv -f gbk -t utf8 --notest FILE`, or give "
            "another -w name.",
            message_zh=f"工作空间文件名 {shown} 不是 UTF-8 编码（多半是从 GBK 编码的 Windows 系统"
            "拷贝而来），QGIS、GDAL 无法打开它。",
            fix_zh="请重命名该文件（如用 `convmv -f gbk -t utf8 --notest 文件名`），或用 -w "
            "指定另一个文件名。",
        ) from None


def not_a_workspace_error(
    path: Path, why: str, why_zh: str, *, fix: str | None = None, fix_zh: str | None = None
) -> ConfigError:
    """``-w PATH`` names a file that is not a guotu workspace (the user's input: exit 2).

    Examples
    --------
    >>> not_a_workspace_error(Path("a.db"), "it is a plain SQLite file", "它是普通 SQLite 文件"
    ...                       ).render()  # doctest: +ELLIPSIS
    'a.db 不是 guotu 工作空间：它是普通 SQLite 文件。解决办法：请用 -w 指定...'
    """
    return ConfigError(
        f"{path} is not a guotu workspace: {why}.",
        file=str(path),
        fix=fix
        or "Give a workspace created by guotu with -w (guotu demo or guotu import "
        "make one), or a new file name.",
        message_zh=f"{path} 不是 guotu 工作空间：{why_zh}。",
        fix_zh=fix_zh
        or "请用 -w 指定由 guotu 创建的工作空间（guotu demo 或 guotu import "
        "会新建一个），或一个新的文件名。",
    )


def q(name: str) -> str:
    """Quote an SQL identifier (layer and column names come from users' files)."""
    return '"' + name.replace('"', '""') + '"'


def rtree_name(name: str) -> str:
    return f"rtree_{name}_{GEOM}"


def rtree_triggers(name: str) -> list[str]:
    t, rt, g = q(name), q(rtree_name(name)), GEOM
    p = f"rtree_{name}_{g}"
    ins = (
        f"INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), "
        f"ST_MinY(NEW.{g}), ST_MaxY(NEW.{g}))"
    )
    ok = f"(NEW.{g} NOT NULL AND NOT ST_IsEmpty(NEW.{g}))"
    gone = f"(NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g}))"
    return [
        f"CREATE TRIGGER {q(p + '_insert')} AFTER INSERT ON {t} WHEN {ok} BEGIN {ins}; END",
        f"CREATE TRIGGER {q(p + '_update1')} AFTER UPDATE OF {g} ON {t} "
        f"WHEN OLD.fid = NEW.fid AND {ok} BEGIN {ins}; END",
        f"CREATE TRIGGER {q(p + '_update2')} AFTER UPDATE OF {g} ON {t} "
        f"WHEN OLD.fid = NEW.fid AND {gone} BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END",
        f"CREATE TRIGGER {q(p + '_update3')} AFTER UPDATE ON {t} "
        f"WHEN OLD.fid != NEW.fid AND {ok} BEGIN DELETE FROM {rt} WHERE id = OLD.fid; {ins}; END",
        f"CREATE TRIGGER {q(p + '_update4')} AFTER UPDATE ON {t} "
        f"WHEN OLD.fid != NEW.fid AND {gone} "
        f"BEGIN DELETE FROM {rt} WHERE id IN (OLD.fid, NEW.fid); END",
        f"CREATE TRIGGER {q(p + '_delete')} AFTER DELETE ON {t} WHEN OLD.{g} NOT NULL "
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END",
    ]


GPKG_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined',
  'undefined cartesian coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined',
  'undefined geographic coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326,
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
  'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
  (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
  max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE guotu_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE guotu_layers (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, features INTEGER NOT NULL,
  geometry_type TEXT NOT NULL, crs TEXT NOT NULL, columns TEXT NOT NULL, source TEXT,
  source_layer TEXT, field_map TEXT, imported_at TEXT NOT NULL);
"""

#: The trigger that keeps audit entries from being changed.
AUDIT_NO_UPDATE = """CREATE TRIGGER guotu_audit_no_update BEFORE UPDATE ON guotu_audit
  BEGIN SELECT RAISE(ABORT, 'guotu: the audit log is append-only'); END"""

#: guotu's plan, version, retirement and audit tables (schema 2). Versions and the audit log
#: are append-only: triggers refuse UPDATE and DELETE on them.
VERSIONING_DDL = [
    """CREATE TABLE guotu_plans (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, level TEXT NOT NULL,
  type TEXT NOT NULL, xzqdm TEXT NOT NULL DEFAULT '', parent_plan_id INTEGER
  REFERENCES guotu_plans(id), description TEXT NOT NULL DEFAULT '', is_implicit INTEGER
  NOT NULL DEFAULT 0)""",
    """CREATE TABLE guotu_versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, plan_id INTEGER NOT NULL REFERENCES guotu_plans(id),
  label TEXT NOT NULL, parent_id INTEGER REFERENCES guotu_versions(id), status TEXT NOT NULL,
  valid_from TEXT, valid_to TEXT, recorded_at TEXT NOT NULL, approval_no TEXT NOT NULL
  DEFAULT '', approval_organ TEXT NOT NULL DEFAULT '', approval_date TEXT, author TEXT NOT NULL
  DEFAULT '', reason TEXT NOT NULL DEFAULT '', UNIQUE (plan_id, label))""",
    """CREATE TABLE guotu_retired (
  layer TEXT NOT NULL, version_id INTEGER NOT NULL REFERENCES guotu_versions(id),
  fid INTEGER NOT NULL, PRIMARY KEY (layer, version_id, fid))""",
    """CREATE TABLE guotu_layer_versions (
  layer TEXT NOT NULL, version_id INTEGER NOT NULL REFERENCES guotu_versions(id),
  features INTEGER NOT NULL, added INTEGER NOT NULL, retired INTEGER NOT NULL,
  PRIMARY KEY (layer, version_id))""",
    """CREATE TABLE guotu_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, object TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}')""",
    """CREATE TRIGGER guotu_versions_no_update BEFORE UPDATE ON guotu_versions
  BEGIN SELECT RAISE(ABORT, 'guotu: a recorded version is never modified'); END""",
    """CREATE TRIGGER guotu_versions_no_delete BEFORE DELETE ON guotu_versions
  BEGIN SELECT RAISE(ABORT, 'guotu: a recorded version is never deleted'); END""",
    AUDIT_NO_UPDATE,
    """CREATE TRIGGER guotu_audit_no_delete BEFORE DELETE ON guotu_audit
  BEGIN SELECT RAISE(ABORT, 'guotu: the audit log is append-only'); END""",
    "ALTER TABLE guotu_layers ADD COLUMN plan_id INTEGER REFERENCES guotu_plans(id)",
]

#: guotu's non-spatial versioned tables (schema 3; see :mod:`guotu.store.tables`): which
#: versions recorded the content of a table, and the rows each recorded. Append-only.
TABLES_DDL = [
    """CREATE TABLE guotu_table_versions (
  name TEXT NOT NULL, version_id INTEGER NOT NULL REFERENCES guotu_versions(id),
  row_count INTEGER NOT NULL, source TEXT NOT NULL DEFAULT '', PRIMARY KEY (name, version_id))""",
    """CREATE TABLE guotu_table_rows (
  name TEXT NOT NULL, version_id INTEGER NOT NULL, seq INTEGER NOT NULL, item TEXT NOT NULL,
  unit TEXT NOT NULL DEFAULT '', year INTEGER NOT NULL, value REAL NOT NULL,
  source_row INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (name, version_id, seq),
  FOREIGN KEY (name, version_id) REFERENCES guotu_table_versions (name, version_id))""",
    *(
        f"""CREATE TRIGGER guotu_{table}_no_{op.lower()} BEFORE {op} ON guotu_{table}
  BEGIN SELECT RAISE(ABORT, 'guotu: a recorded table is never {verb}'); END"""
        for table in ("table_versions", "table_rows")
        for op, verb in (("UPDATE", "modified"), ("DELETE", "deleted"))
    ),
]

#: Schema 4, the hash-chained audit log (:mod:`guotu.store.audit`): where the actor acted
#: from, and each entry's hash and its predecessor's. The upgrade fills the hashes of older
#: entries with the no-update trigger (:data:`AUDIT_NO_UPDATE`) lifted for that one fill.
AUDIT_CHAIN_DDL = [
    *(
        f"ALTER TABLE guotu_audit ADD COLUMN {column} TEXT NOT NULL DEFAULT ''"
        for column in ("department", "address", "prev_hash", "hash")
    ),
    "CREATE INDEX guotu_audit_at ON guotu_audit (at)",
    "CREATE INDEX guotu_audit_actor ON guotu_audit (actor, id)",
]


def _history_table(name: str, key: str, columns: str) -> list[str]:
    """An append-only table of recorded states (see :mod:`guotu.store.identity_records`)."""
    return [
        f"CREATE TABLE {name} (seq INTEGER PRIMARY KEY AUTOINCREMENT, {columns}, "
        "recorded_at TEXT NOT NULL)",
        f"CREATE INDEX {name}_key ON {name} ({key}, seq)",
        *(
            f"CREATE TRIGGER {name}_no_{op.lower()} BEFORE {op} ON {name} BEGIN SELECT "
            f"RAISE(ABORT, 'guotu: a recorded state is never {verb}'); END"
            for op, verb in (("UPDATE", "modified"), ("DELETE", "deleted"))
        ),
    ]


#: Schema 4, identity (:mod:`guotu.store.identity`): departments, accounts, layer policies
#: and tokens as append-only histories; sessions kept in place.
IDENTITY_DDL = [
    *_history_table(
        "guotu_departments",
        "id",
        "id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, regions TEXT NOT NULL, "
        "active INTEGER NOT NULL",
    ),
    *_history_table(
        "guotu_users",
        "username_key",
        "username TEXT NOT NULL, username_key TEXT NOT NULL, display_name TEXT NOT NULL, "
        "department TEXT, roles TEXT NOT NULL, source TEXT NOT NULL, password_hash TEXT, "
        "active INTEGER NOT NULL, failed_sign_ins INTEGER NOT NULL, locked_until TEXT, "
        "password_changed_at TEXT",
    ),
    *_history_table(
        "guotu_layer_policies",
        "layer",
        "layer TEXT NOT NULL, grade TEXT NOT NULL, lists TEXT NOT NULL, hidden_fields TEXT "
        "NOT NULL, region_field TEXT",
    ),
    *_history_table(
        "guotu_tokens",
        "id",
        "id TEXT NOT NULL, username TEXT NOT NULL, username_key TEXT NOT NULL, name TEXT NOT "
        "NULL, secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, created_at TEXT NOT NULL, "
        "expires_at TEXT NOT NULL, revoked_at TEXT",
    ),
    """CREATE TABLE guotu_sessions (
  id_hash TEXT PRIMARY KEY, username TEXT NOT NULL, username_key TEXT NOT NULL,
  created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, address TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX guotu_sessions_user ON guotu_sessions (username_key)",
]


#: Schema 5, approval cases (:mod:`guotu.store.approvals`): cases, events, materials and
#: their bytes, closed stage visits as append-only histories; each case's status in place.
APPROVALS_DDL = [
    *_history_table(
        "guotu_approval_cases",
        "id",
        "id TEXT NOT NULL, workflow TEXT NOT NULL, procedure TEXT NOT NULL, applicant TEXT NOT "
        "NULL, project TEXT NOT NULL, location TEXT NOT NULL, site_wkt TEXT NOT NULL, "
        "site_area_m2 REAL NOT NULL, application_date TEXT NOT NULL, created_at TEXT NOT NULL, "
        "created_by TEXT NOT NULL, department TEXT NOT NULL, public INTEGER NOT NULL, "
        "detail TEXT NOT NULL",
    ),
    *_history_table(
        "guotu_approval_events",
        "case_id",
        "case_id TEXT NOT NULL, n INTEGER NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, "
        "value TEXT NOT NULL, department TEXT NOT NULL, actor TEXT NOT NULL, note TEXT NOT "
        "NULL, detail TEXT NOT NULL",
    ),
    "CREATE UNIQUE INDEX guotu_approval_events_n ON guotu_approval_events (case_id, n)",
    "CREATE INDEX guotu_approval_events_value ON guotu_approval_events (value)",
    "CREATE INDEX guotu_approval_events_actor ON guotu_approval_events (actor)",
    *_history_table(
        "guotu_approval_files",
        "case_id",
        "case_id TEXT NOT NULL, n INTEGER NOT NULL, material TEXT NOT NULL, filename TEXT NOT "
        "NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, "
        "uploaded_by TEXT NOT NULL",
    ),
    *_history_table(
        "guotu_approval_blobs", "sha256", "sha256 TEXT NOT NULL, content BLOB NOT NULL"
    ),
    *_history_table(
        "guotu_approval_visits",
        "case_id",
        "case_id TEXT NOT NULL, workflow TEXT NOT NULL, stage TEXT NOT NULL, entered TEXT NOT "
        "NULL, left_at TEXT NOT NULL, outcome TEXT NOT NULL, working_days INTEGER NOT NULL, "
        "late INTEGER NOT NULL, department TEXT NOT NULL",
    ),
    "CREATE INDEX guotu_approval_visits_workflow ON guotu_approval_visits (workflow)",
    """CREATE TABLE guotu_approval_status (
  case_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, stage TEXT NOT NULL, stage_kind TEXT NOT NULL,
  entered_at TEXT NOT NULL, due_on TEXT, paused INTEGER NOT NULL, closed INTEGER NOT NULL,
  waiting TEXT NOT NULL, events INTEGER NOT NULL, project TEXT NOT NULL, applicant TEXT NOT NULL,
  department TEXT NOT NULL, created_at TEXT NOT NULL, outcome TEXT NOT NULL,
  updated_at TEXT NOT NULL)""",
    "CREATE INDEX guotu_approval_status_open ON guotu_approval_status (closed, due_on)",
]

"""Emptying a PostGIS workspace (``guotu demo --force``): guotu's tables dropped and made anew.

Safe by construction: it runs in one transaction holding the workspace's writer lock, touches
only the tables guotu made (its own ``guotu_*`` tables and the layers ``guotu_layers`` lists),
refuses a schema holding anything else (another table, a view, an extension such as PostGIS
itself), and drops the tables without CASCADE, so an object elsewhere that depends on them (a
view in another schema) makes the reset fail with nothing dropped.
"""

from __future__ import annotations

from psycopg import sql

from guotu.errors import ConfigError
from guotu.ports import FeatureStore
from guotu.store.postgis import PostGISStore

__all__ = ["GUOTU_TABLES", "reset_workspace"]

#: guotu's own tables in a PostGIS workspace (see ``postgis_schema.PG_DDL``).
GUOTU_TABLES = (
    "guotu_meta",
    "guotu_plans",
    "guotu_versions",
    "guotu_layers",
    "guotu_retired",
    "guotu_layer_versions",
    "guotu_audit",
    "guotu_table_versions",
    "guotu_table_rows",
    "guotu_departments",
    "guotu_users",
    "guotu_layer_policies",
    "guotu_tokens",
    "guotu_sessions",
    "guotu_approval_cases",
    "guotu_approval_events",
    "guotu_approval_files",
    "guotu_approval_blobs",
    "guotu_approval_visits",
    "guotu_approval_status",
)


def reset_workspace(store: FeatureStore, *, actor: str = "", reason: str = "") -> None:
    """Drop every table of the PostGIS workspace in ``store`` and create empty ones; the new
    audit log starts with an entry saying so.

    Raises
    ------
    ConfigError
        ``store`` is not a PostGIS workspace, or its schema holds tables, views or
        extensions that guotu did not make.
    StoreError
        Another writer holds the workspace, or an object outside the schema depends on it.
    """
    if not isinstance(store, PostGISStore):
        raise ConfigError(
            f"Workspace {store.path} is not a PostGIS workspace; only those are emptied in place.",
            fix="Remove the GeoPackage file instead (guotu demo --force does).",
            message_zh=f"工作空间 {store.path} 不是 PostGIS 工作空间；只有 PostGIS 工作空间可原地清空。",
            fix_zh="请改为删除该 GeoPackage 文件（guotu demo --force 会这样做）。",
        )
    with store._store_errors("emptying the workspace", "清空工作空间"), store._transaction():
        store._lock_writer()
        layers = {i.name for i in store.layers()}
        rows = store._execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            (store.schema,),
        ).fetchall()
        tables = sorted(str(r[0]) for r in rows)
        extensions = [
            str(r[0])
            for r in store._execute(
                "SELECT e.extname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
                "e.extnamespace WHERE n.nspname = ?",
                (store.schema,),
            ).fetchall()
        ]
        foreign = [t for t in tables if t not in GUOTU_TABLES and t not in layers]
        if foreign or extensions:
            things = ", ".join([*foreign, *(f"extension {e}" for e in extensions)])
            things_zh = "、".join([*foreign, *(f"扩展 {e}" for e in extensions)])
            raise ConfigError(
                f"Schema {store.schema!r} of {store.path} also holds what guotu did not make "
                f"({things}); it is not emptied.",
                file=store.path,
                fix="Give the demo a schema of its own (options=-c search_path=NAME in the DSN).",
                message_zh=f"{store.path} 的模式 {store.schema!r} 中还有不是 guotu 建立的对象"
                f"（{things_zh}），未清空。",
                fix_zh="请为示范县指定单独的模式（在连接串中用 options=-c search_path=名称）。",
            )
        if tables:
            store._execute(
                sql.SQL("DROP TABLE {}").format(
                    sql.SQL(", ").join(sql.Identifier(store.schema, t) for t in tables)
                )
            )
        store._execute(
            sql.SQL("DROP FUNCTION IF EXISTS {}()").format(
                sql.Identifier(store.schema, "guotu_refuse")
            )
        )
        store._initialise()
        store._audit(
            actor,
            "reset",
            "workspace",
            reason or "清空工作空间并重建",
            {"dropped_layers": sorted(layers)},
        )

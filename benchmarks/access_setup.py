"""The workspaces and servers of ``bench_access.py``: two copies of the demo county, the OFF
one with its layer policies set back to the default and the ON one with a bureau's departments,
users, access tokens and layer policies (the module doc of ``bench_access.py``), their audit
counts, and a ``guotu serve`` process for each."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_serve import TILE_LAYER, _free_port, _Server

#: The benchmark's users: name, department, password (a throwaway copy's accounts).
USERS = {
    "on": ("li.gengdi", "gengdi", "Gd#2026-bench"),
    "on_rows": ("zhao.gengdi", "gengdi-county", "Gd#2026-bench"),
}
ADMIN = "bench-sec-admin"


# -- the two workspaces ----------------------------------------------------------------------
def copy_workspace(src: Path, dst: Path) -> None:
    """``src`` copied to ``dst`` through SQLite's backup (a GeoPackage in WAL mode)."""
    for path in (dst, Path(f"{dst}-wal"), Path(f"{dst}-shm")):
        path.unlink(missing_ok=True)
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def policies_off(gpkg: Path) -> list[str]:
    """Every layer policy of ``gpkg`` set back to the default; the layers it had one for."""
    from guotu.domain.access.policy import LayerPolicy
    from guotu.services.identity import set_layer_policy
    from guotu.services.workspace import open_workspace

    with open_workspace(gpkg) as store:
        names = sorted(store.layer_policies())
        for name in names:
            set_layer_policy(store, LayerPolicy(name), actor=ADMIN)
    return names


def bureau_policies() -> list[Any]:
    """The ON workspace's layer policies (the other layers keep what ``guotu demo`` set)."""
    from guotu.domain.access.grades import Grade
    from guotu.domain.access.policy import AccessList, Action, LayerPolicy

    def named(*departments: str) -> AccessList:
        return AccessList(departments=frozenset(departments))

    ours = [d for _, d, _ in USERS.values()]
    return [
        LayerPolicy("YJJBNT", Grade.RESTRICTED, {Action.READ: named(*ours)}, region_field="XZQDM"),
        LayerPolicy("STBHHX", Grade.INTERNAL),
        LayerPolicy(
            TILE_LAYER,
            Grade.INTERNAL,
            hidden_fields={"ZDXMLX": named("guihua")},
            region_field="XZQDM",
        ),
        LayerPolicy(
            "DLTB",
            Grade.INTERNAL,
            hidden_fields={"ZLDWMC": named("guihua", *ours)},
            region_field="XZQDM",
        ),
        LayerPolicy("XZQ", Grade.PUBLIC),
    ]


def policies_on(gpkg: Path) -> dict[str, Any]:
    """The ON bureau of the module doc on ``gpkg``: the tokens (by side) and what was set."""
    from guotu.domain.access.policy import Action
    from guotu.domain.access.records import Department
    from guotu.services.identity import (
        create_department,
        create_token,
        create_user,
        set_layer_policy,
    )
    from guotu.services.workspace import open_workspace

    with open_workspace(gpkg) as store:
        xzq = store.read_layer("XZQ")
        county = min(xzq["XZQDM"].astype(str), key=len)  # the 县级 code, e.g. 370999
        known = {d.id for d in store.departments()}
        for dept in (
            Department("gengdi", "耕地保护科"),
            Department("guihua", "国土空间规划科"),
            Department("gengdi-county", "耕地保护科（辖区按全县代码）", regions=(county,)),
        ):
            if dept.id not in known:
                create_department(store, dept, actor=ADMIN)
        tokens = {}
        for side, (user, dept, password) in USERS.items():
            create_user(
                store,
                username=user,
                display_name=user,
                department=dept,
                roles=["viewer"],
                password=password,
                actor=ADMIN,
            )
            tokens[side] = create_token(store, user, "bench", ["read"], 30, actor=ADMIN)[1]
        for policy in bureau_policies():
            set_layer_policy(store, policy, actor=ADMIN)
        policies = store.layer_policies()
    read = {n: p.access_list(Action.READ) for n, p in policies.items()}
    return {
        "tokens": tokens,
        "county_code": county,
        "policies": {
            name: {
                "grade": p.grade.value,
                "read": sorted(read[name].departments | read[name].roles),
                "hidden": sorted(p.hidden_fields),
                "region_field": p.region_field,
            }
            for name, p in sorted(policies.items())
        },
    }


def audit_counts(gpkg: Path, after: int = 0) -> tuple[int, dict[str, int]]:
    """The last audit id, and the audit records after id ``after`` by action."""
    conn = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    try:
        last = conn.execute("SELECT coalesce(max(id), 0) FROM guotu_audit").fetchone()[0]
        rows = conn.execute(
            "SELECT action, count(*) FROM guotu_audit WHERE id > ? GROUP BY action", (after,)
        ).fetchall()
    finally:
        conn.close()
    return int(last), {str(a): int(n) for a, n in rows}


# -- the servers ------------------------------------------------------------------------------
@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` while a server process starts (it inherits them)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_server(gpkg: Path, env: dict[str, str]) -> _Server:
    """``bench_serve``'s server, started with ``env`` in its environment."""
    with environment(env):
        return _Server(gpkg, _free_port())

"""Access-control benchmark (issue 16 §5): what identity and graded access cost on the hot
paths, with them on and off, in the same run.

On the demo county (300,000 parcels by default; built like ``bench_serve.py``'s, and shared
with it through ``--workdir``), two copies of the workspace, each served by ``guotu serve`` on
loopback, both running at once:

* **OFF**: ``auth = none`` (every request is the local user, no token to resolve). ``guotu
  demo`` now seeds a bureau's departments, accounts and layer policies; they are set back to
  the default here (内部, nobody named, no hidden field, no region: what a layer without a
  policy has), so no 受限 read is audited and nothing is hidden or filtered. With
  ``--off-as-built`` they are kept, and OFF measures the authentication alone.
* **ON**: ``auth = local``. On top of the demo's departments and accounts: the policies a
  bureau would set (永久基本农田 ``YJJBNT`` 受限, readable by 耕地保护科 only, so every answer
  with a farmland parcel writes a ``read_restricted`` audit record; 生态保护红线 ``STBHHX``
  内部; the planned land use ``GHYD`` 内部 with a hidden field, ``ZDXMLX``, shown to 国土空间
  规划科 only, and limited by region, ``XZQDM``; the land survey ``DLTB`` 内部 with ``ZLDWMC``
  hidden from other departments and limited by region; the boundaries ``XZQ`` 公开), two users
  of 耕地保护科 with a ``read`` access token each, and every request carrying ``Authorization:
  Bearer gt_…`` (resolved per request: token, account and department read from the workspace):

  * **on**: a user of 耕地保护科 (a department of the whole county: no row filter);
  * **on, row filter**: the same rights, in a department whose region is the county's own
    code, so the row filter runs on every region-limited layer but admits every row (the
    answers stay those of the others: the worst case of the policy work).

The clients are ``bench_serve.py``'s: one keep-alive ``http.client`` connection per side (a new
one each pass: uvicorn closes an idle one after 5 s). The measurements rotate over the three
sides pass by pass (pass ``i`` starts with side ``i mod 3``), so machine noise hits all:

* **site query**: ``GET /query?point=X,Y`` for ``bench_serve.py``'s points (10,000 uniform in
  the county, seeded): p50/p99 and sequential throughput per pass, medians of the passes; ON
  minus OFF. The answers of a sample of points must be the same (layer, feature) sets. The
  sample's points are also timed apart: those that answer a 受限 layer and the others.
* **tiles** of ``GHYD`` at z14 (every tile meeting the county), after a z12 tile has built the
  layer's index in each server: *uncached*, the first request of each tile (pass ``i``
  requests every ``repeat``-th tile from ``i``, so each pass finds every side's cache cold);
  *cached*, the whole set again (repeated to about 1,000 requests a pass). The feature ids of
  every tile must agree.
* **sign-in**: ``POST /auth/sign-in`` per second on the ON server, one client and two
  concurrent clients (its per-address rate limit is raised: ``GUOTU_SIGN_INS_PER_MINUTE``);
  argon2id hash and verify times in-process with the project's parameters and OWASP's other
  equivalent choices.
* **in-process**, to tell where the time goes: a token resolved to its principal (what the
  server does per request), the site query through the service with each side's principal,
  and one audit write of a 受限 read.

Usage::

    python benchmarks/bench_access.py [--parcels 300000] [--quick] [--repeat 5]
        [--points 10000] [--workdir /tmp/bench-serve] [--workspace demo.gpkg] [--off-as-built]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench_serve import (
    HERE,
    SAMPLE,
    TILE_LAYER,
    _applies,
    _free_port,
    _get,
    _ms,
    _Server,
    _stats,
    build_demo,
    sample_points,
    tile_fids,
    tiles_covering,
    timed_passes,
)

ZOOM = 14  # the tile set (bench_serve's z14: 126 tiles on the county)
#: The benchmark's users: name, department, password (a throwaway copy's accounts).
USERS = {
    "on": ("li.gengdi", "gengdi", "Gd#2026-bench"),
    "on_rows": ("zhao.gengdi", "gengdi-county", "Gd#2026-bench"),
}
LABELS = {"off": "auth off", "on": "auth on", "on_rows": "auth on, row filter"}
ADMIN = "bench-sec-admin"
#: Goals of issue 16 §5.
GOAL_P99_ADDED_MS = 0.3
GOAL_TILE_RATIO = 0.95
#: argon2id (time cost, memory KiB, lanes): OWASP's five equivalent choices.
ARGON2_CHOICES = ((2, 19_456, 1), (1, 47_104, 1), (3, 12_288, 1), (4, 9_216, 1), (5, 7_168, 1))


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


# -- the servers and their clients -----------------------------------------------------------
class BearerConnection(http.client.HTTPConnection):
    """A keep-alive connection that sends ``Authorization: Bearer …`` with every request."""

    def __init__(self, host: str, port: int, token: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.authorization = f"Bearer {token}"

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        encode_chunked: bool = False,
    ) -> None:
        sent = {**(headers or {}), "Authorization": self.authorization}
        super().request(method, url, body, sent, encode_chunked=encode_chunked)


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


class Side:
    """One way of asking (OFF, or ON as one user): a server and a keep-alive connection."""

    def __init__(self, name: str, server: _Server, token: str | None) -> None:
        self.name, self.server, self.token = name, server, token
        self.conn = self.connect()

    def connect(self, *, anonymous: bool = False) -> http.client.HTTPConnection:
        if self.token is None or anonymous:
            return http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
        return BearerConnection("127.0.0.1", self.server.port, self.token, timeout=120)

    def get(self, path: str) -> tuple[int, bytes]:
        """bench_serve's GET; once more on a new connection when the server closed an idle
        one (every timed pass starts on a new connection, so never inside a pass)."""
        try:
            return _get(self.conn, path)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.conn.close()
            return _get(self.conn, path)


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def busy_processes(mine: set[int]) -> list[str]:
    """Other processes using CPU (``ps``: their CPU share since they started, ≥ 5 %)."""
    out = subprocess.run(
        ["ps", "-eo", "pid=,pcpu=,etimes=,args=", "--sort=-pcpu"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = []
    for line in out.splitlines():
        pid, pcpu, etimes, args = line.split(None, 3)
        if int(pid) in mine or float(pcpu) < 5:
            continue
        found.append(f"{pid} {pcpu}% {int(etimes)}s {args[:80]}")
    return found[:6]


Run = Callable[[Side, int], dict[str, Any]]


def rotate(sides: tuple[Side, ...], passes: int, run: Run) -> dict[str, list[dict[str, Any]]]:
    """``run(side, i)`` for pass ``i`` on every side, starting with side ``i mod n``; each
    pass starts on a new connection and records the load average at its start."""
    out: dict[str, list[dict[str, Any]]] = {s.name: [] for s in sides}
    for i in range(passes):
        k = i % len(sides)
        for side in sides[k:] + sides[:k]:
            side.conn.close()
            load = _load()
            r = run(side, i)
            r["load"] = load
            out[side.name].append(r)
    return out


def one_pass(items: list[Any], fn: Callable[[Any], Any]) -> dict[str, Any]:
    """One timed pass of ``fn`` over ``items`` (bench_serve's timing, no warm-up)."""
    return dict(timed_passes(items, fn, 1, warmup=0)["passes"][0])


def medians(passes: list[dict[str, Any]]) -> dict[str, float]:
    keys = ("p50_us", "p99_us", "mean_us", "per_s")
    return {k: statistics.median(p[k] for p in passes) for k in keys}


def ons(sides: tuple[Side, ...]) -> list[str]:
    return [s.name for s in sides if s.name != "off"]


# -- measurements ----------------------------------------------------------------------------
def measure_query(sides: tuple[Side, ...], points: np.ndarray, repeat: int) -> dict[str, Any]:
    paths = [f"/query?point={x!r},{y!r}" for x, y in points.tolist()]
    res: dict[str, Any] = {"first_request_s": {}}
    for side in sides:
        t = time.perf_counter()
        status, body = side.get(paths[0])  # builds the site-query index in the server
        res["first_request_s"][side.name] = time.perf_counter() - t
        if status != 200:
            raise RuntimeError(f"{side.name}: GET {paths[0]} answered {status}: {body[:300]!r}")
        for p in paths[:200]:  # warm-up
            side.get(p)
    errors = {s.name: 0 for s in sides}

    def run(side: Side, _i: int) -> dict[str, Any]:
        def one(path: str) -> None:
            if side.get(path)[0] != 200:
                errors[side.name] += 1

        return one_pass(paths, one)

    passes = rotate(sides, repeat, run)
    res["passes"], res["errors"] = passes, errors
    res.update({name: medians(p) for name, p in passes.items()})
    res["paired_added_us"] = {
        name: {
            k: [on[k] - off[k] for off, on in zip(passes["off"], passes[name], strict=True)]
            for k in ("p50_us", "p99_us")
        }
        for name in ons(sides)
    }
    # the answers: the same (layer, feature) sets; which sample points answer a 受限 layer
    docs = {s.name: [json.loads(s.get(p)[1]) for p in paths[:SAMPLE]] for s in sides}
    res["sample"] = SAMPLE
    res["sample_equal"] = {
        name: sum(_applies(a) == _applies(b) for a, b in zip(docs["off"], docs[name], strict=True))
        for name in ons(sides)
    }
    res["hidden_field_shown"] = {
        name: sum("ZDXMLX" in e.get("properties", {}) for d in docs[name] for e in d["applies"])
        for name in ons(sides)
    }
    restricted = [any(e["layer"] == "YJJBNT" for e in d["applies"]) for d in docs["on"]]
    res["sample_restricted"] = sum(restricted)
    # the sample's points that answer a 受限 layer (an audit record each), and the others
    for label, keep in (("restricted", True), ("unrestricted", False)):
        subset = [p for p, r in zip(paths[:SAMPLE], restricted, strict=True) if r is keep]
        if len(subset) < 20:
            continue
        items = subset * max(1, 2000 // len(subset))
        split = rotate(sides, repeat, lambda side, _i, items=items: one_pass(items, side.get))
        res[f"split_{label}"] = {name: medians(p) for name, p in split.items()}
        res[f"split_{label}"]["points"] = len(subset)
    return res


def measure_tiles(sides: tuple[Side, ...], gpkg: Path, repeat: int) -> dict[str, Any]:
    tiles = tiles_covering(gpkg, ZOOM)
    paths = [f"/tiles/{TILE_LAYER}/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    _, x, y = tiles[0]
    first = f"/tiles/{TILE_LAYER}/12/{x >> (ZOOM - 12)}/{y >> (ZOOM - 12)}.mvt"
    res: dict[str, Any] = {"zoom": ZOOM, "tiles": len(paths), "index_tile_s": {}}
    for side in sides:  # the layer's index (the first tile builds it), not in the rates
        t = time.perf_counter()
        status, _ = side.get(first)
        res["index_tile_s"][side.name] = time.perf_counter() - t
        if status not in (200, 204):
            raise RuntimeError(f"{side.name}: GET {first} answered {status}")
    statuses: dict[str, list[int]] = {s.name: [] for s in sides}

    def uncached(side: Side, i: int) -> dict[str, Any]:
        part = paths[i::repeat]
        r = one_pass(part, lambda p: statuses[side.name].append(side.get(p)[0]))
        r["wall_s"] = len(part) / r["per_s"]
        return r

    cold = rotate(sides, repeat, uncached)
    res["uncached_passes"] = cold
    total = sum(len(paths[i::repeat]) for i in range(repeat))
    for name, passes in cold.items():
        res[name] = {
            "uncached": {
                "per_s": total / sum(p["wall_s"] for p in passes),
                "tiles": total,
                "p50_us": statistics.median(p["p50_us"] for p in passes),
            },
            "statuses": {str(s): statuses[name].count(s) for s in sorted(set(statuses[name]))},
        }
    res["uncached_pass_ratios"] = {
        name: [b["per_s"] / a["per_s"] for a, b in zip(cold["off"], cold[name], strict=True)]
        for name in ons(sides)
    }
    items = paths * max(1, 1000 // len(paths))
    warm = rotate(sides, repeat, lambda side, _i: one_pass(items, side.get))
    res["cached_passes"] = warm
    for name, passes in warm.items():
        res[name]["cached"] = medians(passes)
    # the tiles agree: the same feature ids (the hidden field changes the properties only)
    got = {s.name: [s.get(p) for p in paths] for s in sides}
    res["fids_equal"] = {
        name: sum(
            a[0] == b[0] and tile_fids(a[1]) == tile_fids(b[1])
            for a, b in zip(got["off"], got[name], strict=True)
        )
        for name in ons(sides)
    }
    res["bytes"] = {name: sum(len(b) for _, b in g) for name, g in got.items()}
    return res


def measure_sign_in(side: Side, repeat: int, n: int) -> dict[str, Any]:
    user, _, password = USERS["on"]
    body = json.dumps({"username": user, "password": password})
    errors: list[int] = []

    def sign_in(conn: http.client.HTTPConnection) -> None:
        conn.request("POST", "/auth/sign-in", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            errors.append(r.status)

    conn = side.connect(anonymous=True)  # a browser's sign-in: no token
    for _ in range(3):
        sign_in(conn)
    res: dict[str, Any] = {"sequential_passes": []}
    for _ in range(repeat):
        res["sequential_passes"].append(one_pass(list(range(n)), lambda _k: sign_in(conn)))
    conn.close()
    res["sequential"] = medians(res["sequential_passes"])

    def concurrent() -> dict[str, Any]:
        lat: list[int] = []
        start = threading.Barrier(3)

        def client() -> None:
            c = side.connect(anonymous=True)
            sign_in(c)
            start.wait()
            for _ in range(n):
                t = time.perf_counter_ns()
                sign_in(c)
                lat.append(time.perf_counter_ns() - t)
            c.close()

        threads = [threading.Thread(target=client) for _ in range(2)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        return _stats(lat, time.perf_counter() - t0)

    res["two_clients_passes"] = [concurrent() for _ in range(repeat)]
    res["two_clients"] = medians(res["two_clients_passes"])
    res["errors"], res["error_statuses"] = len(errors), sorted(set(errors))
    return res


def measure_argon2(n: int) -> dict[str, Any]:
    from guotu.services.identity import HashParameters, hash_password, verify_password
    from guotu.settings import Settings

    s = Settings()
    project = HashParameters(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)
    password = USERS["on"][2]
    rows = []
    for t, m, p in ARGON2_CHOICES:
        q = HashParameters(t, m, p)
        h = hash_password(password, params=q)
        items = list(range(n))
        rows.append(
            {
                "time_cost": t,
                "memory_kib": m,
                "parallelism": p,
                "project": q == project,
                "hash": timed_passes(
                    items, lambda _k, q=q: hash_password(password, params=q), 1, 2
                ),
                "verify": timed_passes(
                    items, lambda _k, q=q, h=h: verify_password(h, password, params=q), 1, 2
                ),
            }
        )
    return {
        "project": [project.time_cost, project.memory_kib, project.parallelism],
        "choices": rows,
    }


def measure_in_process(
    off_gpkg: Path, on_gpkg: Path, tokens: dict[str, str], points: np.ndarray, repeat: int
) -> dict[str, Any]:
    """Where the time goes: token → principal, the site query per principal, an audit write."""
    from guotu.services.access import local_principal, record_restricted_read
    from guotu.services.identity import principal_for, resolve_token
    from guotu.services.site_query import SiteQuery
    from guotu.services.workspace import open_workspace

    texts = [f"{x!r},{y!r}" for x, y in points[:2000].tolist()]
    out: dict[str, Any] = {}
    with open_workspace(off_gpkg) as off, open_workspace(on_gpkg) as on:

        def who(text: str) -> Any:
            found = resolve_token(on, text)
            assert found is not None, "the token does not resolve"
            return principal_for(on, found[0], token=found[1])

        items = list(range(1000))
        for name, text in tokens.items():
            out[f"token_{name}"] = timed_passes(items, lambda _k, t=text: who(t), repeat, 50)
        principals = {"off": (off, local_principal())}
        principals.update({name: (on, who(text)) for name, text in tokens.items()})
        queries = {id(off): SiteQuery(), id(on): SiteQuery()}  # one index per workspace
        for name, (store, p) in principals.items():
            q = queries[id(store)]
            q.query(store, point=texts[0], principal=p)  # builds the index (the first time)
            out[f"query_{name}"] = timed_passes(
                texts,
                lambda t, q=q, s=store, p=p: q.query(s, point=t, principal=p).to_dict(),
                repeat,
                100,
            )
        p_on = principals["on"][1]
        out["audit_write"] = timed_passes(
            list(range(500)),
            lambda _k: record_restricted_read(on, p_on, "YJJBNT", "bench", "127.0.0.1"),
            repeat,
            10,
        )
    return out


def sanity(side: Side, point: str) -> dict[str, Any]:
    """What the ON server answers without a token, and with a token that is not one."""
    anon = side.connect(anonymous=True)
    status, body = _get(anon, f"/query?point={point}")
    doc = json.loads(body) if status == 200 else {}
    bad = "gt_0000000000000000_" + "A" * 43
    anon.request("GET", f"/query?point={point}", headers={"Authorization": f"Bearer {bad}"})
    r = anon.getresponse()
    r.read()
    anon.close()
    return {
        "anonymous_status": status,
        "anonymous_layers": sorted({e["layer"] for e in doc.get("applies", [])}),
        "anonymous_restricted_omitted": doc.get("restricted_layers_omitted"),
        "bad_token_status": r.status,
    }


# -- report ----------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    from importlib import metadata

    info = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((x.split(":", 1)[1].strip() for x in info if x.startswith("model name")), "?")
    mem = next(
        int(x.split()[1]) / 2**20
        for x in Path("/proc/meminfo").read_text().splitlines()
        if x.startswith("MemTotal")
    )
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        **{p: metadata.version(p) for p in ("fastapi", "uvicorn", "argon2-cffi")},
    }


def _d(us: float) -> str:
    return f"{'+' if us >= 0 else '−'}{abs(us) / 1000:.3f} ms"


def _us(r: dict[str, Any]) -> str:
    return f"{r['p50_us']:,.0f} µs"


def report(res: dict[str, Any]) -> list[str]:
    q, t, s, a, ip = res["query"], res["tiles"], res["sign_in"], res["argon2"], res["in_process"]
    names = ["on", "on_rows"]
    out = [
        f"## Access control — {res['parcels']:,} parcels, {res['points']:,} points, "
        f"{res['repeat']} rotating passes, medians of the passes\n",
        "| | auth off | auth on | added / ratio | auth on, row filter | added / ratio | goal |",
        "|---|---|---|---|---|---|---|",
    ]
    off = q["off"]
    for key, label in (("p50_us", "site query p50 (`GET /query`)"), ("p99_us", "site query p99")):
        cells = [_ms(off[key])]
        for name in names:
            cells += [_ms(q[name][key]), _d(q[name][key] - off[key])]
        goal = ""
        if key == "p99_us":
            worst = max(q[n][key] - off[key] for n in names)
            goal = f"≤ +{GOAL_P99_ADDED_MS} ms {'✔' if worst <= GOAL_P99_ADDED_MS * 1e3 else '✘'}"
        out.append(f"| {label} | {' | '.join(cells)} | {goal} |")
    cells = [f"{off['per_s']:,.0f}/s"]
    for name in names:
        cells += [f"{q[name]['per_s']:,.0f}/s", f"{q[name]['per_s'] / off['per_s']:.3f}×"]
    out.append(f"| site query throughput | {' | '.join(cells)} | |")
    for kind, label in (("uncached", "uncached (first request)"), ("cached", "cached")):
        base = t["off"][kind]["per_s"]
        cells = [f"{base:,.1f}/s"]
        for name in names:
            cells += [f"{t[name][kind]['per_s']:,.1f}/s", f"{t[name][kind]['per_s'] / base:.3f}×"]
        worst = min(t[n][kind]["per_s"] / base for n in names)
        mark = "✔" if worst >= GOAL_TILE_RATIO else "✘"
        out.append(
            f"| {TILE_LAYER} z{t['zoom']} tiles, {label} | {' | '.join(cells)} "
            f"| ≥ {GOAL_TILE_RATIO}× {mark} |"
        )
    seq, two = s["sequential"], s["two_clients"]
    out.append(
        f"| sign-in (`POST /auth/sign-in`), 1 client | | {seq['per_s']:.1f}/s "
        f"(p50 {_ms(seq['p50_us'])}, p99 {_ms(seq['p99_us'])}) | | | | |"
    )
    out.append(
        f"| sign-in, 2 concurrent clients | | {two['per_s']:.1f}/s "
        f"(p50 {_ms(two['p50_us'])}, p99 {_ms(two['p99_us'])}) | | | | |"
    )
    out.append("")
    for name in names:
        pa = q["paired_added_us"][name]
        out.append(
            f"{LABELS[name]}, per pass, added p50 [{', '.join(_d(v) for v in pa['p50_us'])}], "
            f"p99 [{', '.join(_d(v) for v in pa['p99_us'])}]; uncached tile rate / OFF "
            f"[{', '.join(f'{r:.3f}' for r in t['uncached_pass_ratios'][name])}]"
        )
    for label in ("restricted", "unrestricted"):
        sp = q.get(f"split_{label}")
        if sp:
            out.append(
                f"sample points answering {'a' if label == 'restricted' else 'no'} 受限 layer "
                f"({sp['points']}): p50 / p99 "
                + "; ".join(f"{k} {_ms(sp[k]['p50_us'])} / {_ms(sp[k]['p99_us'])}" for k in LABELS)
            )
    out.append(
        f"answers: the same (layer, feature) sets as OFF for {q['sample_equal']} of "
        f"{q['sample']} sample points; {q['sample_restricted']} answer YJJBNT (受限: an audit "
        f"record each); the hidden field shown {q['hidden_field_shown']} times; "
        f"errors {q['errors']}"
    )
    out.append(
        f"tiles: same feature ids as OFF {t['fids_equal']} of {t['tiles']}; bytes {t['bytes']}; "
        f"statuses OFF {t['off']['statuses']}; layer index (first z12 tile) "
        + ", ".join(f"{k} {v:.1f} s" for k, v in t["index_tile_s"].items())
        + "; first site query (index build) "
        + ", ".join(f"{k} {v:.1f} s" for k, v in q["first_request_s"].items())
    )
    ck = res["checks"]
    out.append(
        f"ON without a token: {ck['anonymous_status']}, layers {ck['anonymous_layers']}, "
        f"restricted_layers_omitted={ck['anonymous_restricted_omitted']}; with a bad token: "
        f"{ck['bad_token_status']}; audit records written by the ON server: {res['audit_on']}; "
        f"sign-in errors {s['errors']} {s['error_statuses']}"
    )
    out.append(
        f"in-process p50: token → principal {_us(ip['token_on'])}; site query through the "
        f"service OFF {_us(ip['query_off'])}, ON {_us(ip['query_on'])}, ON row filter "
        f"{_us(ip['query_on_rows'])}; one audit write (受限 read) {_us(ip['audit_write'])}"
    )
    out.append(
        "\n| argon2id (t, m, p) | hash p50 | verify p50 | verifies/s (one thread) |"
        "\n|---|---|---|---|"
    )
    for r in a["choices"]:
        name = f"t={r['time_cost']}, m={r['memory_kib'] // 1024} MiB, p={r['parallelism']}"
        if r["project"]:
            name = f"**{name}** (guotu's)"
        out.append(
            f"| {name} | {_ms(r['hash']['p50_us'])} | {_ms(r['verify']['p50_us'])} | "
            f"{r['verify']['per_s']:.1f}/s |"
        )
    m = res["machine"]
    out.append(
        f"\nmachine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB; Python {m['python']}, "
        f"FastAPI {m['fastapi']}, uvicorn {m['uvicorn']}, argon2-cffi {m['argon2-cffi']}; "
        f"load average {res['load_before']:.2f} before, {min(res['loads']):.2f}–"
        f"{max(res['loads']):.2f} at the passes' starts; server peak memory "
        + ", ".join(f"{k} {v:,.0f} MB" for k, v in res["server_max_rss_mb"].items())
    )
    for when, procs in res["busy"].items():
        out.append(f"other busy processes {when}: " + ("; ".join(procs) or "none"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--quick", action="store_true", help="30k parcels, 2,000 points")
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5, help="rotating passes")
    ap.add_argument("--sign-ins", type=int, default=100, help="sign-ins per pass and client")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench-serve"))
    ap.add_argument(
        "--workspace",
        type=Path,
        help="an existing demo workspace (instead of building one in --workdir)",
    )
    ap.add_argument(
        "--off-as-built",
        action="store_true",
        help="OFF keeps the layer policies guotu demo seeded (default: reset, so OFF is auth "
        "and policies off)",
    )
    args = ap.parse_args()
    parcels = 30_000 if args.quick else args.parcels
    n_points = 2_000 if args.quick else args.points
    sign_ins = min(args.sign_ins, 40) if args.quick else args.sign_ins
    load_before = _load()
    busy = {"before": busy_processes({os.getpid()})}
    gpkg = args.workspace or build_demo(args.workdir, parcels)
    run_dir = args.workdir / f"access-p{parcels}"
    run_dir.mkdir(parents=True, exist_ok=True)
    off_gpkg, on_gpkg = run_dir / "off.gpkg", run_dir / "on.gpkg"
    t = time.perf_counter()
    copy_workspace(gpkg, off_gpkg)
    copy_workspace(gpkg, on_gpkg)
    reset = [] if args.off_as_built else policies_off(off_gpkg)
    setup = policies_on(on_gpkg)
    print(f"workspaces copied and set up in {time.perf_counter() - t:.0f} s", flush=True)
    audit_start, _ = audit_counts(on_gpkg)
    points = sample_points(gpkg, n_points)
    res: dict[str, Any] = {
        "parcels": parcels,
        "points": n_points,
        "repeat": args.repeat,
        "workspace": str(gpkg),
        "off_policies_reset": reset,
        "on_policies": setup["policies"],
        "county_code": setup["county_code"],
        "load_before": load_before,
        "busy": busy,
        "machine": machine(),
    }
    servers: list[_Server] = []
    try:
        servers.append(start_server(off_gpkg, {"GUOTU_AUTH": "none"}))
        servers.append(
            start_server(on_gpkg, {"GUOTU_AUTH": "local", "GUOTU_SIGN_INS_PER_MINUTE": "1000000"})
        )
        sides = (
            Side("off", servers[0], None),
            Side("on", servers[1], setup["tokens"]["on"]),
            Side("on_rows", servers[1], setup["tokens"]["on_rows"]),
        )
        mine = {os.getpid(), *(s.proc.pid for s in servers)}
        print("… site query", flush=True)
        res["query"] = measure_query(sides, points, args.repeat)
        busy["during"] = busy_processes(mine)
        print("… tiles", flush=True)
        res["tiles"] = measure_tiles(sides, gpkg, args.repeat)
        x, y = points[0].tolist()
        res["checks"] = sanity(sides[1], f"{x!r},{y!r}")
        print("… sign-in", flush=True)
        res["sign_in"] = measure_sign_in(sides[1], args.repeat, sign_ins)
        busy["after"] = busy_processes(mine)
        res["server_max_rss_mb"] = {
            n: s.max_rss_mb() for n, s in zip(("off", "on"), servers, strict=True)
        }
        for side in sides:
            side.conn.close()
    finally:
        for server in servers:
            server.stop()
    res["audit_on"] = audit_counts(on_gpkg, audit_start)[1]
    print("… in-process", flush=True)
    res["in_process"] = measure_in_process(
        off_gpkg, on_gpkg, setup["tokens"], points, min(args.repeat, 3)
    )
    res["argon2"] = measure_argon2(10 if args.quick else 20)
    res["loads"] = [
        p["load"]
        for part in (res["query"]["passes"], res["tiles"]["uncached_passes"])
        for passes in part.values()
        for p in passes
    ]
    print("\n".join(report(res)))
    path = HERE / "results" / f"access-{parcels}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(res, default=str, indent=1, ensure_ascii=False))
    print(f"\nresults: {path}")
    shutil.rmtree(run_dir, ignore_errors=True)  # the two copies (the county itself is kept)


if __name__ == "__main__":
    main()

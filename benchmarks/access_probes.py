"""The timed probes of ``bench_access.py``: the clients of each side (OFF, or ON as one user),
the passes that rotate over the sides, and the measurements (site query, tiles, sign-in,
argon2id, in-process) with the checks of what the servers answer."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from access_setup import USERS
from bench_serve import (
    SAMPLE,
    TILE_LAYER,
    _applies,
    _get,
    _Server,
    _stats,
    tile_fids,
    tiles_covering,
    timed_passes,
)

ZOOM = 14  # the tile set (bench_serve's z14: 126 tiles on the county)
#: argon2id (time cost, memory KiB, lanes): OWASP's five equivalent choices.
ARGON2_CHOICES = ((2, 19_456, 1), (1, 47_104, 1), (3, 12_288, 1), (4, 9_216, 1), (5, 7_168, 1))


# -- the clients ------------------------------------------------------------------------------
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


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


Run = Callable[[Side, int], dict[str, Any]]


def rotate(sides: tuple[Side, ...], passes: int, run: Run) -> dict[str, list[dict[str, Any]]]:
    """``run(side, i)`` for pass ``i`` on every side, starting with side ``i mod n``; each
    pass starts on a new connection and records the load average at its start."""
    out: dict[str, list[dict[str, Any]]] = {s.name: [] for s in sides}
    for i in range(passes):
        k = i % len(sides)
        for side in sides[k:] + sides[:k]:
            side.conn.close()
            load = load_average()
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

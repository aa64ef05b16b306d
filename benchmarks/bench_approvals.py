"""Approval-cases benchmark (issue 17): a county-year of cases in both stores, and what the
window, the departments and the statistics page ask of them.

Goals (issue 17): with 20,000 cases of about 10 events each, the case list and 待办 queries
answer within 50 ms at p99, the statistics page within 1 s, and an intake with the automatic
review of a typical site within 2 s end to end.

* **Workspaces**: the demo county (``bench_serve.py``'s, 30,000 parcels by default, built once
  in ``--workdir`` and reused) copied to a GeoPackage of this run; and ``guotu demo`` built
  anew in a PostGIS schema of its own (``--schema``, dropped first: only that schema). Each
  gets the benchmark's accounts (:data:`USERS`, known passwords): the window (clerk), a
  reviewer and an approver of 国土空间规划科, and a reviewer of each co-review department.
* **Load** (timed, not a goal): ``--cases`` cases accepted on the working days of 2026-01-05 …
  2026-11-30 over the six national example procedures (:data:`MIX`), each with its events made
  on the procedure's graph: 受理, the automatic review's result, co-review opinions, 补正
  asked and completed, expert-review pauses, notes, the decision, the issued document's record
  (no PDF), at times on the working-day calendar, none later than now. ``--closed`` of them
  (70 %) are closed: cases that closed are stalled at a random stage until that share is
  reached, most of them waiting for the applicant's 补正 (paused), the others overdue. Each
  case is one ``create_approval_case`` and ONE ``append_events`` call, so the engine still
  checks the events on the procedure and computes the status and the closed stage visits.
  Sites are rectangles of 30–200 m inside the county (workspace CRS).
* **HTTP**: ``guotu serve`` (uvicorn, its own process) with ``auth = local``; every client
  signs in with a session of its own (cookies, CSRF token) and keeps its connection alive.
  ``GET /cases.json?box=todo`` for a co-review department's reviewer (住建), the window and the
  approver, ``box=overdue`` and ``box=all&limit=200`` (the approver): p50/p99 over
  ``--requests`` requests from ``--clients`` concurrent clients, and over 200 from one client.
  ``GET /cases/stats.json``: ``--stats`` requests, one client. ``POST /cases`` by the window
  (``--intakes`` of them): a site inside a detailed-plan parcel of the demo (shrunk 2 m, with
  the parcel's code and indicators), applied for today, so the engine records 受理 and runs the
  automatic review against the one map.
* **In-process** (reference): the same lists, statistics and intakes through the services
  (:func:`guotu.services.approval_views.todo`, ``statistics``,
  :func:`guotu.services.approvals.intake`).

The table goes to stdout and to ``results/approvals-<date>.md``, the raw figures to
``results/approvals-<cases>.json``.

Usage::

    python benchmarks/bench_approvals.py [--cases 20000] [--parcels 30000] [--clients 4]
        [--requests 600] [--intakes 10] [--stats 10] [--workdir /tmp/bench-serve]
        [--dsn postgresql://…] [--schema bench_approvals] [--no-postgis] [--keep-postgis]

PostGIS: ``--dsn`` (a ``postgresql://`` URL), else ``GUOTU_BENCH_PG_DSN`` or
``GUOTU_TEST_PG_DSN``, else a throwaway server that ``scripts/pg-throwaway`` starts (and stops).
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import shutil
import statistics as stats_
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import shapely

from access_probes import load_average
from access_setup import copy_workspace, start_server
from bench_access import busy_processes, machine
from bench_serve import BIN, HERE, ROOT, SRID, _stats, build_demo, sample_points

#: Goals of issue 17.
GOAL_LIST_P99_MS, GOAL_STATS_S, GOAL_INTAKE_S = 50.0, 1.0, 2.0
FIRST_DAY, LAST_DAY = date(2026, 1, 5), date(2026, 11, 30)
#: The procedures and their share of the cases (the example province's profile left out).
MIX = {
    "cn-construction-permit": 0.40,
    "cn-rural-construction-permit": 0.20,
    "cn-land-use-permit": 0.15,
    "cn-completion-verification": 0.12,
    "cn-siting-preexam": 0.10,
    "cn-land-consolidation": 0.03,
}
PASSWORD = "Sp#2026-bench-cases"
#: The benchmark's accounts: user → (department, roles).
USERS = {
    "bench.clerk": ("guihua", ("clerk",)),
    "bench.reviewer": ("guihua", ("reviewer",)),
    "bench.approver": ("guihua", ("approver",)),
    "bench.fagai": ("fagai", ("reviewer",)),
    "bench.zhujian": ("zhujian", ("reviewer",)),
    "bench.shengtai": ("shengtai", ("reviewer",)),
    "bench.gengdi": ("gengdi", ("reviewer", "editor", "clerk")),
}
#: Who acts in a stage, by the stage's (role, department); a co-review's department: bench.<id>.
ACTORS = {
    ("clerk", "guihua"): "bench.clerk",
    ("reviewer", "guihua"): "bench.reviewer",
    ("approver", "guihua"): "bench.approver",
    ("clerk", "gengdi"): "bench.gengdi",
    ("editor", "gengdi"): "bench.gengdi",
}
#: The departments the procedures name (added where the demo lacks one).
DEPARTMENTS = {
    "guihua": "国土空间规划科",
    "gengdi": "耕地保护科",
    "fagai": "县发展和改革局",
    "zhujian": "县住房和城乡建设局",
    "shengtai": "市生态环境局示范县分局",
}
#: The lists measured: label → (user, query).
LISTS = {
    "todo, co-review reviewer (住建)": ("bench.zhujian", "box=todo"),
    "todo, window (clerk)": ("bench.clerk", "box=todo"),
    "todo, approver": ("bench.approver", "box=todo"),
    "overdue (督办)": ("bench.approver", "box=overdue"),
    "all, limit 200": ("bench.approver", "box=all&limit=200"),
}
ADDRESS = "127.0.0.1"
APPLICANTS = ("示范县城市建设投资有限公司", "示范县交通投资发展集团", "城关镇人民政府",
              "北岭镇人民政府", "示范置业有限公司", "示范县第一中学", "示范县人民医院",
              "西山乡农业开发合作社", "示范县水务集团")  # fmt: skip
PROJECTS = ("住宅小区", "教学楼", "综合楼", "道路工程", "厂房", "农村住房", "供水管网", "变电站",
            "土地整治", "商业综合体")  # fmt: skip
PLACES = ("城关镇", "北岭镇", "西山乡", "东湖街道", "南河镇")


# -- the cases ---------------------------------------------------------------------------------
@dataclass
class CasePlan:
    """A case to load: what the window took in (an ``ApprovalCase`` without its number), and
    its events with their details."""

    case: Any
    events: list[tuple[Any, dict[str, Any]]]


class Walk:
    """Makes the events of cases on their procedures (seeded), none later than ``now``."""

    def __init__(self, seed: int, now: datetime) -> None:
        from guotu.domain.workflow.definition import workflow_data
        from guotu.io.workflows import workflow_by_id
        from guotu.io.working_days import WorkingCalendar

        self.rng, self.cal, self.now = np.random.default_rng(seed), WorkingCalendar(), now
        self.flows = {w: workflow_by_id(w) for w in MIX}
        self.docs = {w: workflow_data(f) for w, f in self.flows.items()}

    def at(self, day: date, after: datetime | None) -> datetime:
        """A moment of office hours on ``day``, later than ``after``."""
        t = datetime.combine(day, day_time(8, 30)) + timedelta(minutes=int(self.rng.integers(540)))
        if after is not None and t <= after:
            t = after + timedelta(minutes=int(self.rng.integers(5, 120)))
        return t

    def later(self, after: datetime, limit: int) -> datetime:
        """When someone with ``limit`` working days acts after ``after`` (6 % late)."""
        u = self.rng.triangular(0.05, 0.35, 1.0)
        if self.rng.random() < 0.06:
            u = self.rng.uniform(1.05, 1.8)
        return self.at(self.cal.add(after.date(), round(limit * u)), after)

    def outcome(self, stage: Any, loops: int) -> str:
        """Mostly the way forward; a loop back (补正, non-compliant) or a refusal now and then."""
        good = {"done": 0.78, "compliant": 0.78, "approved": 0.78, "conditional": 0.12}
        bad = {"supplement": 0.10, "non_compliant": 0.10}
        w = [good.get(o, bad.get(o, 0.04) if loops < 2 else 0.0) for o in stage.outcomes]
        return str(self.rng.choice(list(stage.outcomes), p=np.asarray(w) / sum(w)))

    def events(self, flow: Any, created: datetime) -> list[tuple[Any, dict[str, Any]]]:
        """A case's events from intake to its end."""
        from guotu.domain.workflow.case import CaseEvent

        rng, out = self.rng, []
        t, sid, visits = created, flow.start, Counter[str]()
        while not flow.stages[sid].is_end and len(out) < 40:
            st = flow.stages[sid]
            visits[sid] += 1
            limit = st.deadline_working_days or 5
            actor = ACTORS.get((st.role or "", st.department or ""), "bench.clerk")
            if st.kind == "automatic":  # the system acts at once
                outcome = self.outcome(st, visits[sid] - 1)
                t += timedelta(seconds=int(rng.integers(2, 40)))
                note = f"自动审查：{outcome}"
                detail = {
                    "action": st.action,
                    "errors": int(outcome == "non_compliant"),
                    "warnings": int(outcome == "conditional"),
                    "rules": 14,
                }
                out.append((CaseEvent(t, "review", outcome, actor="system", note=note), detail))
                out.append((CaseEvent(t, "outcome", outcome, actor="system", note=note), {}))
                sid = st.outcomes[outcome]
                continue
            if st.kind == "co_review":
                times = sorted(self.later(t, limit) for _ in st.departments)
                order = list(st.departments)
                if st.parallel:
                    rng.shuffle(order)
                values = [
                    str(rng.choice(["agree", "conditional", "disagree"], p=[0.8, 0.15, 0.05]))
                    for _ in order
                ]
                for dept, at, v in zip(order, times, values, strict=True):
                    detail = {"conditions": ["落实相关部门意见"]} if v == "conditional" else {}
                    note = "理由：与专项规划不符" if v == "disagree" else ""
                    out.append((CaseEvent(at, "opinion", v, dept, f"bench.{dept}", note), detail))
                t = times[-1]
                verdict = "conditional" if "conditional" in values else "approved"
                sid = st.outcomes["rejected" if "disagree" in values else verdict]
                continue
            outcome = self.outcome(st, visits[sid] - 1)
            if sid in ("supplement", "plan_revision", "rectification") or (
                st.kind != "intake" and rng.random() < 0.2
            ):  # 补正 (the applicant's time) or an expert review: the clock stops
                t = self.later(t, min(limit, 2))
                note = "专家评审" if st.kind == "decision" else "补正：请补充相关材料"
                out.append((CaseEvent(t, "pause", "", actor=actor, note=note), {}))
                back = t.date() + timedelta(days=int(rng.integers(3, 26)))
                t = self.at(self.cal.add(back, 1), t)
                out.append((CaseEvent(t, "resume", "", actor=actor, note="材料齐全"), {}))
            if rng.random() < 0.55:
                t = self.at(t.date(), t)
                out.append((CaseEvent(t, "note", "", actor=actor, note="已电话联系申请人"), {}))
            t = self.later(t, limit)
            out.append((CaseEvent(t, "outcome", outcome, actor=actor), {}))
            sid = st.outcomes[outcome]
        end = flow.stages[sid]
        if end.issues:  # the document's record (its PDF is not made for the bulk)
            t = self.at(self.cal.add(t.date(), int(rng.integers(0, 3))), t)
            token = f"bench{int(rng.integers(2**62)):x}"
            detail = {"serial": token, "title": end.issues, "issued_on": t.date().isoformat()}
            out.append((CaseEvent(t, "issued", token, actor="system", note=end.issues), detail))
        return [(e, d) for e, d in out if e.at <= self.now]

    def stall(self, flow: Any, plan: CasePlan) -> None:
        """Cut a closed case at a random stage where people act; most then wait for 补正."""
        from guotu.domain.workflow.case import CaseEvent, case_state
        from guotu.domain.workflow.records import STATE_KINDS

        for _ in range(10):
            kept = plan.events[: int(self.rng.integers(0, len(plan.events)))]
            moves = [e for e, _ in kept if e.kind in STATE_KINDS]
            state = case_state(flow, plan.case.created_at, moves, self.now)
            stage = flow.stages[state.stage]
            if stage.kind in ("automatic", "end"):
                continue
            plan.events = kept
            last = kept[-1][0].at if kept else plan.case.created_at
            if stage.kind != "co_review" and not state.paused and self.rng.random() < 0.65:
                at = self.at(self.cal.add(last.date(), int(self.rng.integers(1, 4))), last)
                actor = ACTORS.get((stage.role or "", stage.department or ""), "bench.clerk")
                pause = CaseEvent(at, "pause", "", actor=actor, note="补正：请补充用地权属证明")
                plan.events += [(pause, {})] if at <= self.now else []
            return


def make_cases(n: int, gpkg: Path, seed: int, closed_share: float) -> list[CasePlan]:
    """``n`` cases accepted on working days of the year, ``closed_share`` of them closed."""
    from guotu.domain.workflow.case import case_state
    from guotu.domain.workflow.records import STATE_KINDS, ApprovalCase

    walk = Walk(seed, datetime.now().replace(microsecond=0))
    rng, span = walk.rng, (LAST_DAY - FIRST_DAY).days + 1
    days = [
        d for d in (FIRST_DAY + timedelta(i) for i in range(span)) if walk.cal.is_working_day(d)
    ]
    created = sorted(walk.at(days[int(i)], None) for i in rng.integers(0, len(days), n))
    flows = rng.choice(list(MIX), size=n, p=np.asarray(list(MIX.values())) / sum(MIX.values()))
    centres = sample_points(gpkg, n, seed).tolist()
    plans = []
    for i, (at, wid, (x, y)) in enumerate(zip(created, flows, centres, strict=True)):
        w, h = rng.uniform(30, 200, 2)
        site = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        case = ApprovalCase(
            id="",
            workflow=str(wid),
            procedure=walk.docs[str(wid)],
            applicant=str(rng.choice(APPLICANTS)),
            project=f"{rng.choice(PLACES)}{rng.choice(PROJECTS)}（{i + 1:05d}）",
            location=f"{rng.choice(PLACES)}{int(rng.integers(1, 40))}号地块",
            site_wkt=shapely.to_wkt(site, rounding_precision=3),
            site_area_m2=float(site.area),
            application_date=at.date(),
            created_at=at,
            created_by="bench.clerk",
            department="guihua",
            public=bool(rng.random() < 0.9),
            detail={"indicators": {"RJL": round(float(rng.uniform(0.5, 3.0)), 2)}},
        )
        plans.append(CasePlan(case, walk.events(walk.flows[case.workflow], at)))

    def is_closed(p: CasePlan) -> bool:
        moves = [e for e, _ in p.events if e.kind in STATE_KINDS]
        return case_state(walk.flows[p.case.workflow], p.case.created_at, moves, walk.now).closed

    closed = [p for p in plans if is_closed(p)]
    for j in rng.choice(len(closed), max(len(closed) - round(closed_share * n), 0), replace=False):
        walk.stall(walk.flows[closed[int(j)].case.workflow], closed[int(j)])
    return plans


# -- the stores --------------------------------------------------------------------------------
def pg_location(dsn: str, schema: str) -> str:
    """``dsn`` (a ``postgresql://`` URL) with ``schema`` first on its search path."""
    return f"{dsn}{'&' if '?' in dsn else '?'}options={quote(f'-c search_path={schema}')}"


def build_postgis(dsn: str, schema: str, parcels: int, out: Path) -> float:
    """The demo county in ``schema`` (dropped first), by ``guotu demo``; its time."""
    import psycopg

    t = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    cmd = [str(BIN / "guotu"), "demo", "--no-check", "--force", "--parcels", str(parcels)]
    cmd += ["-w", pg_location(dsn, schema), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"guotu demo on PostGIS failed: {proc.stdout[-600:]}{proc.stderr}")
    return time.perf_counter() - t


def add_accounts(location: str) -> None:
    """:data:`DEPARTMENTS` the workspace lacks, and :data:`USERS`."""
    from guotu.domain.access.records import Department
    from guotu.services.identity import create_department, create_user
    from guotu.services.workspace import open_workspace

    with open_workspace(location) as store:
        known = {d.id for d in store.departments()}
        for dept, name in DEPARTMENTS.items():
            if dept not in known:
                create_department(store, Department(dept, name), actor="bench")
        for user, (dept, roles) in USERS.items():
            if store.user(user) is None:  # (a schema kept from an earlier run has them)
                kw = {"display_name": user, "department": dept, "roles": roles}
                create_user(store, username=user, password=PASSWORD, actor="bench", **kw)


def principal(user: str) -> Any:
    from guotu.domain.access.policy import Principal

    dept, roles = USERS[user]
    return Principal(user, frozenset(roles), dept)


def load_cases(location: str, plans: list[CasePlan]) -> dict[str, Any]:
    """Every case of ``plans`` into the workspace: one create and one append each."""
    from guotu.domain.workflow.case import case_state
    from guotu.domain.workflow.records import RecordedEvent
    from guotu.io.workflows import workflow_by_id
    from guotu.services.approval_setup import ApprovalSetup, append_events, status_of
    from guotu.services.workspace import open_workspace

    setup, loader = ApprovalSetup(), principal("bench.clerk")
    flows = {w: workflow_by_id(w) for w in MIX}
    marks, t0, create_s, append_s = [(0, 0.0)], time.perf_counter(), 0.0, 0.0
    with open_workspace(location) as store:
        for i, p in enumerate(plans, 1):
            flow, at = flows[p.case.workflow], p.case.created_at
            first = status_of(p.case, flow, case_state(flow, at, [], at), 0, setup, at.date())
            t = time.perf_counter()
            case = store.create_approval_case(
                p.case,
                first,
                id_prefix=f"{at:%Y}",
                actor="bench.clerk",
                actor_department="guihua",
                address=ADDRESS,
            )
            t2 = time.perf_counter()
            create_s += t2 - t
            if p.events:
                new = [RecordedEvent(case.id, 0, e, d) for e, d in p.events]
                append_events(store, case, [], new, setup, loader, ADDRESS)
                append_s += time.perf_counter() - t2
            if i % 1000 == 0 or i == len(plans):
                marks.append((i, time.perf_counter() - t0))
                if i % 5000 == 0:
                    print(f"   {i:,} cases in {marks[-1][1]:.0f} s", flush=True)
        statuses = store.approval_statuses()
    today = date.today()
    per_k = [(b[1] - a[1]) / (b[0] - a[0]) * 1000 for a, b in pairwise(marks)]
    return {
        "load_s": marks[-1][1],
        "per_1000_s": marks[-1][1] / len(plans) * 1000,
        "per_1000_first_s": per_k[0],
        "per_1000_last_s": per_k[-1],
        "create_s": create_s,
        "append_s": append_s,
        "cases": len(statuses),
        "closed": sum(s.closed for s in statuses),
        "paused": sum(s.paused and not s.closed for s in statuses),
        "overdue": sum(not s.closed and (s.due_on or today) < today for s in statuses),
        "open_by_kind": dict(Counter(s.stage_kind for s in statuses if not s.closed)),
        "outcomes": dict(Counter(s.outcome for s in statuses if s.closed)),
    }


def intake_sites(location: str, n: int, seed: int) -> list[tuple[Any, dict[str, Any]]]:
    """``n`` typical sites: detailed-plan parcels (XXGHDK) with all four conditions in range
    (planted problems left out), shrunk 2 m, with the parcel's code and indicators."""
    from guotu.services.workspace import open_workspace

    with open_workspace(location) as store:
        frame = store.read_layer("XXGHDK")
    keys = ("RJL", "JZMD", "LDL", "JZXG")
    ok = frame[frame["YDYHFLDM"].astype(str).str.len() >= 4]
    for key in keys:
        ok = ok[(ok[key] > 0) & (ok[key] < 100)]
    out: list[tuple[Any, dict[str, Any]]] = []
    for i in np.random.default_rng(seed).permutation(len(ok)):
        row = ok.iloc[int(i)]
        shrunk = shapely.make_valid(row.geometry).buffer(-2.0, join_style="mitre")
        parts = [g for g in getattr(shrunk, "geoms", [shrunk]) if g.geom_type == "Polygon"]
        best = max(parts, key=lambda g: g.area, default=None)
        if best is not None and best.area >= 500 and len(out) < n:
            indicators = {"YDYHFLDM": str(row["YDYHFLDM"]), **{k: float(row[k]) for k in keys}}
            out.append((shapely.set_precision(best, 0.001), indicators))
    return out


# -- in-process ----------------------------------------------------------------------------------
def in_process(location: str, sites: list[Any], n: int, n_stats: int) -> dict[str, Any]:
    from guotu.services.approval_setup import ApprovalSetup
    from guotu.services.approval_views import statistics, todo
    from guotu.services.approvals import Application, intake
    from guotu.services.workspace import open_workspace

    res: dict[str, Any] = {"lists": {}}
    with open_workspace(location) as store:
        for label, (user, query) in LISTS.items():
            box, who, lat = query.split("&")[0].removeprefix("box="), principal(user), []
            rows = len(todo(store, who, box=box))
            for _ in range(n):
                t = time.perf_counter_ns()
                todo(store, who, box=box, limit=200)  # the route's default limit
                lat.append(time.perf_counter_ns() - t)
            res["lists"][label] = _stats(lat, sum(lat) / 1e9) | {"rows": rows}
        res["stats_s"] = []
        for _ in range(n_stats):
            t = time.perf_counter()
            statistics(store, principal("bench.approver"))
            res["stats_s"].append(time.perf_counter() - t)
        setup, clerk, res["intake_s"], stages = ApprovalSetup(), principal("bench.clerk"), [], []
        for site, indicators in sites:
            app = Application(
                "cn-construction-permit",
                APPLICANTS[0],
                "在线审查基准项目",
                "城关镇",
                site,
                date.today(),
                indicators,
            )
            t = time.perf_counter()
            _, state = intake(store, app, clerk, setup, address=ADDRESS)
            res["intake_s"].append(time.perf_counter() - t)
            stages.append(state.stage)
        res["intake_stages"] = dict(Counter(stages))
    return res


# -- over HTTP -----------------------------------------------------------------------------------
class Session:
    """A client signed in with a session of its own (cookies and CSRF token)."""

    def __init__(self, port: int, user: str) -> None:
        self.port, self.headers = port, {}
        body = {"username": user, "password": PASSWORD}
        status, doc = self.ask(self.connect(), "POST", "/auth/sign-in", body, cookies=True)
        if status != 200:
            raise RuntimeError(f"sign-in of {user} answered {status}: {doc[:300]!r}")
        self.headers["X-CSRF-Token"] = json.loads(doc)["csrf_token"]

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def ask(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        body: Any = None,
        *,
        cookies: bool = False,
    ) -> tuple[int, bytes]:
        """One request on ``conn``; again on a new connection if the server closed an idle
        one (uvicorn does after 5 s)."""
        headers, data = dict(self.headers), None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False).encode()
        for attempt in (1, 2):
            try:
                conn.request(method, path, data, headers)
                r = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                if attempt == 2:
                    raise
        if cookies:
            jar = [c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie") or []]
            self.headers["Cookie"] = "; ".join(jar)
        return r.status, r.read()


def concurrent_gets(sessions: list[Session], path: str, total: int) -> dict[str, Any]:
    """``total`` requests of ``path`` shared by the sessions, each on its own thread and
    connection, all at once: latency p50/p99 and throughput."""
    per, lat, bad = -(-total // len(sessions)), [], []
    start = threading.Barrier(len(sessions) + 1)

    def client(s: Session) -> None:
        conn, mine = s.connect(), []
        for _ in range(3):  # warm-up
            s.ask(conn, "GET", path)
        start.wait()
        for _ in range(per):
            t = time.perf_counter_ns()
            status, _ = s.ask(conn, "GET", path)
            mine.append(time.perf_counter_ns() - t)
            bad.extend([status] if status != 200 else [])
        lat.extend(mine)
        conn.close()

    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    return _stats(lat, time.perf_counter() - t0) | {"n": len(lat), "errors": len(bad)}


@functools.cache
def _to_wgs84() -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(SRID, 4326, always_xy=True)


def lonlat(site: Any) -> dict[str, Any]:
    """``site`` as a GeoJSON geometry in lon/lat, as the map draws it."""
    t = _to_wgs84()
    moved = shapely.transform(site, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return dict(json.loads(shapely.to_geojson(moved)))


def over_http(
    location: str, sites: list[Any], clients: int, requests: int, n_stats: int
) -> dict[str, Any]:
    env = {"GUOTU_AUTH": "local", "GUOTU_SIGN_INS_PER_MINUTE": "100000"}
    server = start_server(location, env)  # a DSN is a location too
    res: dict[str, Any] = {"lists": {}}
    try:
        for label, (user, query) in LISTS.items():
            sessions, path = (
                [Session(server.port, user) for _ in range(clients)],
                f"/cases.json?{query}",
            )
            res["lists"][label] = concurrent_gets(sessions, path, requests)
            res["lists"][label]["one_client"] = concurrent_gets(sessions[:1], path, 200)
        one = Session(server.port, "bench.approver")
        conn, times = one.connect(), []
        for _ in range(n_stats + 1):  # the first one warms up
            t = time.perf_counter()
            status, body = one.ask(conn, "GET", "/cases/stats.json")
            times.append(time.perf_counter() - t)
            if status != 200:
                raise RuntimeError(f"GET /cases/stats.json answered {status}: {body[:300]!r}")
        res["stats_s"], res["stats_first_s"] = times[1:], times[0]
        clerk = Session(server.port, "bench.clerk")
        conn, res["intake_s"], stages = clerk.connect(), [], []
        for i, (site, indicators) in enumerate(sites):
            body = {
                "procedure": "cn-construction-permit",
                "applicant": APPLICANTS[0],
                "project": f"在线审查基准项目{i + 1}",
                "location": "城关镇",
                "site": lonlat(site),
                "application_date": date.today().isoformat(),
                "indicators": indicators,
            }
            t = time.perf_counter()
            status, answer = clerk.ask(conn, "POST", "/cases", body)
            res["intake_s"].append(time.perf_counter() - t)
            if status != 201:
                raise RuntimeError(f"POST /cases answered {status}: {answer[:300]!r}")
            stages.append(json.loads(answer)["stage"]["id"])
        res["intake_stages"] = dict(Counter(stages))
        res["server_max_rss_mb"] = server.max_rss_mb()
    finally:
        server.stop()
    return res


# -- report ------------------------------------------------------------------------------------
NAMES = {"gpkg": "GeoPackage", "postgis": "PostGIS"}


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _ms2(r: dict[str, Any]) -> str:
    return f"{r['p50_us'] / 1e3:.1f} / {r['p99_us'] / 1e3:.1f} ms"


def _s2(times: list[float]) -> str:
    return f"{stats_.median(times):.3f}; {max(times):.3f} s"


def report(res: dict[str, Any]) -> list[str]:
    stores = [s for s in NAMES if s in res["stores"]]
    out = [
        f"## Approval cases — {res['cases']:,} cases, {res['events']:,} events; lists: "
        f"{res['requests']} requests from {res['clients']} concurrent clients, and 200 from "
        "one (p50 / p99)\n",
        f"| query | store | HTTP, {res['clients']} clients | HTTP, 1 client | in-process | goal |",
        "|---|---|---|---|---|---|",
    ]
    for label in LISTS:
        for s in stores:
            h, p = res["stores"][s]["http"]["lists"][label], res["stores"][s]["in_process"]
            ok = h["p99_us"] / 1e3 < GOAL_LIST_P99_MS and not h["errors"]
            out.append(
                f"| `GET /cases.json` {label} ({p['lists'][label]['rows']:,} rows) | {NAMES[s]} "
                f"| {_ms2(h)} | {_ms2(h['one_client'])} | {_ms2(p['lists'][label])} "
                f"| p99 < {GOAL_LIST_P99_MS:.0f} ms {_mark(ok)} |"
            )
    for key, label, goal in (
        ("stats_s", "`GET /cases/stats.json` (median; max)", GOAL_STATS_S),
        ("intake_s", "`POST /cases`: intake + automatic review (median; max)", GOAL_INTAKE_S),
    ):
        for s in stores:
            h, p = res["stores"][s]["http"][key], res["stores"][s]["in_process"][key]
            out.append(
                f"| {label} | {NAMES[s]} | | {_s2(h)} | {_s2(p)} "
                f"| < {goal:g} s {_mark(stats_.median(h) < goal)} |"
            )
    out.append("")
    for s in stores:
        r = res["stores"][s]
        ld = r["load"]
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(ld["open_by_kind"].items()))
        out.append(
            f"{NAMES[s]}: workspace ready in {r['build_s']:.0f} s; {ld['cases']:,} cases loaded "
            f"in {ld['load_s']:.0f} s, {ld['per_1000_s']:.1f} s per 1,000 (first 1,000 "
            f"{ld['per_1000_first_s']:.1f} s, last {ld['per_1000_last_s']:.1f} s; creates "
            f"{ld['create_s']:.0f} s, appends {ld['append_s']:.0f} s); closed {ld['closed']:,}, "
            f"open {ld['cases'] - ld['closed']:,} ({kinds}), of them paused {ld['paused']:,} "
            f"and overdue {ld['overdue']:,}; the intakes went to {r['http']['intake_stages']} "
            f"(in-process {r['in_process']['intake_stages']}); first statistics request "
            f"{r['http']['stats_first_s']:.3f} s; server peak memory "
            f"{r['http']['server_max_rss_mb']:,.0f} MB"
        )
    m = res["machine"]
    out.append(
        f"\nmachine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB; Python {m['python']}, "
        f"FastAPI {m['fastapi']}, uvicorn {m['uvicorn']}; load average {res['load_before']:.2f} "
        f"before, {res['load_after']:.2f} after"
    )
    for when, procs in res["busy"].items():
        out.append(f"other busy processes {when}: " + ("; ".join(procs) or "none"))
    return out


# -- driver ------------------------------------------------------------------------------------
def postgis_dsn(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The PostgreSQL server to use, and whether this run started it."""
    dsn = args.dsn or os.environ.get("GUOTU_BENCH_PG_DSN") or os.environ.get("GUOTU_TEST_PG_DSN")
    if dsn or args.no_postgis:
        return dsn if not args.no_postgis else None, False
    pg = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pg-throwaway"), "start", args.pg_dir, "55436"],
        capture_output=True,
        text=True,
        check=False,
    )
    if pg.returncode != 0:
        print(f"PostGIS not available: {pg.stderr.strip()[-300:]}")
        return None, False
    return pg.stdout.strip().splitlines()[-1], True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--parcels", type=int, default=30_000, help="size of the demo county")
    ap.add_argument("--closed", type=float, default=0.70, help="share of closed cases")
    ap.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    ap.add_argument("--requests", type=int, default=600, help="requests per list")
    ap.add_argument("--intakes", type=int, default=10)
    ap.add_argument("--stats", type=int, default=10, help="statistics requests")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench-serve"))
    ap.add_argument(
        "--dsn",
        help="a postgresql:// URL (default: GUOTU_BENCH_PG_DSN, then "
        "GUOTU_TEST_PG_DSN, else a throwaway server)",
    )
    ap.add_argument("--schema", default="bench_approvals", help="PostGIS schema (dropped first)")
    ap.add_argument("--pg-dir", default="/tmp/guotu-bench-approvals-pg")
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument(
        "--keep-postgis",
        action="store_true",
        help="use the schema as an earlier run left it (not rebuilt: its cases stay and count)",
    )
    args = ap.parse_args()
    busy, load_before = {"before": busy_processes({os.getpid()})}, load_average()
    county = build_demo(args.workdir, args.parcels)  # bench_serve's county, reused
    run_dir = args.workdir / f"approvals-p{args.parcels}"
    run_dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    copy_workspace(county, run_dir / "cases.gpkg")  # the county itself stays as it is
    locations = {"gpkg": (str(run_dir / "cases.gpkg"), time.perf_counter() - t)}
    print(f"… making {args.cases:,} cases", flush=True)
    t = time.perf_counter()
    plans = make_cases(args.cases, run_dir / "cases.gpkg", args.seed, args.closed)
    n_events = sum(len(p.events) for p in plans)
    print(
        f"   {n_events:,} events ({n_events / len(plans):.1f} a case) in "
        f"{time.perf_counter() - t:.0f} s",
        flush=True,
    )
    res: dict[str, Any] = {
        "cases": args.cases,
        "events": n_events,
        "parcels": args.parcels,
        "stores": {},
        "clients": args.clients,
        "requests": args.requests,
        "load_before": load_before,
        "busy": busy,
        "machine": machine(),
    }
    dsn, started = postgis_dsn(args)
    try:
        if dsn:
            location, build_s = pg_location(dsn, args.schema), 0.0
            if not args.keep_postgis:
                print(f"… PostGIS: guotu demo in schema {args.schema}", flush=True)
                build_s = build_postgis(dsn, args.schema, args.parcels, run_dir / "pg_files")
            locations["postgis"] = (location, build_s)
        for name, (location, build_s) in locations.items():
            add_accounts(location)
            sites = intake_sites(location, args.intakes, args.seed)
            print(f"… {name}: loading", flush=True)
            r: dict[str, Any] = {"build_s": build_s, "load": load_cases(location, plans)}
            print(f"… {name}: in-process", flush=True)
            r["in_process"] = in_process(location, sites, min(args.requests, 200), args.stats)
            print(f"… {name}: HTTP", flush=True)
            r["http"] = over_http(location, sites, args.clients, args.requests, args.stats)
            res["stores"][name] = r
        busy["after"] = busy_processes({os.getpid()})
    finally:
        if started:
            subprocess.run(
                ["bash", str(ROOT / "scripts" / "pg-throwaway"), "stop", args.pg_dir], check=False
            )
    res["load_after"] = load_average()
    lines = report(res)
    print("\n".join(lines))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"approvals-{date.today().isoformat()}.md").write_text("\n".join(lines) + "\n")
    path = results / f"approvals-{args.cases}.json"
    path.write_text(json.dumps(res, default=str, indent=1, ensure_ascii=False))
    print(f"\nresults: {path}, {path.with_name(f'approvals-{date.today().isoformat()}.md')}")
    shutil.rmtree(run_dir, ignore_errors=True)  # the copy (the county and the schema stay)


if __name__ == "__main__":
    main()

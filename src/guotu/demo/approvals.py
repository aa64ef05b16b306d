"""The demo county's approval cases (审批案件, 多审合一、多证合一): a dozen cases at every stage
of the six national example procedures, worked by the demo's own people.

Each case is made through the engine exactly as the window and the departments would make it
(:func:`guotu.services.approvals.intake`, :func:`~guotu.services.approvals.act`,
:func:`~guotu.services.approvals.attach_material`): the automatic review runs against the one
map, co-review opinions close their stage, documents are issued as PDFs. Only the clock is the
demo's: :class:`ApprovalSetup` is given a ``now`` that stands on past working days, so that on
the day the demo is built (its "today", :func:`datetime.date.today`, as the monitoring
dashboard's) every clock is where the plan below says: the overdue case is overdue, the others
are within their time limits, and nothing has happened later than the moment of building.

The sites (:mod:`guotu.demo.approval_sites`) are real parcels of the detailed plan, slightly
shrunk, with the parcel's own code and indicators, so the automatic review passes; features the
manifest names as planted problems are left alone. The one planted failure asks a 容积率 above
its parcel's. The 规划核实 case is an approved project of the JSXM layer (建设工程规划许可)
whose as-built survey, generated in the workspace CRS, exceeds its permitted 容积率. Rural
permits stand on village land of 北岭镇, the consolidation project on a stretch of 西山乡.

``manifest.json`` lists the cases under ``approvals`` (name, case number, procedure, stage,
what is planted), so tests and a guided tour find them by name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from guotu.demo.access import DEPARTMENTS, USERS
from guotu.demo.approval_sites import (
    CONSOLIDATION_TOWN,
    RURAL_TOWN,
    Site,
    as_built_survey,
    choose_sites,
)
from guotu.demo.county import County
from guotu.demo.layout import COUNTY_NAME
from guotu.domain.access.policy import Principal
from guotu.domain.workflow.records import CaseStatus
from guotu.ports import FeatureStore
from guotu.services.approval_as_built import AS_BUILT_MATERIAL
from guotu.services.approval_setup import ApprovalSetup
from guotu.services.approvals import Act, Application, act, attach_material, intake

__all__ = ["AUTHORITY", "CASES", "DemoApprovals", "DemoCase", "Step", "seed_approvals"]

#: The issuing authority named on the demo's documents.
AUTHORITY = f"{COUNTY_NAME}自然资源和规划局"
#: Where the documents' verification addresses point (``guotu serve`` on this machine).
BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Step:
    """One thing done to a case: ``days_ago`` working days before the demo's today, at
    ``at`` (HH:MM), by the demo user ``who``. ``kind``: ``intake`` (accepted at once),
    ``receive`` (taken in, not yet accepted), ``survey`` (the as-built survey handed in),
    or an :class:`~guotu.services.approvals.Act` kind (``outcome``, ``opinion``, ``pause``)."""

    days_ago: int
    at: str
    who: str
    kind: str
    value: str = ""
    note: str = ""
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoCase:
    """A planted case: its name (the manifest's key), procedure, who applies for what, the
    kind of site (``parcel:<codes>``, ``project``, ``village``, ``consolidation``), what it
    does, the stage it ends in and what is planted (zh, en). ``rjl_over`` raises the 容积率
    asked above the parcel's (the planted failure)."""

    name: str
    workflow: str
    applicant: str
    project: str
    site: str
    steps: tuple[Step, ...]
    stage: str
    planted_zh: str
    planted_en: str
    rjl_over: float = 0.0


_CLERK, _GENGDI_CLERK, _REVIEWER, _APPROVER = "huangmei01", "fengxue01", "liuyang01", "chenjing01"
_FAGAI, _ZHUJIAN, _SHENGTAI, _GENGDI = "xuli01", "gaoyan01", "maqiang01", "songtao01"
_ACCEPTED = "材料齐全，予以受理"


def _agree(days: int, at: str, who: str, note: str = "") -> Step:
    return Step(days, at, who, "opinion", "agree", note)


def _says(days: int, at: str, who: str, value: str, *why: str) -> Step:
    """A 有条件同意 (its conditions) or 不同意 (its reasons) of ``who``'s department."""
    if value == "conditional":
        return Step(days, at, who, "opinion", value, conditions=why)
    return Step(days, at, who, "opinion", value, "；".join(why))


def _done(days: int, at: str, who: str, value: str, note: str) -> Step:
    """``who`` records the stage's outcome ``value``."""
    return Step(days, at, who, "outcome", value, note)


#: The cases, oldest first (case numbers follow the order of intake).
CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "consolidation_implementation",
        "cn-land-consolidation",
        f"{CONSOLIDATION_TOWN}人民政府",
        f"{CONSOLIDATION_TOWN}全域土地综合整治试点项目",
        "consolidation",
        (
            Step(70, "09:30", _GENGDI_CLERK, "intake"),
            _agree(67, "10:10", _FAGAI, "项目已列入县级年度投资计划"),
            _agree(66, "15:20", _ZHUJIAN),
            _says(
                64, "11:05", _SHENGTAI, "conditional", "河道两侧 30 米范围保留生态缓冲带，不得开垦"
            ),
            _done(58, "16:00", _APPROVER, "approved", "实施方案予以批准"),
        ),
        "implementation",
        "实施方案经联审、审批后进入项目实施（耕地保护科办理）",
        "Plan co-reviewed and approved; the project is being implemented",
    ),
    DemoCase(
        "siting_issued",
        "cn-siting-preexam",
        "示范县鲁兴精密机械有限公司",
        "精密机械零部件生产线建设项目",
        "parcel:100101,1101,0806",
        (
            Step(52, "09:15", _CLERK, "intake"),
            _agree(49, "10:30", _FAGAI, "项目已备案"),
            _agree(48, "14:40", _GENGDI, "不占用永久基本农田"),
            _agree(47, "09:50", _SHENGTAI),
            _done(44, "15:30", _REVIEWER, "done", "选址符合国土空间规划，用地规模节约集约"),
            _done(42, "10:20", _APPROVER, "approved", "同意核发"),
        ),
        "issued",
        "已核发建设项目用地预审与选址意见书",
        "Land-use pre-examination and site selection opinion issued",
    ),
    DemoCase(
        "construction_issued",
        "cn-construction-permit",
        "示范县城投置业有限公司",
        "锦绣花园住宅小区（一期）",
        "parcel:070102",
        (
            Step(40, "09:05", _CLERK, "intake"),
            _agree(37, "11:20", _ZHUJIAN),
            _agree(36, "16:10", _SHENGTAI),
            _done(33, "14:00", _REVIEWER, "done", "设计方案符合规划条件"),
            _done(31, "09:40", _APPROVER, "approved", "同意核发"),
        ),
        "issued",
        "已核发建设工程规划许可证",
        "Construction project planning permit issued",
    ),
    DemoCase(
        "land_use_conditional",
        "cn-land-use-permit",
        "示范县教育和体育局",
        "示范县第二实验小学新建工程",
        "parcel:080403,0806,0702",
        (
            Step(32, "10:00", _CLERK, "intake"),
            _agree(29, "09:30", _FAGAI, "项目已批复"),
            _says(
                28,
                "15:45",
                _GENGDI,
                "conditional",
                "开工前剥离用地范围内耕作层土壤，用于耕地质量提升",
                "施工临时用地使用期满后一年内恢复种植条件",
            ),
            _done(25, "11:10", _REVIEWER, "done", "符合规划条件，部门条件已载明"),
            _done(23, "16:30", _APPROVER, "conditional", "按部门意见附条件核发"),
        ),
        "issued",
        "耕地保护科有条件同意，附条件核发建设用地规划许可证",
        "A conditional opinion; the land-use permit issued with its conditions",
    ),
    DemoCase(
        "verification_refused",
        "cn-completion-verification",
        "示范县华联商业发展有限公司",
        "",  # the project's own name (JSXM XMMC)
        "project",
        (
            Step(26, "09:40", _CLERK, "receive"),
            Step(26, "09:45", _CLERK, "survey"),
            _done(26, "09:50", _CLERK, "done", _ACCEPTED),
            _agree(23, "10:15", _SHENGTAI),
            _says(
                21,
                "14:20",
                _ZHUJIAN,
                "disagree",
                "实测计容建筑面积超出规划许可，容积率超标，不同意通过联合验收",
            ),
            _done(
                18,
                "10:05",
                _APPROVER,
                "rejected",
                "容积率超出建设工程规划许可，核实不合格；依法处理后重新申请核实",
            ),
        ),
        "refused",
        "竣工测量容积率超出许可，自动比对不通过，住建不同意，核实不合格并出具意见书",
        "As built above the permitted FAR: comparison fails, a department disagrees, refused",
    ),
    DemoCase(
        "overdue",
        "cn-land-use-permit",
        "示范县金融服务中心有限公司",
        "城关镇商务金融中心项目",
        "parcel:0902,090101",
        (
            Step(16, "09:20", _CLERK, "intake"),
            _agree(12, "15:00", _GENGDI, "不涉及耕地"),
        ),
        "co_review",
        "并联审查超期未办结：发展改革局未出具意见（督办）",
        "Co-review past its due date: one department has not answered (overdue)",
    ),
    DemoCase(
        "paused",
        "cn-siting-preexam",
        "示范县人民医院",
        "示范县人民医院新院区建设项目",
        "parcel:0806,080403,0702",
        (
            Step(14, "10:30", _CLERK, "intake"),
            _agree(12, "09:40", _FAGAI),
            _agree(11, "14:15", _GENGDI),
            _agree(10, "11:00", _SHENGTAI),
            Step(
                7,
                "15:40",
                _REVIEWER,
                "pause",
                "",
                "请补正：节约集约用地论证分析材料；用地范围界址点坐标与范围图不一致，请核对后重交",
            ),
        ),
        "technical_review",
        "技术审查中要求补正，计时暂停（未恢复）",
        "补正 asked in the technical review: the clock is stopped",
    ),
    DemoCase(
        "decision_pending",
        "cn-construction-permit",
        "示范县万嘉商贸有限公司",
        "万嘉商业综合体项目",
        "parcel:090101,0902",
        (
            Step(9, "09:10", _CLERK, "intake"),
            _agree(6, "10:45", _ZHUJIAN),
            _says(
                3,
                "16:20",
                _SHENGTAI,
                "disagree",
                "餐饮油烟及污水接管方案未落实，与北侧住宅间距不足，不同意",
            ),
        ),
        "decision",
        "生态环境部门不同意，转审批决定，待审批人决定",
        "A department disagrees: the case waits for the approver's decision",
    ),
    DemoCase(
        "rural_co_review",
        "cn-rural-construction-permit",
        f"李建国（{RURAL_TOWN}村民）",
        "李建国农村村民住宅翻建",
        "village",
        (Step(3, "10:40", _CLERK, "intake"),),
        "co_review",
        "乡村建设规划许可已受理，待耕地保护科、住建局出具意见",
        "Rural permit accepted, waiting for two departments' opinions",
    ),
    DemoCase(
        "co_review_waiting",
        "cn-construction-permit",
        "示范县安居房地产开发有限公司",
        "和园小区住宅项目",
        "parcel:070102",
        (
            Step(2, "10:00", _CLERK, "intake"),
            _agree(1, "11:30", _ZHUJIAN),
        ),
        "co_review",
        "刚受理，并联审查中：住建局已同意，待生态环境部门意见",
        "Just accepted; in co-review, one department agreed, one to answer",
    ),
    DemoCase(
        "auto_review_failed",
        "cn-land-use-permit",
        "示范县鑫源房地产开发有限公司",
        "鑫源·滨河苑住宅项目",
        "parcel:070102",
        (Step(1, "14:00", _CLERK, "intake"),),
        "supplement",
        "申请容积率高于详细规划地块，自动审查不通过，转补正",
        "The FAR asked exceeds the parcel's: the automatic review fails, 补正",
        rjl_over=0.9,
    ),
    DemoCase(
        "window_waiting",
        "cn-rural-construction-permit",
        f"张秀英（{RURAL_TOWN}村民）",
        "张秀英农村村民住宅新建",
        "village",
        (Step(1, "16:10", _CLERK, "receive"),),
        "intake",
        "窗口已接件、尚未受理",
        "Handed in at the window, not yet accepted",
    ),
)


@dataclass(frozen=True)
class DemoApprovals:
    """What :func:`seed_approvals` made: each case's plan with its number and status, the
    demo's today and how long it took."""

    cases: tuple[tuple[DemoCase, str, CaseStatus], ...]
    today: date
    seconds: float

    def case_id(self, name: str) -> str:
        """The number of the case planted as ``name``."""
        return next(cid for plan, cid, _ in self.cases if plan.name == name)

    def manifest(self) -> list[dict[str, Any]]:
        """The manifest's ``approvals`` (no dates: the manifest is the same on every build)."""
        return [
            {
                "name": plan.name,
                "case_id": cid,
                "workflow": plan.workflow,
                "stage": status.stage,
                "closed": status.closed,
                "paused": status.paused,
                "waiting": list(status.waiting),
                "project": status.project,
                "description_zh": plan.planted_zh,
                "description_en": plan.planted_en,
            }
            for plan, cid, status in self.cases
        ]

    def summary(self) -> tuple[str, str]:
        """One line for the demo's output, in Chinese and in English."""
        n = len(self.cases)
        closed = sum(s.closed for _, _, s in self.cases)
        overdue = sum(1 for _, _, s in self.cases if s.due_on is not None and s.due_on < self.today)
        paused = sum(s.paused for _, _, s in self.cases)
        return (
            f"审批案件：{n} 件（办结 {closed} 件、在办 {n - closed} 件，其中超期督办 {overdue} 件、"
            f"补正暂停 {paused} 件），由窗口、各部门审查人员和审批人员按流程办理；"
            "案件编号见 manifest.json。",
            f"Approval cases: {n} ({closed} closed, {n - closed} open, {overdue} overdue, "
            f"{paused} paused for supplements), worked by the window, the departments and the "
            "approver; their numbers are in manifest.json (approvals).",
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form for ``guotu demo --json``."""
        return {
            "today": self.today.isoformat(),
            "cases": self.manifest(),
            "summary_zh": self.summary()[0],
        }


class _Clock:
    """The ``now`` of the demo's :class:`ApprovalSetup`: set before each step."""

    def __init__(self) -> None:
        self.at = datetime(2000, 1, 1)

    def __call__(self) -> datetime:
        return self.at


def _principals() -> dict[str, Principal]:
    return {u.username: Principal(u.username, frozenset(u.roles), u.department) for u in USERS}


def _planted(county: County) -> set[str]:
    """Every feature id the manifest names in a planted problem: no case stands on those (a
    compliant item, such as a change patch inside its approved project, is no problem)."""
    return {
        f
        for item in county.items
        if not item.id.startswith(("compliant.", "nonconflict."))
        for f in (*item.features, *item.other_features)
    }


def _schedule(today: date, setup: ApprovalSetup) -> list[tuple[datetime, int, DemoCase, Step]]:
    """Every step of every case at its moment, in the order they happen."""
    out = []
    for order, plan in enumerate(CASES):
        for step in plan.steps:
            day = setup.calendar.add(today, -step.days_ago)
            hour, minute = (int(x) for x in step.at.split(":"))
            out.append((datetime(day.year, day.month, day.day, hour, minute), order, plan, step))
    out.sort(key=lambda x: (x[0], x[1]))
    return out


def seed_approvals(
    store: FeatureStore, county: County, *, today: date | None = None
) -> DemoApprovals:
    """Make the cases of :data:`CASES` in ``store`` (a demo county just imported).

    Parameters
    ----------
    store
        The demo workspace, with its layers imported.
    county
        The generated county (its manifest's planted features are kept clear of).
    today
        The demo's today (default: the day it is built); every step happens on a working day
        before it.

    Returns
    -------
    DemoApprovals
        The cases with their numbers and statuses.

    Raises
    ------
    AssertionError
        A case did not end in the stage planned (a generator bug: a site that does not pass).
    """
    started = time.perf_counter()
    day = today or date.today()
    clock = _Clock()
    setup = ApprovalSetup(
        authority=AUTHORITY,
        base_url=BASE_URL,
        now=clock,
        # the county's departments are recorded with its accounts, after the build: the
        # documents name them all the same
        department_names={d.id: d.name for d in DEPARTMENTS},
    )
    who = _principals()
    sites = choose_sites(store, _planted(county), [(c.name, c.site) for c in CASES])
    crs = store.crs
    epsg = crs.to_epsg() if crs is not None else None
    assert epsg is not None
    ids: dict[str, str] = {}
    for at, _, plan, step in _schedule(day, setup):
        clock.at = at
        _do(store, plan, step, sites[plan.name], ids, who[step.who], setup, epsg)
    made = []
    for plan in CASES:
        (status,) = store.approval_statuses(case_id=ids[plan.name])
        if status.stage != plan.stage:
            raise AssertionError(
                f"Demo case {plan.name} ({ids[plan.name]}) ended in {status.stage}, "
                f"not {plan.stage}."
            )
        made.append((plan, ids[plan.name], status))
    return DemoApprovals(tuple(made), day, round(time.perf_counter() - started, 3))


def _do(
    store: FeatureStore,
    plan: DemoCase,
    step: Step,
    site: Site,
    ids: dict[str, str],
    who: Principal,
    setup: ApprovalSetup,
    epsg: int,
) -> None:
    """Do ``step`` of ``plan`` as ``who``."""
    if step.kind in ("intake", "receive"):
        indicators = dict(site.indicators)
        if plan.rjl_over:
            indicators["RJL"] = round(indicators["RJL"] + plan.rjl_over, 2)
        application = Application(
            plan.workflow,
            plan.applicant,
            plan.project or site.project,
            site.location,
            site.geometry,
            setup.now().date(),
            indicators,
        )
        case, _ = intake(store, application, who, setup, accept=step.kind == "intake")
        ids[plan.name] = case.id
    elif step.kind == "survey":
        attach_material(
            store,
            ids[plan.name],
            AS_BUILT_MATERIAL,
            "竣工测量成果.geojson",
            as_built_survey(site, epsg) or b"",
            who,
            setup,
            media_type="application/geo+json",
        )
    else:
        act(
            store,
            ids[plan.name],
            Act(step.kind, step.value, step.note, step.conditions),
            who,
            setup,
        )

"""Who may record what in a case, and who a case is waiting for.

A stage names who acts in it (``actor``: a role, of a department): only a user holding that
role in that department records its outcome. In a co-review (会审) each department asked
gives one opinion, recorded by a user of that department who reviews (审查人员) or approves
(审批人员). 补正 (a pause of the clock while the applicant supplements materials) is asked and
closed by the stage's actor or by the window (窗口, role ``clerk``), which deals with the
applicant. An automatic stage is the system's alone, and nobody acts in a closed case.

Nothing here reads a store: the rule is tested on any procedure.
"""

from __future__ import annotations

from collections.abc import Mapping

from guotu.domain.access.policy import Principal
from guotu.domain.access.roles import Permission, get_access_role
from guotu.domain.workflow.definition import Stage, Workflow
from guotu.domain.workflow.records import waiting_department, waiting_role
from guotu.errors import ConfigError, PermissionDeniedError

__all__ = ["OPINION_ROLES", "WINDOW_ROLE", "check_may_act", "waiting_for"]

#: The role of the window (一窗受理): intake and 补正 with the applicant.
WINDOW_ROLE = "clerk"
#: Roles whose holders give their department's opinion in a co-review.
OPINION_ROLES = frozenset({"reviewer", "approver"})


def _holds(who: Principal, role: str | None, department: str | None) -> bool:
    return (
        role is not None
        and role in who.roles
        and (department is None or who.department == department)
    )


def waiting_for(stage: Stage, opinions: Mapping[str, str], closed: bool) -> tuple[str, ...]:
    """Who the case waits for in ``stage``: its actor, or the departments of a co-review
    that have not given their opinion (in a sequential co-review only the next one).

    Examples
    --------
    >>> s = Stage("c", "会审", "co_review", 10, {"approved": "z"}, departments=("fagai", "zhujian"))
    >>> waiting_for(s, {"fagai": "agree"}, False)
    ('dept:zhujian',)
    """
    if closed or stage.is_end or stage.kind == "automatic":
        return ()
    if stage.kind == "co_review":
        left = [d for d in stage.departments if d not in opinions]
        if not stage.parallel:
            left = left[:1]
        return tuple(waiting_department(d) for d in left)
    return (waiting_role(stage.role or WINDOW_ROLE, stage.department),)


def check_may_act(
    flow: Workflow,
    stage: Stage,
    who: Principal,
    kind: str,
    *,
    department: str = "",
    opinions: Mapping[str, str] | None = None,
    closed: bool = False,
) -> None:
    """Refuse ``who`` recording an event of ``kind`` (``outcome``, ``opinion``, ``pause``,
    ``resume``, ``amend``, ``note``) in ``stage`` of ``flow``.

    Raises
    ------
    PermissionDeniedError
        With the role and department the stage asks for (never anything about the case the
        user may not see).
    """
    if who.is_anonymous:
        raise _denied("登录后", "sign in first")
    if closed or stage.is_end:
        raise _denied("案件已办结，", "the case is closed; ")
    if stage.kind == "automatic" and kind != "note":
        raise _denied("本环节由系统自动办理，", "the system acts in this stage; ")
    if kind == "note":
        if Permission.READ not in who.permissions:
            raise _denied("记录备注需要查看权限，", "a note needs the viewer permission; ")
        return
    if kind == "opinion":
        if stage.kind != "co_review":
            raise _denied("本环节不是会审环节，", "this stage asks no opinions; ")
        own = who.department or ""
        if own not in stage.departments or department not in ("", own):
            raise _denied(
                "只有参加会审的部门可以出具本部门意见，",
                "only a department asked gives its opinion; ",
            )
        if not OPINION_ROLES & who.roles:
            raise _denied("需要审查人员或审批人员角色，", "a reviewer or approver role is needed; ")
        if not stage.parallel:
            nxt = next((d for d in stage.departments if d not in (opinions or {})), None)
            if nxt != own:
                raise _denied(
                    "本环节依次会审，尚未轮到本部门，",
                    "sequential co-review: not this department's turn; ",
                )
        return
    if kind == "amend":
        # the application is corrected by the window, when the case is with the window
        if stage.role != WINDOW_ROLE or not _holds(who, WINDOW_ROLE, stage.department):
            raise _denied(
                "申请内容只能由窗口在受理或补正环节修改，",
                "the window corrects the application, in its intake or 补正 stage; ",
            )
        return
    if kind in ("pause", "resume") and _holds(who, WINDOW_ROLE, None):
        return
    if stage.kind == "co_review":
        if (
            kind in ("pause", "resume")
            and who.department in stage.departments
            and OPINION_ROLES & who.roles
        ):
            return
        raise _denied(
            "会审环节的结论由各部门意见自动形成，",
            "a co-review's outcome comes from the opinions; ",
        )
    if not _holds(who, stage.role, stage.department):
        need = f"{stage.role}@{stage.department or '*'}"
        raise _denied(
            f"本环节须由{_role_zh(stage.role)}（{stage.department or '任一部门'}）办理，",
            f"this stage is acted on by {need} (role@department); ",
        )


def _role_zh(role: str | None) -> str:
    """A role's Chinese name (its id when a profile names a role guotu does not know)."""
    try:
        return get_access_role(role or WINDOW_ROLE).name_zh
    except ConfigError:
        return str(role)


def _denied(zh: str, en: str) -> PermissionDeniedError:
    return PermissionDeniedError(
        f"Not allowed: {en}ask the person the stage names.",
        fix="Ask the person the stage names to act.",
        message_zh=f"无权办理：{zh}请由本环节的办理人办理。",
        fix_zh="请由本环节的办理人办理。",
    )

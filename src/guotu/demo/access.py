"""Who works with the demo county: its departments, one account for each role and the open
grades of its layers (分级开放), as a county 自然资源和规划局 would set them up.

``guotu demo`` seeds them (unless ``--no-accounts``) through the identity services, exactly as
``guotu dept add``, ``guotu user add`` and ``guotu policy set`` would, and prints the accounts'
passwords once at its end. The passwords are generated at that moment (``make_password``) and
written nowhere: not in the repository, not in the handover files, not in the manifest. They are
initial passwords, as an administrator's would be: each account's holder changes theirs at the
first sign-in (``/ui/password``).

The departments are the bureau's own 科室 (国土空间规划科, 耕地保护科, 信息中心 where the three
administrators sit), the county departments it shares the one map with (发改, 住建, 生态环境),
one 乡镇 government limited to its own 行政区 (its code prefix is the town's XZQDM in the demo
county) and a design institute outside the government.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guotu.demo.layout import TOWNS
from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import AccessList, Action, LayerPolicy
from guotu.domain.access.records import Department, DepartmentKind
from guotu.ports import FeatureStore
from guotu.services.identity import create_department, create_user, set_layer_policy

__all__ = [
    "DEPARTMENTS",
    "POLICIES",
    "USERS",
    "DemoUser",
    "SeededAccess",
    "SeededAccount",
    "seed_access",
]

#: The town whose government is a department of the demo, and its 行政区 code prefix (the 乡镇
#: level of its 12-digit XZQDM: 370999101000 → 370999101).
_TOWN_CODE, _TOWN_NAME, _ = TOWNS[1]
TOWN_PREFIX = _TOWN_CODE[:9]

DEPARTMENTS: tuple[Department, ...] = (
    Department("guihua", "自然资源和规划局国土空间规划科"),
    Department("gengdi", "自然资源和规划局耕地保护科"),
    Department("xinxi", "自然资源和规划局信息中心"),
    Department("fagai", "县发展和改革局"),
    Department("zhujian", "县住房和城乡建设局"),
    Department("shengtai", "市生态环境局示范县分局"),
    Department("beiling", f"{_TOWN_NAME}人民政府", regions=(TOWN_PREFIX,)),
    Department("sheji", "示范规划设计研究院有限公司", DepartmentKind.EXTERNAL),
)


@dataclass(frozen=True)
class DemoUser:
    """An account of the demo: user name, the person's name, department id and roles."""

    username: str
    display_name: str
    department: str
    roles: tuple[str, ...]


#: One account for each role, the three administrators of 三员分立 three different people.
#: User names carry a number, as bureaus number namesakes (王芳01, 王芳02 …).
USERS: tuple[DemoUser, ...] = (
    DemoUser("xitong01", "张伟", "xinxi", ("sys_admin",)),
    DemoUser("anquan01", "王静", "xinxi", ("sec_admin",)),
    DemoUser("shenji01", "李娜", "xinxi", ("audit_admin",)),
    DemoUser("wangfang01", "王芳", "guihua", ("editor",)),
    DemoUser("liuyang01", "刘洋", "guihua", ("reviewer",)),
    DemoUser("chenjing01", "陈静", "guihua", ("approver",)),
    DemoUser("zhaolei01", "赵磊", "gengdi", ("editor",)),
    DemoUser("sunli01", "孙丽", "gengdi", ("dept_admin",)),
    DemoUser("zhouwei01", "周伟", "fagai", ("viewer",)),
    DemoUser("wujun01", "吴军", "zhujian", ("viewer",)),
    DemoUser("zhengmin01", "郑敏", "shengtai", ("viewer",)),
    DemoUser("hexiao01", "何晓", "beiling", ("viewer",)),
    DemoUser("linfeng01", "林峰", "sheji", ("viewer",)),
    # 审批 (多审合一): the window of 一窗受理, the 耕地保护科's own window for consolidation
    # projects, and the reviewer who gives each co-review department's opinion.
    DemoUser("huangmei01", "黄梅", "guihua", ("clerk",)),
    DemoUser("fengxue01", "冯雪", "gengdi", ("clerk",)),
    DemoUser("xuli01", "徐丽", "fagai", ("reviewer",)),
    DemoUser("gaoyan01", "高燕", "zhujian", ("reviewer",)),
    DemoUser("maqiang01", "马强", "shengtai", ("reviewer",)),
    DemoUser("songtao01", "宋涛", "gengdi", ("reviewer",)),
)


def _named(roles: tuple[str, ...] = (), departments: tuple[str, ...] = ()) -> AccessList:
    return AccessList(frozenset(roles), frozenset(departments))


#: The open grades of the demo's layers. A layer not listed (DLTB's neighbours ZXGH, JSXM,
#: TDZZXM, BHTB) has no policy and so the default grade, 内部: nothing becomes public by
#: omission.
POLICIES: tuple[LayerPolicy, ...] = (
    # 行政区划 are public facts (the boundaries the government publishes).
    LayerPolicy("XZQ", Grade.PUBLIC),
    # An approved detailed plan must be made public (城乡规划法 第八条: the approved plan is
    # published, save what law keeps secret), and a parcel's use and control indicators are
    # what citizens and developers ask for most: the bureau shows units and parcels to anyone.
    LayerPolicy("XXGHDY", Grade.PUBLIC, region_field="XZQDM"),
    LayerPolicy("XXGHDK", Grade.PUBLIC),
    # The master plan's 用地用海 parcels: 内部, not 公开. The approved plan is published as its
    # maps and text; the parcel-level vector database is shared inside the government, since
    # precise coordinates are surveying results that may be published only after they are made
    # fit for it (脱密处理), and a bureau publishes the maps, not the database.
    LayerPolicy("GHYD", Grade.INTERNAL, region_field="XZQDM"),
    # 生态保护红线 and 城镇开发边界 (三区三线): used by every department that plans or
    # approves, not published as vectors.
    LayerPolicy("STBHHX", Grade.INTERNAL),
    LayerPolicy("CZKFBJ", Grade.INTERNAL),
    # 永久基本农田: 受限. 耕地保护科 keeps it; reviewers read it for the conflicts of 成果审查
    # and export the reports that show them; only 耕地保护科 edits it.
    LayerPolicy(
        "YJJBNT",
        Grade.RESTRICTED,
        {
            Action.READ: _named(("reviewer",), ("gengdi",)),
            Action.EXPORT: _named(("reviewer",), ("gengdi",)),
            Action.EDIT: _named(departments=("gengdi",)),
        },
        region_field="XZQDM",
    ),
    # The survey: 内部, with its 坐落单位 hidden. The demo's DLTB has no 权属单位 column
    # (QSDWMC); ZLDWMC, named down to the village collective in real 三调 data, is the owner-
    # like field here, shown to the bureau's planning and farmland sections and to reviewers
    # and approvers, not to other departments or the design institute. A 乡镇 sees its own
    # parcels only.
    LayerPolicy(
        "DLTB",
        Grade.INTERNAL,
        hidden_fields={"ZLDWMC": _named(("reviewer", "approver"), ("guihua", "gengdi"))},
        region_field="XZQDM",
    ),
)


@dataclass(frozen=True)
class SeededAccount:
    """An account the demo made and its password (shown once, kept nowhere)."""

    username: str
    display_name: str
    department: str
    roles: tuple[str, ...]
    password: str


@dataclass(frozen=True)
class SeededAccess:
    """What :func:`seed_access` recorded."""

    departments: tuple[Department, ...]
    accounts: tuple[SeededAccount, ...]
    policies: tuple[LayerPolicy, ...]


def seed_access(
    store: FeatureStore, *, make_password: Callable[[str], str], actor: str = "guotu demo"
) -> SeededAccess:
    """Record the demo's departments, accounts and layer policies in ``store``.

    Parameters
    ----------
    store
        A workspace without these departments and accounts (a new demo county).
    make_password
        Gives a new password for a user name (it must meet the password rules).
    actor
        Who the audit log names.

    Returns
    -------
    SeededAccess
        The departments, the accounts with their passwords, the policies.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> seeded = seed_access(MemoryStore(), make_password=lambda user: "Xk7m-P2qr-9Tzw")
    >>> len(seeded.departments), len(seeded.accounts), len(seeded.policies)
    (8, 19, 8)
    """
    for department in DEPARTMENTS:
        create_department(store, department, actor=actor)
    accounts = []
    for user in USERS:
        password = make_password(user.username)
        create_user(
            store,
            username=user.username,
            display_name=user.display_name,
            department=user.department,
            roles=user.roles,
            password=password,
            actor=actor,
            temporary=True,  # as a bureau's would be: changed at the first sign-in
        )
        accounts.append(
            SeededAccount(user.username, user.display_name, user.department, user.roles, password)
        )
    for policy in POLICIES:
        set_layer_policy(store, policy, actor=actor)
    return SeededAccess(DEPARTMENTS, tuple(accounts), POLICIES)

"""Graded access decided in one place: who reads, exports and edits a layer of each grade,
which fields and rows they see, which roles one person may hold, the audit hash chain."""

from __future__ import annotations

import pytest

from guotu.domain.access.audit_chain import GENESIS, chain_hash, verify_chain
from guotu.domain.access.grades import Grade
from guotu.domain.access.passwords import password_problems
from guotu.domain.access.policy import (
    ANONYMOUS,
    AccessList,
    Action,
    LayerPolicy,
    Principal,
    decide,
    readable_layers,
    row_filter,
    visible_fields,
)
from guotu.domain.access.roles import (
    ROLES,
    Permission,
    duty_conflicts,
    get_access_role,
    permissions_of,
)
from guotu.errors import ConfigError

R, E, X = Action.READ, Action.EXPORT, Action.EDIT

PUBLIC = LayerPolicy("规划分区", Grade.PUBLIC)
INTERNAL = LayerPolicy("用地用海", Grade.INTERNAL)
INTERNAL_NAMED = LayerPolicy(
    "地籍", Grade.INTERNAL, {R: AccessList(departments=frozenset({"guihua"}))}
)
RESTRICTED = LayerPolicy(
    "永久基本农田",
    Grade.RESTRICTED,
    {
        R: AccessList(roles=frozenset({"reviewer"}), departments=frozenset({"gengdi"})),
        E: AccessList(departments=frozenset({"gengdi"})),
        X: AccessList(departments=frozenset({"gengdi"})),
    },
)
RESTRICTED_UNNAMED = LayerPolicy("涉密", Grade.RESTRICTED)

viewer_gh = Principal("a", frozenset({"viewer"}), "guihua")
editor_gh = Principal("b", frozenset({"editor"}), "guihua")
editor_gd = Principal("c", frozenset({"editor"}), "gengdi")
viewer_gd = Principal("d", frozenset({"viewer"}), "gengdi")
reviewer_zj = Principal("e", frozenset({"reviewer"}), "zhujian")
sys_admin = Principal("f", frozenset({"sys_admin"}), "xinxi")
audit_admin = Principal("g", frozenset({"audit_admin"}), "xinxi")
no_roles = Principal("h", frozenset(), "guihua")

# (principal, policy) → (read, export, edit), worked out from the rules in the module docstring
CASES = [
    (ANONYMOUS, PUBLIC, (True, False, False)),
    (ANONYMOUS, INTERNAL, (False, False, False)),
    (ANONYMOUS, RESTRICTED, (False, False, False)),
    (no_roles, PUBLIC, (False, False, False)),
    (viewer_gh, PUBLIC, (True, False, False)),
    (viewer_gh, INTERNAL, (True, False, False)),
    (viewer_gh, INTERNAL_NAMED, (True, False, False)),
    (viewer_gh, RESTRICTED, (False, False, False)),
    (editor_gh, INTERNAL, (True, True, True)),
    (editor_gh, RESTRICTED, (False, False, False)),
    (editor_gd, INTERNAL_NAMED, (False, False, False)),
    (editor_gd, RESTRICTED, (True, True, True)),
    (viewer_gd, RESTRICTED, (True, False, False)),
    (reviewer_zj, RESTRICTED, (True, False, False)),  # named by role for reading only
    (reviewer_zj, INTERNAL, (True, True, False)),
    (editor_gd, RESTRICTED_UNNAMED, (False, False, False)),
    (sys_admin, PUBLIC, (False, False, False)),  # administrators keep the system, not data
    (audit_admin, INTERNAL, (False, False, False)),
]


@pytest.mark.parametrize(("who", "policy", "want"), CASES)
def test_decisions(who: Principal, policy: LayerPolicy, want: tuple[bool, bool, bool]) -> None:
    assert (decide(who, R, policy), decide(who, E, policy), decide(who, X, policy)) == want


def test_a_layer_without_a_policy_is_internal_not_public() -> None:
    policies = {"规划分区": PUBLIC}
    assert readable_layers(ANONYMOUS, ["规划分区", "无策略"], policies) == ["规划分区"]
    assert readable_layers(viewer_gh, ["规划分区", "无策略"], policies) == ["规划分区", "无策略"]


def test_hidden_fields_and_rows() -> None:
    owners = LayerPolicy(
        "确权",
        Grade.INTERNAL,
        hidden_fields={
            "QLRMC": AccessList(departments=frozenset({"gengdi"})),
            "ZJHM": AccessList(),  # named for nobody: hidden from everyone
        },
        region_field="XZQDM",
    )
    fields = ["DKBM", "QLRMC", "ZJHM", "MJ"]
    assert visible_fields(viewer_gh, fields, owners) == ["DKBM", "MJ"]
    assert visible_fields(viewer_gd, fields, owners) == ["DKBM", "QLRMC", "MJ"]
    town = Principal("t", frozenset({"viewer"}), "xz", ("330102001", "330102002"))
    rows = row_filter(town, owners)
    assert rows is not None
    assert [rows.admits(v) for v in ("330102001005", "330102002", "330102003001", None)] == [
        True,
        True,
        False,
        False,
    ]
    assert row_filter(viewer_gh, owners) is None


def test_roles_table_and_separation_of_duties() -> None:
    assert {r.id for r in ROLES if r.admin} == {"sys_admin", "sec_admin", "audit_admin"}
    assert permissions_of(["audit_admin"]) == {Permission.READ_AUDIT}
    assert permissions_of(["viewer", "reviewer"]) == {
        Permission.READ,
        Permission.EXPORT,
        Permission.REVIEW,
    }
    assert len(duty_conflicts(["sys_admin", "sec_admin", "audit_admin"])) == 3
    assert len(duty_conflicts(["audit_admin", "viewer"])) == 1  # administrators: no business
    assert len(duty_conflicts(["sec_admin", "viewer", "reviewer"])) == 2
    assert len(duty_conflicts(["audit_admin", "approver", "dept_admin"])) == 2
    assert duty_conflicts(["editor", "reviewer", "approver", "dept_admin"]) == []
    with pytest.raises(ConfigError) as err:
        get_access_role("root")
    assert "没有“root”这一角色" in err.value.render("zh") and "sec_admin" in err.value.render()


def test_grades_parse_in_both_languages() -> None:
    assert [Grade.parse(t) for t in ("公开", "internal", " RESTRICTED ")] == list(Grade)
    with pytest.raises(ConfigError):
        Grade.parse("秘密")


def test_password_rules() -> None:
    assert password_problems("Gh#2035plan", "wang") == []
    assert len(password_problems("Ab1", "wang")) == 1  # too short only: 3 classes
    assert len(password_problems("abcdefgh", "li")) == 1  # one class
    assert len(password_problems("Wang#2035", "WANG")) == 1  # contains the user name


def _chain(n: int) -> list[tuple[int, dict[str, object], str, str]]:
    out, previous = [], GENESIS
    for seq in range(1, n + 1):
        fields = {"seq": seq, "user": f"u{seq % 3}", "action": "read", "object": f"L{seq}"}
        own = chain_hash(previous, fields)
        out.append((seq, fields, previous, own))
        previous = own
    return out


def test_audit_chain_names_exactly_the_changed_or_missing_records() -> None:
    records = _chain(6)
    assert verify_chain(records) == []
    edited = list(records)
    seq, fields, prev, own = edited[2]
    edited[2] = (seq, {**fields, "user": "someone else"}, prev, own)
    assert [b.seq for b in verify_chain(edited)] == [3]
    # rewriting its hash too moves the break to the next record, which still points at the old
    seq, fields, prev, _ = edited[2]
    edited[2] = (seq, fields, prev, chain_hash(prev, fields))
    assert [b.seq for b in verify_chain(edited)] == [4]
    deleted = records[:3] + records[4:]
    (gap,) = verify_chain(deleted)
    assert gap.seq == 5 and "序号 4" in gap.reason_zh

"""Layer access policies and the decisions every way out of the system asks for.

A :class:`LayerPolicy` gives a layer its open grade (:class:`~guotu.domain.access.grades.Grade`)
and, optionally, who may read, export and edit it (role ids and department ids), fields only
some may see (owner names, ID numbers), and a region field that limits a user whose department
covers part of the county (a 乡镇) to their own 行政区 (row-level, by code prefix).

The rules, in one place (:func:`decide`):

* anonymous users read what is 公开 and nothing else; they never export or edit;
* a signed-in user needs the permission (``read``, ``export``, ``edit``) from a role, and then:
  a 公开 layer is open to them; an 内部 layer is open unless its policy names who may
  (then their role or department must be named); a 受限 layer only when its policy names
  their role or department for that action;
* exporting or editing a layer also needs reading it.

Every surface (OGC API, tiles, site query, review inputs, reports and downloads, the UI's
layer tree) asks :func:`decide`, and a layer a user may not read is hidden, never named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from guotu.domain.access.grades import DEFAULT_GRADE, Grade
from guotu.domain.access.roles import Permission, permissions_of

__all__ = [
    "ANONYMOUS",
    "AccessList",
    "Action",
    "LayerPolicy",
    "Principal",
    "RowFilter",
    "decide",
    "readable_layers",
    "row_filter",
    "visible_fields",
]


class Action(StrEnum):
    """What is asked of a layer."""

    READ = "read"
    EXPORT = "export"
    EDIT = "edit"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user with roles and a department, or nobody (anonymous).

    Attributes
    ----------
    regions
        行政区 code prefixes the user's department covers (``("330102001",)`` for a 乡镇);
        empty for a user who sees the whole workspace.
    """

    username: str | None
    roles: frozenset[str] = frozenset()
    department: str | None = None
    regions: tuple[str, ...] = ()

    @property
    def is_anonymous(self) -> bool:
        """True when nobody signed in."""
        return self.username is None

    @property
    def permissions(self) -> frozenset[Permission]:
        """Everything the principal's roles allow."""
        return permissions_of(self.roles)


#: The principal of a request without a session or token.
ANONYMOUS = Principal(None)


@dataclass(frozen=True)
class AccessList:
    """Role ids and department ids named for one action; empty = not named."""

    roles: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        """True when the list names nobody."""
        return not self.roles and not self.departments

    def admits(self, who: Principal) -> bool:
        """True when ``who`` holds a named role or belongs to a named department."""
        return bool(self.roles & who.roles) or (
            who.department is not None and who.department in self.departments
        )


@dataclass(frozen=True)
class LayerPolicy:
    """The open grade and access rules of one layer.

    Attributes
    ----------
    layer
        The layer name.
    lists
        Who may do each action, where the policy names them (:class:`Action` → list).
    hidden_fields
        Fields shown only to those their list admits (field name → list).
    region_field
        The 行政区 code field that limits a user with ``regions`` to their own rows.
    """

    layer: str
    grade: Grade = DEFAULT_GRADE
    lists: Mapping[Action, AccessList] = field(default_factory=dict)
    hidden_fields: Mapping[str, AccessList] = field(default_factory=dict)
    region_field: str | None = None

    def access_list(self, action: Action) -> AccessList:
        """The list for ``action`` (empty when the policy names nobody)."""
        return self.lists.get(action, AccessList())


#: The permission each action needs from a role.
_NEEDS = {
    Action.READ: Permission.READ,
    Action.EXPORT: Permission.EXPORT,
    Action.EDIT: Permission.EDIT,
}


def decide(who: Principal, action: Action, policy: LayerPolicy) -> bool:
    """May ``who`` do ``action`` to the layer ``policy`` governs? (see the module's rules)

    Examples
    --------
    >>> farmland = LayerPolicy("永久基本农田", Grade.RESTRICTED,
    ...     {Action.READ: AccessList(departments=frozenset({"gengdi"}))})
    >>> clerk = Principal("li", frozenset({"viewer"}), "gengdi")
    >>> planner = Principal("wang", frozenset({"editor"}), "guihua")
    >>> decide(clerk, Action.READ, farmland), decide(planner, Action.READ, farmland)
    (True, False)
    >>> decide(ANONYMOUS, Action.READ, LayerPolicy("规划分区", Grade.PUBLIC))
    True
    """
    if action is not Action.READ and not decide(who, Action.READ, policy):
        return False
    if who.is_anonymous:
        return action is Action.READ and policy.grade is Grade.PUBLIC
    if _NEEDS[action] not in who.permissions:
        return False
    named = policy.access_list(action)
    if policy.grade is Grade.PUBLIC:
        return named.is_empty or named.admits(who) or action is Action.READ
    if policy.grade is Grade.INTERNAL:
        return named.is_empty or named.admits(who)
    return named.admits(who)


def readable_layers(
    who: Principal, layers: Iterable[str], policies: Mapping[str, LayerPolicy]
) -> list[str]:
    """The layers of ``layers`` ``who`` may read, in their order (a layer without a policy has
    the default grade, 内部)."""
    return [
        name for name in layers if decide(who, Action.READ, policies.get(name) or LayerPolicy(name))
    ]


def visible_fields(who: Principal, fields: Sequence[str], policy: LayerPolicy) -> list[str]:
    """The fields of ``fields`` ``who`` may see, in their order.

    Examples
    --------
    >>> owners = LayerPolicy("确权", Grade.INTERNAL,
    ...     hidden_fields={"QLRMC": AccessList(roles=frozenset({"reviewer"}))})
    >>> visible_fields(Principal("a", frozenset({"viewer"})), ["DKBM", "QLRMC"], owners)
    ['DKBM']
    """
    return [
        f for f in fields if f not in policy.hidden_fields or policy.hidden_fields[f].admits(who)
    ]


@dataclass(frozen=True)
class RowFilter:
    """Rows a user may see: those whose ``field`` starts with one of ``prefixes``."""

    field: str
    prefixes: tuple[str, ...]

    def admits(self, value: object) -> bool:
        """True when ``value`` (a code) starts with one of the prefixes."""
        text = "" if value is None else str(value).strip()
        return any(text.startswith(p) for p in self.prefixes)


def row_filter(who: Principal, policy: LayerPolicy) -> RowFilter | None:
    """The rows ``who`` is limited to on this layer, or ``None`` for all of them.

    A user whose department covers regions sees, on a layer with a region field, only the
    rows of those regions; on a layer without one, every row (the grade decides).

    Examples
    --------
    >>> town = Principal("zhao", frozenset({"viewer"}), "xiangzhen", ("330102001",))
    >>> row_filter(town, LayerPolicy("村庄规划", region_field="XZQDM"))
    RowFilter(field='XZQDM', prefixes=('330102001',))
    >>> row_filter(town, LayerPolicy("规划分区")) is None
    True
    """
    if not who.regions or policy.region_field is None:
        return None
    return RowFilter(policy.region_field, who.regions)

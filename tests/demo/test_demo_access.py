"""``guotu demo`` seeds who works with the demo county: its departments, one account for each
role (the three administrators three people) and the open grades of its layers; the accounts'
passwords are printed once at the end and written nowhere."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.demo.access import DEPARTMENTS, TOWN_PREFIX, USERS
from guotu.demo.county import MIN_PARCELS
from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import Action, decide, visible_fields
from guotu.domain.access.roles import ADMIN_ROLES, ROLES
from guotu.services.identity import principal_for, sign_in
from guotu.store.geopackage import GeoPackageStore

_PASSWORD = re.compile(r"\b[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}\b")


@dataclass
class Seeded:
    ws: Path
    files: Path
    output: str
    passwords: dict[str, str]  # user name → the password the output shows


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    base = tmp_path_factory.mktemp("demo_access")
    ws = base / "demo.gpkg"
    res = CliRunner().invoke(
        root,
        ["demo", "-w", str(ws), "--parcels", str(MIN_PARCELS), "--no-check"],
        env={"GUOTU_LANG": None},
    )
    assert res.exit_code == 0, res.output
    passwords = {}
    for line in res.output.splitlines():
        cells = [c.strip() for c in line.split("│") if c.strip()]
        if cells and cells[0] in {u.username for u in USERS}:
            passwords[cells[0]] = cells[-1]
    return Seeded(ws, base / "demo_files", res.output, passwords)


def test_the_departments_are_seeded(seeded: Seeded) -> None:
    with GeoPackageStore.open(seeded.ws) as store:
        departments = {d.id: d for d in store.departments()}
    assert len(departments) == 8
    assert sorted(departments) == sorted(
        ["guihua", "gengdi", "xinxi", "fagai", "zhujian", "shengtai", "beiling", "sheji"]
    )
    assert departments["sheji"].kind.value == "external"
    assert departments["gengdi"].name == "自然资源和规划局耕地保护科"


def test_the_town_is_limited_to_a_code_prefix_of_the_county(seeded: Seeded) -> None:
    with GeoPackageStore.open(seeded.ws) as store:
        town = next(d for d in store.departments() if d.id == "beiling")
        codes = store.read_layer("XZQ", columns=["XZQDM", "XZQMC"])
    assert town.regions == (TOWN_PREFIX,) == ("370999101",)
    (name,) = codes[codes["XZQDM"].str.startswith(TOWN_PREFIX)]["XZQMC"]
    assert town.name == f"{name}人民政府"


def test_every_role_has_an_account_and_the_administrators_are_three_people(
    seeded: Seeded,
) -> None:
    with GeoPackageStore.open(seeded.ws) as store:
        users = store.users()
    assert len(users) == 19
    assert {r for u in users for r in u.roles} == {r.id for r in ROLES}
    admins = [u for u in users if u.roles & ADMIN_ROLES]
    assert sorted(r for u in admins for r in u.roles) == sorted(ADMIN_ROLES)
    assert all(len(u.roles) == 1 for u in admins)


def test_the_layer_grades_are_seeded(seeded: Seeded) -> None:
    with GeoPackageStore.open(seeded.ws) as store:
        policies = store.layer_policies()
        layers = {i.name for i in store.layers()}
    assert len(policies) == 8 and set(policies) <= layers
    grades = {name: p.grade for name, p in policies.items()}
    assert grades["YJJBNT"] is Grade.RESTRICTED
    assert grades["STBHHX"] is Grade.INTERNAL and grades["GHYD"] is Grade.INTERNAL
    assert {n for n, g in grades.items() if g is Grade.PUBLIC} == {"XZQ", "XXGHDY", "XXGHDK"}
    farmland = policies["YJJBNT"].access_list(Action.READ)
    assert (farmland.roles, farmland.departments) == ({"reviewer"}, {"gengdi"})
    assert set(policies["DLTB"].hidden_fields) == {"ZLDWMC"}


def test_the_grades_decide_as_a_bureau_expects(seeded: Seeded) -> None:
    with GeoPackageStore.open(seeded.ws) as store:
        policies = store.layer_policies()
        who = {u.username: principal_for(store, u) for u in store.users()}
    farmland, survey = policies["YJJBNT"], policies["DLTB"]
    # 耕地保护科 and reviewers read the farmland; 发改 and the design institute do not
    assert decide(who["zhaolei01"], Action.READ, farmland)
    assert decide(who["liuyang01"], Action.READ, farmland)
    assert not decide(who["zhouwei01"], Action.READ, farmland)
    assert not decide(who["linfeng01"], Action.READ, farmland)
    # the owner-like field of the survey is hidden from the design institute
    assert "ZLDWMC" in visible_fields(who["wangfang01"], ["DLBM", "ZLDWMC"], survey)
    assert visible_fields(who["linfeng01"], ["DLBM", "ZLDWMC"], survey) == ["DLBM"]


def test_each_password_is_printed_once_and_signs_in(seeded: Seeded) -> None:
    assert sorted(seeded.passwords) == sorted(u.username for u in USERS)
    for password in seeded.passwords.values():
        assert _PASSWORD.fullmatch(password) and seeded.output.count(password) == 1
    with GeoPackageStore.open(seeded.ws) as store:
        for username, password in seeded.passwords.items():
            assert sign_in(store, username, password, address="127.0.0.1").username == username
    assert "只显示这一次" in seeded.output and "8 个部门、19 个账号、8 个图层" in seeded.output


def test_the_passwords_are_written_nowhere(seeded: Seeded) -> None:
    written = [p for p in seeded.files.rglob("*") if p.is_file()]
    assert written
    for path in written:
        data = path.read_bytes()
        assert not any(p.encode() in data for p in seeded.passwords.values()), path
    with GeoPackageStore.open(seeded.ws) as store:
        log = json.dumps([e.to_dict() for e in store.audit_log()], ensure_ascii=False)
        hashes = [u.password_hash or "" for u in store.users()]
    assert not any(p in log for p in seeded.passwords.values())
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_the_department_list_counts_its_members(seeded: Seeded) -> None:
    res = CliRunner().invoke(root, ["dept", "list", "-w", str(seeded.ws), "--json"])
    members = {d["id"]: d["users"] for d in json.loads(res.output)}
    assert members == {d.id: sum(1 for u in USERS if u.department == d.id) for d in DEPARTMENTS}
    assert sum(members.values()) == 19


def test_json_gives_the_accounts_and_no_accounts_seeds_none(tmp_path: Path) -> None:
    args = ["demo", "--parcels", str(MIN_PARCELS), "--no-check", "--json"]
    with_accounts = CliRunner().invoke(root, [*args, "-w", str(tmp_path / "a.gpkg")])
    assert with_accounts.exit_code == 0, with_accounts.output
    got = json.loads(with_accounts.output)["accounts"]
    assert len(got) == 19 and all(_PASSWORD.fullmatch(a["password"]) for a in got)
    without = CliRunner().invoke(root, [*args, "-w", str(tmp_path / "b.gpkg"), "--no-accounts"])
    assert without.exit_code == 0, without.output
    assert "accounts" not in json.loads(without.output)
    with GeoPackageStore.open(tmp_path / "b.gpkg") as store:
        assert store.users() == [] and store.departments() == [] and store.layer_policies() == {}

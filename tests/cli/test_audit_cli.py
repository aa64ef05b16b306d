"""``guotu audit verify`` and ``guotu audit search`` as the audit administrator types them.

The log is tampered with behind guotu's back, as someone with the file would: one record
edited (or deleted) with sqlite3, the append-only trigger dropped first in that connection.
``verify`` must then name exactly that record and exit 1."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from guotu.cli import root
from guotu.store.geopackage import GeoPackageStore


def run(*args: str, code: int = 0) -> Result:
    res = CliRunner().invoke(root, list(args), env={"GUOTU_LANG": None, "GUOTU_USER": "测试员"})
    assert res.exit_code == code, (args, res.exit_code, res.output)
    assert "Traceback" not in res.output
    return res


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace whose log holds 6 records: three administrators, a department, an account
    and a grant."""
    path = tmp_path / "county.gpkg"
    w = str(path)
    run("admin", "init", "-w", w)
    run("dept", "add", "gengdi", "--name", "耕地保护科", "-w", w)
    run(
        "user",
        "add",
        "lisi01",
        "--name",
        "李四",
        "--role",
        "viewer",
        "--generate-password",
        "-w",
        w,
    )
    run("user", "set-roles", "lisi01", "reviewer", "-w", w)
    return path


def records(ws: Path) -> int:
    with GeoPackageStore.open(ws) as store:
        return len(store.audit_log())


def tamper(ws: Path, sql: str) -> None:
    with sqlite3.connect(ws) as conn:
        conn.execute("DROP TRIGGER IF EXISTS guotu_audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS guotu_audit_no_delete")
        conn.execute(sql)


# -- verify ------------------------------------------------------------------------------------
def test_verify_an_intact_log_exits_0(ws: Path) -> None:
    n = records(ws)
    assert n == 6
    out = run("audit", "verify", "-w", str(ws)).output
    assert out.strip() == f"审计日志完整：{n} 条记录，哈希链无断裂。"


def test_verify_names_exactly_the_edited_record_and_exits_1(ws: Path) -> None:
    tamper(ws, "UPDATE guotu_audit SET actor = '某人' WHERE id = 4")
    out = run("audit", "verify", "-w", str(ws), code=1).output
    lines = out.strip().splitlines()
    assert lines[0] == "审计日志不完整：6 条记录中有 1 处与哈希链不符："
    assert lines[1] == "  序号 4：记录内容与其哈希不符（记录被改动过）。"
    assert "序号 5" not in out and "序号 3" not in out


def test_verify_says_it_in_english_on_request(ws: Path) -> None:
    tamper(ws, "UPDATE guotu_audit SET reason = 'nothing happened' WHERE id = 2")
    out = run("audit", "verify", "-w", str(ws), "--lang", "en", code=1).output
    assert "  sequence 2: its content does not match its hash (the record was changed)." in out


def test_verify_names_the_record_after_a_deleted_one(ws: Path) -> None:
    tamper(ws, "DELETE FROM guotu_audit WHERE id = 3")
    got = json.loads(run("audit", "verify", "-w", str(ws), "--json", code=1).output)
    assert got["intact"] is False and got["records"] == 5
    assert [(b["seq"], b["reason_zh"]) for b in got["breaks"]] == [
        (4, "它之前的记录（序号 3）已不存在")
    ]


# -- search ------------------------------------------------------------------------------------
def test_search_by_action_and_object(ws: Path) -> None:
    w = str(ws)
    made = json.loads(run("audit", "search", "-w", w, "--action", "create_user", "--json").output)
    assert [e["object"] for e in made] == [
        "user:lisi01",
        "user:auditadmin",
        "user:secadmin",
        "user:admin",
    ]
    about = json.loads(run("audit", "search", "-w", w, "--object", "user:lisi01", "--json").output)
    assert [e["action"] for e in about] == ["grant", "create_user"]


def test_search_by_actor_and_time(ws: Path) -> None:
    w = str(ws)
    since = run("audit", "search", "-w", w, "--since", "2000-01-01 08:00", "--limit", "2").output
    assert "共 2 条" in since and "授予角色" in since and "新建账号" in since
    mine = json.loads(run("audit", "search", "-w", w, "--actor", "测试员", "--json").output)
    assert len(mine) == 6  # the export itself is recorded after the search
    assert json.loads(run("audit", "search", "-w", w, "--actor", "某人", "--json").output) == []
    until = run("audit", "search", "-w", w, "--until", "2000-01-01", "--json")
    assert json.loads(until.output) == []


def test_search_on_screen_shows_the_actions_in_chinese(ws: Path) -> None:
    out = run("audit", "search", "-w", str(ws)).output
    for action in ("新建部门", "新建账号", "授予角色"):
        assert action in out
    assert "共 6 条（最新的在前" in out


def test_search_exports_csv_for_excel_and_records_the_export(ws: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "审计记录.csv"
    out = run("audit", "search", "-w", str(ws), "--csv", str(out_file)).output
    assert "已导出 6 条审计记录" in out
    raw = out_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese right
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [int(r["id"]) for r in rows] == [6, 5, 4, 3, 2, 1]
    assert rows[-1]["action"] == "create_user" and len(rows[0]["hash"]) == 64
    with GeoPackageStore.open(ws) as store:
        last = store.audit_log()[-1]
    assert (last.action, last.actor, last.detail["records"]) == ("export_audit", "测试员", 6)
    assert run("audit", "verify", "-w", str(ws)).output.startswith("审计日志完整：7 条记录")


def test_search_refuses_a_time_that_is_not_one(ws: Path) -> None:
    out = run("audit", "search", "-w", str(ws), "--since", "昨天", code=2).output
    assert "--since" in out

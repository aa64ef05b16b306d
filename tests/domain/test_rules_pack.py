"""Rule packs: schema validation with every problem listed, profiles, hashes, templates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from guotu.cli.base import root
from guotu.domain.review.operators import OPERATORS
from guotu.domain.review.pack import pack_hash, render_template
from guotu.errors import RulePackError
from guotu.services.rule_packs import find_pack, load_rule_pack, validate_pack_files


def _base() -> dict:
    return yaml.safe_load(find_pack("cn-base").read_text(encoding="utf-8"))


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_builtin_pack_loads_with_every_kind_and_operator() -> None:
    pack = load_rule_pack()
    assert pack.id == "cn-base"
    kinds = {k for r in pack.rules for k in r.kinds}
    assert kinds == {"master-plan", "detailed-plan", "special-plan", "project", "indicators"}
    assert {r.operator for r in pack.rules} <= set(OPERATORS.names())
    for rule in pack.rules:  # every rule cites its legal basis and has both languages
        assert rule.basis.document and rule.title_zh and rule.title_en
        assert rule.message_zh and rule.message_en


def test_every_problem_is_listed_at_once_with_file_and_path(tmp_path: Path) -> None:
    data = _base()
    data["rules"][0]["operator"] = "no_such_operator"
    data["rules"][1]["severity"] = "fatal"  # schema
    data["rules"][2]["id"] = data["rules"][3]["id"]  # duplicate id
    data["rules"][4]["scope"]["codes"]["include"] = ["@no_such_set"]
    data["rules"][6]["scope"]["codes"]["include"] = ["07", 701]  # unquoted code: a number
    data["rules"][7]["args"] = {"compare": "lt", "max_share_pct": "十五"}
    path = _write(tmp_path, "bad.yaml", data)
    pack, problems = validate_pack_files(path)
    assert pack is None
    assert all(p.file == str(path) for p in problems)
    paths = [p.path for p in problems]
    # schema problems and the semantic ones, all in one pass
    for expected in (
        "$.rules[1].severity",
        "$.rules[0].operator",
        "$.rules[3].id",
        "$.rules[4].scope.codes.include",
        "$.rules[6].scope.codes.include[1]",
        "$.rules[7].args.compare",
        "$.rules[7].args.max_share_pct",
    ):
        assert expected in paths, (expected, paths)
    quoted = next(p for p in problems if p.path == "$.rules[6].scope.codes.include[1]")
    assert "quote codes" in quoted.message
    unknown = next(p for p in problems if p.path == "$.rules[0].operator")
    for name in OPERATORS.names():  # the known operators are listed
        assert name in unknown.message


def test_unknown_operator_fails_at_load(tmp_path: Path) -> None:
    data = _base()
    data["rules"][0]["operator"] = "eval"
    with pytest.raises(RulePackError, match=r"unknown operator 'eval'.*forbid_overlap"):
        load_rule_pack(_write(tmp_path, "p.yaml", data))


def test_profile_overrides_disables_and_adds() -> None:
    base = load_rule_pack()
    prof = load_rule_pack("cn-base", "sd-example")
    ids = {r.id for r in prof.rules}
    assert "sanqu.farmland.forestry_fishpond" in {r.id for r in base.rules}
    assert "sanqu.farmland.forestry_fishpond" not in ids  # disabled
    assert {"sd.farmland.rural_road", "sd.farmland.forestry_fishpond"} <= ids  # added
    assert prof.rule("sanqu.udb.flexible_zone").severity.value == "error"  # overridden
    assert base.rule("sanqu.udb.flexible_zone").severity.value == "warning"
    assert prof.rule("transmission.reserve_share").args["max_share_pct"] == 10.0
    farm = prof.rule("sanqu.farmland.construction")
    assert not farm.matches_code("060101") and farm.matches_code("0703")
    assert base.rule("sanqu.farmland.construction").matches_code("060101")
    assert pack_hash(prof) != pack_hash(base)


def test_profile_naming_missing_rules_is_refused(tmp_path: Path) -> None:
    prof = {
        "schema_version": 1,
        "profile": {"id": "x", "extends": "cn-base", "title": "x"},
        "disable": ["no.such_rule"],
        "override": [{"id": "also.missing", "set": {"severity": "info"}}],
        "add": [dict(_base()["rules"][0])],
    }  # an id the base already has
    path = _write(tmp_path, "prof.yaml", prof)
    _, problems = validate_pack_files("cn-base", path)
    paths = sorted(p.path for p in problems)
    assert paths == ["$.add", "$.disable[0]", "$.override[0]"]


def test_hash_ignores_formatting_but_not_content(tmp_path: Path) -> None:
    data = _base()
    a = load_rule_pack(_write(tmp_path, "a.yaml", data))
    text = find_pack("cn-base").read_text(encoding="utf-8")
    (tmp_path / "b.yaml").write_text("# another comment\n" + text, encoding="utf-8")
    b = load_rule_pack(tmp_path / "b.yaml")
    assert pack_hash(a) == pack_hash(b) == pack_hash(load_rule_pack())
    data["rules"][0]["tolerance"]["area_m2"] = 2.0
    c = load_rule_pack(_write(tmp_path, "c.yaml", data))
    assert pack_hash(c) != pack_hash(a)


def test_templates_never_reach_attributes() -> None:
    values = {"area_m2": 1.5, "feature": "x"}
    assert (
        render_template("{feature.__class__}{area_m2.real}{area_m2:.1f}", values)
        == "{feature.__class__}{area_m2.real}1.5"
    )
    # nested specs are never formatted: only the inner name is substituted, as text
    assert render_template("{area_m2:>{feature}}", values) == "{area_m2:>x}"


def test_rules_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(root, ["rules", "validate", "cn-base", "--profile", "sd-example"])
    assert ok.exit_code == 0, ok.output
    assert "sha256:" in ok.output
    data = _base()
    data["rules"][0]["operator"] = "nope"
    data["rules"][5]["operator"] = "nope2"
    bad = runner.invoke(root, ["rules", "validate", str(_write(tmp_path, "b.yaml", data))])
    assert bad.exit_code == 2
    assert "$.rules[0].operator" in bad.output and "$.rules[5].operator" in bad.output
    listed = runner.invoke(root, ["rules", "list", "--kind", "special-plan", "--json"])
    assert listed.exit_code == 0
    assert "special.route.redline" in listed.output
    shown = runner.invoke(root, ["rules", "show", "sanqu.redline.construction", "--json"])
    assert "自然资发〔2022〕142号" in shown.output

"""Rule packs (审查规则包) as typed values: parse, layer a profile over a base pack, hash.

A rule pack is data (YAML, checked against ``guotu/schemas/rulepack-v1.json`` by the service
before it reaches this module): a pack id and version, named code sets, tables (such as the
use-compatibility table of 传导 checks) and rules. A *profile* (a province's or a city's local
rules) names the pack it extends and overrides, disables and adds rules, and may replace
code sets and tables. :func:`apply_profile` gives the effective pack; :func:`pack_hash` is
the SHA-256 of its canonical JSON form, stamped on every report.

Nothing in a pack is evaluated as code: operators are looked up by name in
:data:`guotu.domain.review.operators.OPERATORS` and message templates are filled by
:func:`render_template`, which only substitutes ``{name}`` and ``{name:.2f}`` placeholders.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from guotu.domain.core.documents import RULE_PACK, DocumentProblem, document_error
from guotu.domain.core.findings import RULE_ID, Severity
from guotu.errors import ConfigError, RulePackError

__all__ = [
    "KINDS",
    "KIND_NAMES",
    "LegalBasis",
    "Rule",
    "RulePack",
    "apply_profile",
    "pack_hash",
    "parse_pack",
    "render_template",
]

#: Review kinds and the role of the layer each one reviews.
KINDS: dict[str, str] = {
    "master-plan": "planned_land_use",
    "detailed-plan": "detailed_parcel",
    "special-plan": "special_plan",
    "project": "construction_project",
    "indicators": "indicator_table",
}
#: What each review kind is called, in Chinese and English.
KIND_NAMES: dict[str, tuple[str, str]] = {
    "master-plan": ("总体规划", "master plan"),
    "detailed-plan": ("详细规划", "detailed plan"),
    "special-plan": ("专项规划", "special plan"),
    "project": ("建设项目", "project"),
    "indicators": ("规划指标", "indicators"),
}

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?::([^{}]*))?\}")
_SAFE_SPEC = re.compile(r"[<>^]?[+-]?,?(\.\d{1,3})?[fdg%]?")


@dataclass(frozen=True)
class LegalBasis:
    """The document and article a rule rests on."""

    document: str
    article: str = ""

    def text(self) -> str:
        """``《document》article``-style citation as one string.

        Examples
        --------
        >>> LegalBasis("《土地管理法》", "第三十五条").text()
        '《土地管理法》第三十五条'
        """
        return f"{self.document}{self.article}"


@dataclass(frozen=True)
class Rule:
    """One review rule of a pack, its sets resolved.

    Attributes
    ----------
    id
        Stable dotted id (``sanqu.redline.construction``); never renumbered or reused.
    kinds
        Review kinds it runs in (``detailed-plan`` …; see :data:`KINDS`).
    subject_codes, subject_exclude
        Land-use code prefixes the reviewed features must have (empty = every feature) and
        prefixes taken out again.
    zone_role, zone_field, zone_values
        The control-line layer role and an optional filter on its features
        (``GHFQDM`` in ``["03"]`` = 特别用途区).
    args
        Operator arguments (plain data).
    tolerance
        Unit-named tolerances (``area_m2``, ``length_m``, ``area_ha``, ``value``).
    """

    id: str
    title_zh: str
    title_en: str
    basis: LegalBasis
    kinds: tuple[str, ...]
    operator: str
    severity: Severity
    message_zh: str
    message_en: str
    suggestion_zh: str = ""
    suggestion_en: str = ""
    subject_codes: tuple[str, ...] = ()
    subject_exclude: tuple[str, ...] = ()
    zone_role: str | None = None
    zone_field: str | None = None
    zone_values: tuple[str, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)
    tolerance: Mapping[str, float] = field(default_factory=dict)
    origin: str = ""

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.title_zh if lang == "zh" else self.title_en

    def tol(self, name: str, default: float = 0.0) -> float:
        """A tolerance by unit-named key (``area_m2`` …)."""
        return float(self.tolerance.get(name, default))

    def matches_code(self, code: str | None) -> bool:
        """Whether a feature's land-use code is in the rule's subject codes.

        Examples
        --------
        >>> r = Rule("a.b", "", "", LegalBasis(""), ("master-plan",), "x", Severity.ERROR, "", "",
        ...          subject_codes=("07", "08"), subject_exclude=("0703",))
        >>> r.matches_code("070101"), r.matches_code("0703"), r.matches_code("0101")
        (True, False, False)
        """
        if not self.subject_codes and not self.subject_exclude:
            return True
        if code is None:
            return False
        if self.subject_codes and not code.startswith(self.subject_codes):
            return False
        return not (self.subject_exclude and code.startswith(self.subject_exclude))


@dataclass(frozen=True)
class RulePack:
    """An effective rule pack: base pack with any profile applied."""

    id: str
    version: str
    title_zh: str
    title_en: str
    rules: tuple[Rule, ...]
    sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tables: Mapping[str, Any] = field(default_factory=dict)
    profile: str | None = None
    sources: tuple[str, ...] = ()
    canonical: Mapping[str, Any] = field(default_factory=dict)

    def rules_for(self, kind: str) -> tuple[Rule, ...]:
        """Rules that run in review ``kind``, sorted by id."""
        return tuple(sorted((r for r in self.rules if kind in r.kinds), key=lambda r: r.id))

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; :class:`RulePackError` lists the ids."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise RulePackError(
            f"Rule pack {self.id} has no rule {rule_id!r}.",
            fix=f"Rules: {', '.join(r.id for r in self.rules)}.",
            message_zh=f"规则包 {self.id} 中没有规则 {rule_id!r}。",
            fix_zh="可用规则见 guotu rules list。",
        )

    def table(self, name: str) -> Any:
        """A named table of the pack (``None`` if absent)."""
        return self.tables.get(name)


def render_template(template: str, values: Mapping[str, Any]) -> str:
    """Fill ``{name}`` and ``{name:.2f}`` placeholders; nothing else is interpreted.

    Unknown names are left as written; format specs are limited to width-free numeric
    formats, so a template can never reach attributes or run code.

    Examples
    --------
    >>> render_template("{feature} 有 {area_m2:.2f} m²，{x.__class__}", {"feature": "地块 A",
    ...                 "area_m2": 9600.004})
    '地块 A 有 9600.00 m²，{x.__class__}'
    """

    def sub(m: re.Match[str]) -> str:
        name, spec = m.group(1), m.group(2)
        if name not in values:
            return m.group(0)
        value = values[name]
        if value is None:
            return "—"
        if spec and _SAFE_SPEC.fullmatch(spec) and isinstance(value, int | float):
            return format(value, spec)
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    return _PLACEHOLDER.sub(sub, template)


def _text_pair(raw: Any) -> tuple[str, str]:
    if isinstance(raw, Mapping):
        zh = str(raw.get("zh", ""))
        return zh, str(raw.get("en", zh))
    return (str(raw), str(raw)) if raw is not None else ("", "")


def _resolve(
    values: Sequence[Any],
    sets: Mapping[str, tuple[str, ...]],
    where: str,
    problems: list[DocumentProblem],
    source: str,
) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        text = str(v)
        if text.startswith("@"):
            name = text[1:]
            if name not in sets:
                problems.append(
                    DocumentProblem(
                        source,
                        where,
                        f"unknown code set {text!r}; sets: {', '.join(sorted(sets)) or 'none'}",
                    )
                )
                continue
            out.extend(sets[name])
        else:
            out.append(text)
    return tuple(out)


def _parse_rule(
    raw: Mapping[str, Any],
    where: str,
    source: str,
    sets: Mapping[str, tuple[str, ...]],
    known_ops: Sequence[str],
    problems: list[DocumentProblem],
) -> Rule | None:
    rid = str(raw.get("id", ""))
    if not RULE_ID.fullmatch(rid):
        problems.append(
            DocumentProblem(source, f"{where}.id", f"{rid!r} is not a dotted lower-case id")
        )
        return None
    op = str(raw.get("operator", ""))
    if op not in known_ops:
        problems.append(
            DocumentProblem(
                source,
                f"{where}.operator",
                f"unknown operator {op!r} (rule {rid}); known operators: {', '.join(known_ops)}",
            )
        )
    kinds = tuple(str(k) for k in raw.get("kinds", ()))
    for k in kinds:
        if k not in KINDS:
            problems.append(
                DocumentProblem(
                    source,
                    f"{where}.kinds",
                    f"unknown review kind {k!r}; kinds: {', '.join(KINDS)}",
                )
            )
    scope = raw.get("scope") or {}
    codes = scope.get("codes") or {}
    zone = scope.get("zone") or {}
    title_zh, title_en = _text_pair(raw.get("title"))
    msg_zh, msg_en = _text_pair(raw.get("message"))
    sug_zh, sug_en = _text_pair(raw.get("suggestion"))
    basis = raw.get("basis") or {}
    try:
        severity = Severity.parse(str(raw.get("severity", "error")))
    except ConfigError:
        problems.append(
            DocumentProblem(
                source, f"{where}.severity", f"unknown severity {raw.get('severity')!r}"
            )
        )
        severity = Severity.ERROR
    args = _resolve_args(dict(raw.get("args") or {}), sets, f"{where}.args", problems, source)
    for path, message in _arg_problems(args, f"{where}.args"):
        problems.append(DocumentProblem(source, path, f"{message} (rule {rid})"))
    return Rule(
        id=rid,
        title_zh=title_zh,
        title_en=title_en,
        basis=LegalBasis(str(basis.get("document", "")), str(basis.get("article", ""))),
        kinds=kinds,
        operator=op,
        severity=severity,
        message_zh=msg_zh,
        message_en=msg_en,
        suggestion_zh=sug_zh,
        suggestion_en=sug_en,
        subject_codes=_resolve(
            codes.get("include", ()), sets, f"{where}.scope.codes.include", problems, source
        ),
        subject_exclude=_resolve(
            codes.get("exclude", ()), sets, f"{where}.scope.codes.exclude", problems, source
        ),
        zone_role=zone.get("role"),
        zone_field=zone.get("field"),
        zone_values=tuple(str(v) for v in zone.get("values", ())),
        args=args,
        tolerance={str(k): float(v) for k, v in (raw.get("tolerance") or {}).items()},
        origin=source,
    )


_UNIT_SUFFIXES = ("_m", "_m2", "_ha", "_pct")


def _arg_problems(value: Any, where: str) -> list[tuple[str, str]]:
    """Operator arguments that cannot work: a ``compare`` other than le/ge/eq, a number
    argument (its name ends in a unit) that is not a number, a check without a field."""
    out: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            at = f"{where}.{key}"
            if key == "compare" and item not in ("le", "ge", "eq"):
                out.append((at, f"compare must be le, ge or eq, not {item!r}"))
            elif str(key).endswith(_UNIT_SUFFIXES) and (
                isinstance(item, bool) or not isinstance(item, int | float)
            ):
                out.append((at, f"{key} must be a number, not {item!r}"))
            elif key in ("categories", "checks"):
                if not isinstance(item, list):
                    out.append((at, f"{key} must be a list"))
                    continue
                for n, entry in enumerate(item):
                    if not isinstance(entry, Mapping) or "field" not in entry:
                        out.append((f"{at}[{n}]", "each entry needs a field"))
            out.extend(_arg_problems(item, at))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            out.extend(_arg_problems(item, f"{where}[{n}]"))
    return out


def _resolve_args(
    value: Any,
    sets: Mapping[str, tuple[str, ...]],
    where: str,
    problems: list[DocumentProblem],
    source: str,
) -> Any:
    """Operator arguments with ``@set`` references in any list expanded, at any depth."""
    if isinstance(value, Mapping):
        return {
            k: _resolve_args(v, sets, f"{where}.{k}", problems, source) for k, v in value.items()
        }
    if isinstance(value, list):
        if any(isinstance(v, str) and v.startswith("@") for v in value):
            return list(_resolve(value, sets, where, problems, source))
        return [
            _resolve_args(v, sets, f"{where}[{n}]", problems, source) for n, v in enumerate(value)
        ]
    return value


def _sets_of(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {str(k): tuple(str(v) for v in vals) for k, vals in (raw.get("sets") or {}).items()}


def parse_pack(
    data: Mapping[str, Any],
    *,
    source: str,
    known_operators: Sequence[str],
    problems: list[DocumentProblem] | None = None,
) -> RulePack:
    """Turn a schema-valid base pack document into a :class:`RulePack`.

    Checks what the schema cannot: unique ids, known operators and kinds, known code sets.
    Every problem is collected; :class:`RulePackError` lists them all at the end (or they are
    appended to ``problems`` when a list is passed, for ``guotu rules validate``).

    Examples
    --------
    >>> doc = {"schema_version": 1, "pack": {"id": "t", "version": "1", "title": "测试"},
    ...        "rules": [{"id": "a.b", "title": "x", "basis": {"document": "d"},
    ...                   "kinds": ["master-plan"], "operator": "nope", "severity": "error",
    ...                   "message": "m"}]}
    >>> parse_pack(doc, source="t.yaml", known_operators=["forbid_overlap"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    guotu.errors.RulePackError: Rule pack t.yaml has 1 problem: t.yaml: $.rules[0].operator: unknown operator 'nope' (rule a.b); known operators: forbid_overlap. Fix: ...
    """
    collect = problems if problems is not None else []
    start = len(collect)
    head = data.get("pack") or {}
    sets = _sets_of(data)
    rules = _parse_rules(data.get("rules") or (), "$.rules", source, sets, known_operators, collect)
    title_zh, title_en = _text_pair(head.get("title"))
    pack = RulePack(
        id=str(head.get("id", "")),
        version=str(head.get("version", "")),
        title_zh=title_zh,
        title_en=title_en,
        rules=tuple(rules),
        sets=sets,
        tables=dict(data.get("tables") or {}),
        sources=(source,),
        canonical=_canonical(data),
    )
    if problems is None and len(collect) > start:
        raise document_error(RULE_PACK, source, collect[start:])
    return pack


def _parse_rules(
    raws: Sequence[Mapping[str, Any]],
    where: str,
    source: str,
    sets: Mapping[str, tuple[str, ...]],
    known_ops: Sequence[str],
    problems: list[DocumentProblem],
) -> list[Rule]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for n, raw in enumerate(raws):
        rule = _parse_rule(raw, f"{where}[{n}]", source, sets, known_ops, problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(
                DocumentProblem(source, f"{where}[{n}].id", f"rule id {rule.id!r} appears twice")
            )
            continue
        seen.add(rule.id)
        rules.append(rule)
    return rules


def apply_profile(
    base: RulePack,
    data: Mapping[str, Any],
    *,
    source: str,
    known_operators: Sequence[str],
    problems: list[DocumentProblem] | None = None,
) -> RulePack:
    """Layer a profile document (override, disable, add; replace sets and tables) over ``base``.

    Overrides replace whole top-level keys of a rule (``severity``, ``tolerance``, ``args`` …);
    an override or disable naming a rule the base does not have is a problem, as is an added
    rule whose id the base already uses.

    Examples
    --------
    >>> base = RulePack("cn-base", "1", "基础", "base", ())
    >>> apply_profile(base, {"schema_version": 1, "profile": {"id": "p", "extends": "cn-base",
    ...               "title": "p"}, "disable": ["a.b"]}, source="p.yaml",
    ...               known_operators=[])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    guotu.errors.RulePackError: Rule pack p.yaml has 1 problem: p.yaml: $.disable[0]: ...
    """
    collect = problems if problems is not None else []
    start = len(collect)
    head = data.get("profile") or {}
    extends = str(head.get("extends", ""))
    if extends != base.id:
        collect.append(
            DocumentProblem(
                source,
                "$.profile.extends",
                f"profile extends {extends!r} but the base pack is {base.id!r}",
            )
        )
    sets = {**base.sets, **_sets_of(data)}
    base_raw = {str(r.get("id")): r for r in base.canonical.get("rules", ())}
    by_id: dict[str, Rule] = {r.id: r for r in base.rules}
    for n, entry in enumerate(data.get("override") or ()):
        rid = str(entry.get("id", ""))
        where = f"$.override[{n}]"
        if rid not in by_id:
            collect.append(DocumentProblem(source, where, _missing(rid, by_id)))
            continue
        merged = {**base_raw.get(rid, {}), **(entry.get("set") or {}), "id": rid}
        rule = _parse_rule(merged, where, source, sets, known_operators, collect)
        if rule is not None:
            by_id[rid] = rule
    for n, rid in enumerate(str(x) for x in data.get("disable") or ()):
        if rid not in by_id:
            collect.append(DocumentProblem(source, f"$.disable[{n}]", _missing(rid, by_id)))
            continue
        del by_id[rid]
    if _sets_of(data):  # replaced sets change the rules that use them
        for rid, rule in list(by_id.items()):
            if rule.origin == base.sources[0] and rid in base_raw:
                again = _parse_rule(
                    base_raw[rid],
                    f"$.rules[{rid}]",
                    base.sources[0],
                    sets,
                    known_operators,
                    collect,
                )
                if again is not None:
                    by_id[rid] = again
    for rule in _parse_rules(
        data.get("add") or (), "$.add", source, sets, known_operators, collect
    ):
        if rule.id in by_id:
            collect.append(
                DocumentProblem(
                    source,
                    "$.add",
                    f"rule id {rule.id!r} is already in {base.id}; use override to change it",
                )
            )
            continue
        by_id[rule.id] = rule
    canonical = {"base": dict(base.canonical), "profile": _canonical(data)}
    pack = replace(
        base,
        rules=tuple(sorted(by_id.values(), key=lambda r: r.id)),
        sets=sets,
        tables={**base.tables, **dict(data.get("tables") or {})},
        profile=str(head.get("id", "")),
        sources=(*base.sources, source),
        canonical=canonical,
    )
    if problems is None and len(collect) > start:
        raise document_error(RULE_PACK, source, collect[start:])
    return pack


def _missing(rid: str, by_id: Mapping[str, Rule]) -> str:
    return f"no rule {rid!r} in the base pack (it has {len(by_id)} rules; see guotu rules list)"


def _canonical(data: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True, default=str))
    return result


def pack_hash(pack: RulePack) -> str:
    """``sha256:<hex>`` of the pack's canonical JSON (base and profile documents).

    Formatting, comments and key order of the YAML do not change it; any rule text does.

    Examples
    --------
    >>> a = RulePack("x", "1", "", "", (), canonical={"a": 1, "b": [1, 2]})
    >>> b = RulePack("x", "1", "", "", (), canonical={"b": [1, 2], "a": 1})
    >>> pack_hash(a) == pack_hash(b), pack_hash(a)[:7]
    (True, 'sha256:')
    """
    text = json.dumps(pack.canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Signature of a message-value builder, for operators.
ValueBuilder = Callable[[Rule], Mapping[str, Any]]

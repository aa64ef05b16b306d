"""Rule packs of the plan review (成果审查规则包): find, load, validate and layer them.

A pack is a YAML document following ``guotu/schemas/rulepack-v1.json``, read by
:func:`guotu.io.yaml_documents.read_document`; a profile (a province's or a city's own rules)
is layered over its base pack (:func:`guotu.domain.review.pack.apply_profile`). Every problem
of both, the schema's and the parser's, is listed at once with its file and JSON path.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from guotu.domain.core.documents import RULE_PACK, DocumentProblem, document_error
from guotu.domain.review.operators import OPERATORS
from guotu.domain.review.pack import RulePack, apply_profile, parse_pack
from guotu.errors import RulePackError
from guotu.io.yaml_documents import read_document

__all__ = ["BUILTIN_PACKS", "find_pack", "load_rule_pack", "validate_pack_files"]

#: Packs shipped in the package (``guotu/rulesets``), by id.
BUILTIN_PACKS = ("cn-base", "sd-example")


def find_pack(name: str | Path) -> Path:
    """The file of a pack: a path, or the id of a built-in pack (``cn-base``).

    Examples
    --------
    >>> find_pack("cn-base").name
    'cn-base.yaml'
    """
    p = Path(name)
    if p.suffix.lower() in (".yaml", ".yml", ".json") or p.exists():
        return p
    builtin = files("guotu") / "rulesets" / f"{name}.yaml"
    if builtin.is_file():
        return Path(str(builtin))
    raise RulePackError(
        f"There is no rule pack {name!r}.",
        fix=f"Give a YAML file or one of the built-in packs: {', '.join(BUILTIN_PACKS)}.",
        message_zh=f"没有名为 {name!r} 的规则包。",
        fix_zh=f"请指定 YAML 文件，或内置规则包之一：{'、'.join(BUILTIN_PACKS)}。",
    )


def _document(path: str | Path, problems: list[DocumentProblem]) -> tuple[str, Any, bool]:
    """(source, document, whether it follows the schema); schema problems are collected."""
    source, data, found = read_document(find_pack(path), RULE_PACK)
    problems.extend(found)
    return source, data, not found


def _semantic_pass(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run a parse step on a document that broke the schema, to list its other problems too;
    shapes the schema already refused may make it fail, which adds nothing new."""
    try:
        return fn(*args, **kw)
    except (TypeError, AttributeError, ValueError, KeyError):
        return None


def load_rule_pack(
    pack: str | Path = "cn-base",
    profile: str | Path | None = None,
    *,
    problems: list[DocumentProblem] | None = None,
) -> RulePack:
    """Load, validate and layer a rule pack and an optional profile.

    Every problem (schema, ids, operators, code sets, overrides) is collected;
    :class:`RulePackError` lists them all, each with its file and JSON path.

    Examples
    --------
    >>> p = load_rule_pack("cn-base", "sd-example")
    >>> p.profile, p.rule("sanqu.redline.construction").severity.value
    ('sd-example', 'error')
    """
    collect = problems if problems is not None else []
    ops = OPERATORS.names()
    source, data, ok = _document(pack, collect)
    if isinstance(data, dict) and "profile" in data:
        collect.append(
            DocumentProblem(
                source,
                "$.profile",
                "this is a profile; give it with --profile and its base pack with --rules",
            )
        )
        data = None
    if not isinstance(data, dict):
        data = None
    if data is not None and ok:
        base = parse_pack(data, source=source, known_operators=ops, problems=collect)
    else:
        if data is not None:  # list the semantic problems too, as far as they can be seen
            _semantic_pass(parse_pack, data, source=source, known_operators=ops, problems=collect)
        base, data = RulePack("", "", "", "", ()), None
    result = base
    if profile is not None:
        psource, pdata, pok = _document(profile, collect)
        if isinstance(pdata, dict) and "pack" in pdata:
            collect.append(DocumentProblem(psource, "$.pack", "this is a base pack, not a profile"))
            pdata = None
        if isinstance(pdata, dict) and data is not None:
            if pok:
                result = apply_profile(
                    base, pdata, source=psource, known_operators=ops, problems=collect
                )
            else:
                _semantic_pass(
                    apply_profile,
                    base,
                    pdata,
                    source=psource,
                    known_operators=ops,
                    problems=collect,
                )
    if problems is None and collect:
        raise document_error(
            RULE_PACK, source if profile is None else f"{source} + {profile}", collect
        )
    return result


def validate_pack_files(
    pack: str | Path, profile: str | Path | None = None
) -> tuple[RulePack | None, list[DocumentProblem]]:
    """Every problem of a pack (and profile), for ``guotu rules validate``."""
    problems: list[DocumentProblem] = []
    result = load_rule_pack(pack, profile, problems=problems)
    return (None if problems else result), problems

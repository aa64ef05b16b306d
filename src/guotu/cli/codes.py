"""``guotu codes``: browse, check and translate 用地用海 2023 codes.

Exit codes: 0 ok, 1 findings (a code with issues; a translation with no single target),
2 usage or input error (unknown code for ``show``, unknown scheme, malformed OSM tag).
"""

from __future__ import annotations

from typing import Any

import click

from guotu.cli.base import Context, emit_json, json_option, lang_option, pass_context, root
from guotu.domain.codes.classification import (
    ISSUE_LABELS,
    CodeIssue,
    LandUseCode,
    construction_category,
    ydyh_2023,
)
from guotu.domain.codes.crosswalks import Scheme, translate, ydyh_legal_three_major_class

__all__ = ["codes"]

_FROM_SCHEMES = [s.value for s in Scheme if s is not Scheme.YDYH2023]
_MAPPING_ZH = {
    "one_to_one": "一对一",
    "to_level1": "仅对应到一级类",
    "one_to_many": "一对多",
    "unmapped": "无对应分类",
}
_CATEGORY_EN = {
    "建设用地": "construction land",
    "非建设用地": "non-construction land",
    "农用地": "agricultural land",
    "未利用地": "unused land",
}


def _as_dict(code: LandUseCode) -> dict[str, Any]:
    return {
        "code": code.code,
        "name_zh": code.name_zh,
        "name_en": code.name_en,
        "level": code.level,
        "parent": code.parent,
    }


def _name(ctx: Context, code: LandUseCode) -> str:
    return ctx.t(code.name_zh, code.name_en)


def _select(level: int | None, parent: str | None) -> list[LandUseCode]:
    table = ydyh_2023()
    selected = list(table.children(parent)) if parent is not None else list(table)
    if level is not None:
        selected = [c for c in selected if c.level == level]
    return selected


def _print_list(ctx: Context, level: int | None, parent: str | None, as_json: bool) -> None:
    selected = _select(level, parent)
    if as_json:
        emit_json([_as_dict(c) for c in selected])
        return
    for c in selected:
        click.echo(f"{'  ' * (c.level - 1)}{c.code:<8}{_name(ctx, c)}")


_level_option = click.option(
    "--level", type=click.IntRange(1, 3), default=None, help="Only this level (1, 2 or 3)."
)
_parent_option = click.option(
    "--parent", metavar="CODE", default=None, help="Only the direct sub-classes of CODE."
)


@root.group(name="codes", invoke_without_command=True)
@_level_option
@_parent_option
@json_option
@lang_option
@pass_context
@click.pass_context
def codes(
    click_ctx: click.Context, ctx: Context, level: int | None, parent: str | None, as_json: bool
) -> None:
    """用地用海 2023 分类代码 (land- and sea-use codes): list, show, validate, translate.

    Without a subcommand, lists the codes (like ``guotu codes list``).
    """
    if click_ctx.invoked_subcommand is None:
        _print_list(ctx, level, parent, as_json)


@codes.command(name="list")
@_level_option
@_parent_option
@json_option
@lang_option
@pass_context
def list_codes(ctx: Context, level: int | None, parent: str | None, as_json: bool) -> None:
    """List the codes (all 175, or one level, or the sub-classes of one code)."""
    _print_list(ctx, level, parent, as_json)


@codes.command(name="show")
@click.argument("code")
@json_option
@lang_option
@pass_context
def show(ctx: Context, code: str, as_json: bool) -> None:
    """Show one code: names, level, parent chain, sub-classes and categories."""
    table = ydyh_2023()
    found = table.lookup(code)
    category = construction_category(found.code)
    legal = ydyh_legal_three_major_class(found.code)
    ancestors = table.ancestors(found.code)
    children = table.children(found.code)
    if as_json:
        emit_json(
            {
                **_as_dict(found),
                "ancestors": [_as_dict(a) for a in ancestors],
                "children": [_as_dict(c) for c in children],
                "construction_category": category,
                "legal_three_major_class": legal,
            }
        )
        return
    click.echo(
        ctx.t(f"{found.code}  {found.name_zh}", f"{found.code}  {found.name_zh}  ({found.name_en})")
    )
    click.echo(f"{ctx.t('级别：', 'Level: ')}{found.level}")
    if ancestors:
        chain = " > ".join(f"{a.code} {_name(ctx, a)}" for a in ancestors)
        click.echo(f"{ctx.t('上级：', 'Parents: ')}{chain}")
    if children:
        click.echo(ctx.t("下级：", "Sub-classes:"))
        for c in children:
            click.echo(f"  {c.code:<8}{_name(ctx, c)}")
    click.echo(
        f"{ctx.t('建设/非建设（规划口径）：', 'Construction (planning convention): ')}"
        f"{ctx.t(category, _CATEGORY_EN[category])}"
    )
    legal_text = (
        ctx.t(legal, _CATEGORY_EN[legal])
        if legal is not None
        else ctx.t("视具体情况而定", "depends on context")
    )
    click.echo(f"{ctx.t('三大类（调查法定口径）：', 'Legal three major classes: ')}{legal_text}")


def _issue_dict(issue: CodeIssue) -> dict[str, Any]:
    return {
        "kind": issue.kind,
        "code": issue.code,
        "message_zh": issue.message_zh,
        "message_en": issue.message_en,
        "suggestion": issue.suggestion,
    }


@codes.command(name="validate")
@click.argument("code")
@click.option("--name", default=None, help="Also check that the class has this name.")
@json_option
@lang_option
@pass_context
def validate(ctx: Context, code: str, name: str | None, as_json: bool) -> None:
    """Check a code (and optionally its name); exit 1 when there are issues."""
    issues = ydyh_2023().validate(code, name)
    if as_json:
        emit_json(
            {"code": code, "is_valid": not issues, "issues": [_issue_dict(i) for i in issues]}
        )
    elif not issues:
        found = ydyh_2023().lookup(code)
        click.echo(
            ctx.t(f"{found.code} {found.name_zh}：有效。", f"{found.code} {found.name_en}: valid.")
        )
    else:
        for issue in issues:
            label = ctx.t(*ISSUE_LABELS[issue.kind])
            click.echo(f"[{label}] {ctx.t(issue.message_zh, issue.message_en)}")
    if issues:
        raise click.exceptions.Exit(1)


@codes.command(name="translate")
@click.argument("code")
@click.option(
    "--from",
    "from_scheme",
    type=click.Choice(_FROM_SCHEMES),
    required=True,
    help="Scheme of CODE (for osm, CODE is key=value).",
)
@click.option(
    "--to",
    "to_scheme",
    type=click.Choice([Scheme.YDYH2023.value]),
    default=Scheme.YDYH2023.value,
    show_default=True,
    help="Target scheme.",
)
@json_option
@lang_option
@pass_context
def translate_code(
    ctx: Context, code: str, from_scheme: str, to_scheme: str, as_json: bool
) -> None:
    """Translate a code of another scheme to 用地用海 2023; exit 1 if there is no single target."""
    result = translate(code, from_scheme, to_scheme)
    table = ydyh_2023()
    targets = [table.lookup(t) for t in result.targets]
    if as_json:
        emit_json(
            {
                "source": result.source,
                "from_scheme": result.from_scheme,
                "to_scheme": result.to_scheme,
                "mapping_type": result.mapping_type,
                "targets": [_as_dict(t) for t in targets],
                "note": result.note,
                "note_zh": result.note_zh,
                "is_verified": result.is_verified,
            }
        )
    else:
        kind = ctx.t(_MAPPING_ZH.get(result.mapping_type, result.mapping_type), result.mapping_type)
        click.echo(
            ctx.t(
                f"{result.source}（{result.from_scheme}）→ {result.to_scheme}：{kind}",
                f"{result.source} ({result.from_scheme}) → {result.to_scheme}: {kind}",
            )
        )
        for t in targets:
            click.echo(f"  {t.code:<8}{_name(ctx, t)}")
        if not targets:
            click.echo(ctx.t("  （无对应分类）", "  (no target class)"))
        if not result.is_verified:
            click.echo(
                ctx.t("注意：未经官方对照表核实。", "Caution: not backed by an official table.")
            )
        if note := ctx.t(result.note_zh, result.note):
            click.echo(f"{ctx.t('说明：', 'Note: ')}{note}")
    if result.target is None:
        raise click.exceptions.Exit(1)

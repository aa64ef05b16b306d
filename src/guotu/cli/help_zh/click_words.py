"""click's own words in Chinese: the usage line (:data:`CLICK_WORDS`, :data:`USAGE_PIECES`),
the placeholders of arguments and option values (:data:`PLACEHOLDERS`, :func:`placeholder`,
:data:`TYPE_METAVARS`), and its error messages (:data:`CLICK_MESSAGES`,
:func:`translate_click_message`), shown in the run's language by :func:`show_click_error`
(usage line, a hint, the message).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import click

from guotu.cli.help_zh.access import ACCESS_PLACEHOLDERS
from guotu.cli.help_zh.cases import CASE_PLACEHOLDERS
from guotu.cli.help_zh.catalogue import command_key

__all__ = [
    "CLICK_MESSAGES",
    "CLICK_WORDS",
    "PARAM_KINDS",
    "PLACEHOLDERS",
    "TYPE_METAVARS",
    "USAGE_PIECES",
    "click_message_zh",
    "placeholder",
    "show_click_error",
    "translate_click_message",
]

CLICK_WORDS: dict[str, str] = {
    "usage": "用法：",
    "options": "选项",
    "commands": "命令",
    "error": "错误：",
    "try_help": "请运行 {command} 查看帮助。",
    "aborted": "已中止。",
}

#: The usage line's placeholders for options and subcommands.
USAGE_PIECES: dict[str, str] = {
    "[OPTIONS]": "[选项]",
    "COMMAND [ARGS]...": "命令 [参数]...",
    "[COMMAND] [ARGS]...": "[命令] [参数]...",
}

#: The placeholders of arguments and option values (as the code declares them: an argument's
#: name, an option's metavar) in Chinese help. ``"command path --option"`` or ``"command path
#: ARGUMENT"`` is a placeholder that reads differently on one command.
PLACEHOLDERS: dict[str, str] = {
    "FILE": "文件",
    "SOURCE": "审查对象",
    "PLAN": "规划",
    "OLD": "原版本",
    "NEW": "新版本",
    "TARGET": "对象",
    "NAME": "名称",
    "PACK": "规则包",
    "RULE_ID": "规则编号",
    "CODE": "代码",
    "TBBH": "图斑编号",
    "LAYER": "图层",
    "LOCATION": "工作空间",
    "PROFILE": "地方配置",
    "ID": "指标编号",
    "COLUMN=FIELD": "源字段=标准字段",
    "FIELD=VALUE": "字段=值",
    "X,Y": "X,Y",  # coordinates, as a point is written in every language
    "guotu plan create NAME": "规划名称",
    "guotu plan show NAME": "规划名称",
    "guotu check --layer": "图层",
    "guotu query --parcel": "地块编号",
    **ACCESS_PLACEHOLDERS,  # user, role, dept, policy, token, audit
    **CASE_PLACEHOLDERS,  # guotu case
}
_PLACEHOLDER = re.compile(r"(\[?)([A-Z][A-Z_=,]*)(\]?)((?:\.\.\.)?)")


def placeholder(path: str, text: str, option: str | None = None) -> str:
    """A usage piece or metavar (``FILE``, ``[SOURCE]``, ``COLUMN=FIELD``) of the command
    ``path`` in Chinese (:data:`PLACEHOLDERS`; ``option`` names the option whose metavar it
    is); anything else as it is.

    Examples
    --------
    >>> placeholder("guotu review", "[SOURCE]"), placeholder("guotu import", "COLUMN=FIELD")
    ('[审查对象]', '源字段=标准字段')
    >>> placeholder("guotu query", "CODE", "--parcel"), placeholder("guotu review", "{a|b}")
    ('地块编号', '{a|b}')
    """
    found = _PLACEHOLDER.fullmatch(text)
    if found is None:
        return text
    word = found[2]
    zh = PLACEHOLDERS.get(f"{path} {option or word}") or PLACEHOLDERS.get(word)
    return text if zh is None else f"{found[1]}{zh}{found[3]}{found[4]}"


#: Metavars of click's types (by the type's name) where an option declares none.
TYPE_METAVARS: dict[str, str] = {
    "text": "文本",
    "integer": "整数",
    "integer range": "整数",
    "float": "数值",
    "float range": "数值",
    "boolean": "是/否",
}

#: click's kinds of parameter, as a missing one is named.
PARAM_KINDS: dict[str, str] = {"argument": "参数", "option": "选项", "parameter": "参数"}


def _values(text: str) -> str:
    """``'a', 'b'`` (click's quoted list) as ``a、b``."""
    return "、".join(v.strip().strip("'") for v in text.split(", "))


def _dates(text: str) -> str:
    """click's date formats (``'%Y-%m-%d', …``) as examples (``2025-12-31``)."""
    return "、".join(
        datetime(2025, 12, 31, 8, 30).strftime(f.strip().strip("'")) for f in text.split(", ")
    )


_PATH_KINDS = {"file": "文件", "directory": "文件夹", "path": "路径"}

#: click's error sentences (as click 8 writes them) and their Chinese.
CLICK_MESSAGES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), make)
    for pattern, make in (
        (r"No such option '(?P<name>.+)'\.", lambda m: f"没有选项 {m['name']}。"),
        (r"No such option: (?P<name>.+)", lambda m: f"没有选项 {m['name']}。"),
        (r"No such command '(?P<name>.+)'\.", lambda m: f"没有命令 {m['name']}。"),
        (
            r"Option '(?P<name>.+)' requires an argument\.",
            lambda m: f"选项 {m['name']} 需要一个值。",
        ),
        (
            r"Option '(?P<name>.+)' requires (?P<n>\d+) arguments\.",
            lambda m: f"选项 {m['name']} 需要 {m['n']} 个值。",
        ),
        (r"Option '(?P<name>.+)' does not take a value\.", lambda m: f"选项 {m['name']} 不带值。"),
        (
            r"Argument '(?P<name>.+)' takes (?P<n>\d+) values\.",
            lambda m: f"参数 {m['name']} 需要 {m['n']} 个值。",
        ),
        (
            r"Got unexpected extra arguments? \((?P<args>.*)\)",
            lambda m: f"多余的参数：{m['args']}。",
        ),
        (r"Missing command\.", lambda m: "缺少子命令。"),
        (
            r"'(?P<value>.*)' is not one of (?P<choices>.+)\.",
            lambda m: f"{m['value']} 不是可选值（{_values(m['choices'])}）之一。",
        ),
        (
            r"'(?P<value>.*)' is not (?P<choice>'.*')\.",
            lambda m: f"{m['value']} 不是可选值（{_values(m['choice'])}）。",
        ),
        (r"'(?P<value>.*)' is not a valid integer\.", lambda m: f"{m['value']} 不是整数。"),
        (r"'(?P<value>.*)' is not a valid float\.", lambda m: f"{m['value']} 不是数值。"),
        (r"'(?P<value>.*)' is not a valid boolean\..*", lambda m: f"{m['value']} 不是是/否值。"),
        (
            r"(?P<value>.+) is not in the range (?P<range>.+)\.",
            lambda m: f"{m['value']} 不在范围 {m['range']} 内。",
        ),
        (
            r"'(?P<value>.*)' does not match the formats? (?P<formats>.+)\.",
            lambda m: f"{m['value']} 不是有效的日期，应写成如 {_dates(m['formats'])} 的形式。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' does not exist\.",
            lambda m: f"{_PATH_KINDS[m['kind'].lower()]} {m['name']} 不存在。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' is a file\.",
            lambda m: f"{m['name']} 是文件，不是文件夹。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' is a directory\.",
            lambda m: f"{m['name']} 是文件夹，不是文件。",
        ),
        (
            r"(?P<kind>file|directory|path) '(?P<name>.*)' is not (?P<what>readable|writable|executable)\.",
            lambda m: (
                f"{_PATH_KINDS[m['kind'].lower()]} {m['name']} 不可"
                f"{ {'readable': '读', 'writable': '写', 'executable': '执行'}[m['what'].lower()] }。"
            ),
        ),
        (
            r"Takes (?P<n>\d+) values but (?P<k>\d+) (?:was|were) given\.",
            lambda m: f"需要 {m['n']} 个值，却给了 {m['k']} 个。",
        ),
        (r"Value must be an iterable\.", lambda m: "值必须是一组值。"),
    )
)


def translate_click_message(message: str) -> str:
    """One of click's error sentences in Chinese; any other text as it is.

    Examples
    --------
    >>> translate_click_message("'fr' is not one of 'zh', 'en'.")
    'fr 不是可选值（zh、en）之一。'
    >>> translate_click_message("'2025/1/1' does not match the format '%Y-%m-%d'.")
    '2025/1/1 不是有效的日期，应写成如 2025-12-31 的形式。'
    """
    for pattern, make in CLICK_MESSAGES:
        match = pattern.fullmatch(message.strip())
        if match is not None:
            return make(match)
    return message


def _hint_zh(exc: click.BadParameter) -> str:
    """The parameter an error is about, as Chinese text (``选项 -w / --workspace``)."""
    if exc.param_hint is not None:
        hints = [exc.param_hint] if isinstance(exc.param_hint, str) else list(exc.param_hint)
        return " / ".join(h.strip("'") for h in hints)
    param = exc.param
    if param is None:
        return ""
    if isinstance(param, click.Argument):
        if exc.ctx is None:
            return f"参数 {param.human_readable_name}"
        return f"参数 {placeholder(command_key(exc.ctx), param.make_metavar(exc.ctx))}"
    text = "选项 " + " / ".join(param.opts)
    envvar = getattr(param, "envvar", None)
    if getattr(param, "show_envvar", False) and envvar:
        text += f"（环境变量 {envvar if isinstance(envvar, str) else '、'.join(envvar)}）"
    return text


def click_message_zh(exc: click.ClickException) -> str:
    """The message of one of click's errors in Chinese (the English one when it is not one
    of click's own sentences).

    Examples
    --------
    >>> click_message_zh(click.NoSuchOption("--bogus"))
    '没有选项 --bogus。'
    >>> click_message_zh(click.UsageError("Got unexpected extra arguments (a b)"))
    '多余的参数：a b。'
    """
    if isinstance(exc, click.MissingParameter):
        param = exc.param
        kind = exc.param_type or (param.param_type_name if param is not None else "parameter")
        hint = _hint_zh(exc).removeprefix("参数 ").removeprefix("选项 ")
        text = f"缺少{PARAM_KINDS.get(kind, '参数')} {hint}。".replace(" 。", "。")
        if param is not None and isinstance(param.type, click.Choice):
            text += "可选：" + "、".join(map(str, param.type.choices)) + "。"
        elif exc.message:
            text += translate_click_message(exc.message)
        return text
    if isinstance(exc, click.BadParameter):
        hint = _hint_zh(exc)
        message = translate_click_message(exc.message)
        if not hint:
            return f"值无效：{message}"
        return f"{hint}{'' if hint.endswith('）') else ' '}的值无效：{message}"
    text = translate_click_message(exc.message)
    possibilities = getattr(exc, "possibilities", None)
    if possibilities:
        ctx = getattr(exc, "ctx", None)
        prefix = f"{ctx.command_path} " if isinstance(exc, click.NoSuchCommand) and ctx else ""
        text += f"是否要用 {'、'.join(prefix + p for p in sorted(possibilities))}？"
    if isinstance(exc, click.FileError):
        return f"无法打开文件 {exc.ui_filename}：{text}"
    return text


def show_click_error(exc: click.ClickException, lang: str) -> None:
    """Show one of click's errors on stderr as click does (usage line, a hint, the message),
    in Chinese when ``lang`` is zh."""
    if lang != "zh":
        exc.show()
        return
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # a group without a subcommand
        click.echo(exc.format_message(), err=True)
        return
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            names = ctx.command.get_help_option_names(ctx)
            hint = (
                CLICK_WORDS["try_help"].format(command=f"{ctx.command_path} {max(names, key=len)}")
                + "\n"
            )
        click.echo(f"{ctx.get_usage()}\n{hint}", err=True)
    click.echo(CLICK_WORDS["error"] + click_message_zh(exc), err=True)

"""The root click group, shared options, the language of a run, Chinese help and the one
error-to-exit-code mapping.

Language
    A run has one language, decided before click parses anything (:func:`run_language`): the
    last ``--lang zh|en`` on the command line, else the environment variable ``GUOTU_LANG``,
    else Chinese. ``--lang`` is also an eager option of the root group and of every command
    (so it may come after the subcommand); it sets :attr:`Context.lang`.
Chinese help
    The English help stays in the code (docstrings and ``help=``). The Chinese texts are one
    catalogue, :mod:`guotu.cli.help_zh` (command path → help, option → help). The command and
    group classes here (:class:`GuotuCommand`, :class:`GuotuGroup`) apply it when help is
    written, with click's own words (用法、选项、命令、默认 …) in Chinese too, wrapped by display
    width (a Chinese character takes two columns).
Errors
    :class:`GuotuGroup` maps a :class:`~guotu.errors.GuotuError` to its message and exit code
    (an unexpected exception to exit 3), and click's usage errors ("No such option", "Missing
    argument" …) to Chinese in Chinese runs (:func:`show_click_error`).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import click
from click.formatting import join_options
from rich.console import Console

from guotu.cli import help_zh
from guotu.cli.help_format import HelpFormatter, display_width
from guotu.errors import GuotuError

__all__ = [
    "ENV_LANG",
    "EXIT_BROKEN_PIPE",
    "LANGS",
    "Context",
    "GuotuCommand",
    "GuotuGroup",
    "click_message_zh",
    "command_key",
    "console",
    "emit_json",
    "geometry_name",
    "json_option",
    "lang_option",
    "main",
    "option_key",
    "pass_context",
    "root",
    "run_language",
    "show_click_error",
    "t",
    "use_layer_option",
    "workspace_option",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit status when whoever reads stdout has gone (``guotu stats … | head -2``): 128 +
#: SIGPIPE, what the shell reports for ``cat`` or ``grep`` cut off the same way. Not 0: a
#: review whose findings would have made it exit 1 must not look clean because its reader
#: stopped early; with ``set -o pipefail`` guotu then behaves like any Unix tool, and without
#: it the pipeline's status is the reader's.
EXIT_BROKEN_PIPE = 141

#: The languages of human output, and the environment variable choosing the default one.
LANGS = ("zh", "en")
ENV_LANG = "GUOTU_LANG"


def run_language(args: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> str:
    """The language of a run: the last ``--lang`` of ``args``, else ``GUOTU_LANG``, else zh.

    Decided before click parses the command line, so that ``--help`` and click's own errors
    are in that language wherever ``--lang`` stands. A value that is not a language is left
    for click to refuse (in the language decided so far).

    Examples
    --------
    >>> run_language(["plan", "list", "--help", "--lang", "en"], {})
    'en'
    >>> run_language(["--lang=en", "check", "--lang", "zh"], {}), run_language([], {"GUOTU_LANG": "en"})
    ('zh', 'en')
    >>> run_language(["import", "--reason", "--", "--lang", "en"], {"GUOTU_LANG": "fr"})
    'zh'
    """
    env = os.environ if environ is None else environ
    lang = env.get(ENV_LANG, "").strip().lower()
    lang = lang if lang in LANGS else "zh"
    for i, arg in enumerate(args):
        if arg == "--":
            break
        value = (
            args[i + 1]
            if arg == "--lang" and i + 1 < len(args)
            else arg.removeprefix("--lang=")
            if arg.startswith("--lang=")
            else None
        )
        if value in LANGS:
            lang = value
    return lang


class Context:
    """Options every command sees: language and debug flag (the language defaults to
    :func:`run_language` of the environment)."""

    def __init__(self, lang: str | None = None, debug: bool = False) -> None:
        self.lang = lang if lang in LANGS else run_language()
        self.debug = debug

    def t(self, zh: str, en: str) -> str:
        """Pick the Chinese or English text."""
        return en if self.lang == "en" else zh


pass_context = click.make_pass_decorator(Context, ensure=True)


def t(ctx: Context, zh: str, en: str) -> str:
    """Pick the Chinese or English text for ``ctx``."""
    return ctx.t(zh, en)


def _lang_of(click_ctx: click.Context | None) -> str:
    obj = click_ctx.find_object(Context) if click_ctx is not None else None
    return obj.lang if obj is not None else run_language()


def _set_lang(click_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        click_ctx.ensure_object(Context).lang = value
    return value


#: ``--lang`` of a command (the root group's also reads GUOTU_LANG, see :data:`root`).
_LANG_OPTION: dict[str, Any] = {
    "type": click.Choice(LANGS),
    "default": None,
    "expose_value": False,
    "callback": _set_lang,
    "is_eager": True,
    "help": f"Language of human output (default zh, or {ENV_LANG}).",
}


def lang_option(f: F) -> F:
    """``--lang zh|en`` on a command (every command has it: :class:`GuotuCommand` adds it
    where a command does not declare it)."""
    return click.option("--lang", **_LANG_OPTION)(f)


def json_option(f: F) -> F:
    """``--json``: print the machine-readable result on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)


def use_layer_option(f: F) -> F:
    """``--use-layer LAYER`` (repeatable): the layer of its role to use when the workspace
    holds several layers of that role (never guessed)."""
    return click.option(
        "--use-layer",
        "use_layers",
        multiple=True,
        metavar="LAYER",
        help="Use LAYER for its role where the workspace has several layers of that role "
        "(repeatable).",
    )(f)


def workspace_option(required: bool = True) -> Callable[[F], F]:
    """``-w/--workspace LOCATION``: the workspace (a GeoPackage file, a ``postgresql://``
    or ``postgres://`` URL, or ``env:NAME``)."""

    def deco(f: F) -> F:
        return click.option(
            "-w",
            "--workspace",
            "workspace",
            required=required,
            metavar="LOCATION",
            type=click.Path(dir_okay=False),
            envvar="GUOTU_WORKSPACE",
            help="Workspace: a GeoPackage file, a postgresql:// URL, or env:NAME (a variable "
            "holding one) (env GUOTU_WORKSPACE).",
        )(f)

    return deco


#: Geometry types (OGC names, any case) and geometry kinds of roles, in Chinese.
_GEOMETRY_ZH = {
    "point": "点",
    "multipoint": "多点",
    "linestring": "线",
    "multilinestring": "多线",
    "polygon": "面",
    "multipolygon": "多面",
    "geometrycollection": "几何集合",
    "line": "线",
    "polygon_or_line": "面或线",
    "geometry": "任意几何",
}


def geometry_name(value: str, lang: str) -> str:
    """A geometry type (``MultiPolygon``, ``MULTIPOLYGON``) or role geometry kind
    (``polygon_or_line``) as it is written in ``lang``.

    Examples
    --------
    >>> geometry_name("MULTIPOLYGON", "zh"), geometry_name("Point", "en")
    ('多面', 'Point')
    """
    return _GEOMETRY_ZH.get(value.lower(), value) if lang == "zh" else value


class _Console(Console):
    """rich's console, but a closed stdout stops the command the way a ``click.echo`` to it
    does (exit :data:`EXIT_BROKEN_PIPE`), not with rich's own exit 1 (which means findings)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(32, "Broken pipe")


def console() -> Console:
    """A rich console; at least 120 columns wide when output is not a terminal."""
    c = _Console()
    if not c.is_terminal:
        c = _Console(width=max(c.width, 140))
    return c


def emit_json(value: Any) -> None:
    """Write ``value`` as UTF-8 JSON (Chinese kept readable) on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _quiet_stdout() -> None:
    """Point stdout at the null device once its reader has gone, so that nothing more is
    written to the closed pipe (Python's own flush at exit included)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (click's test runner)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _tolerate_unencodable_stdout() -> None:
    """Print what stdout's encoding cannot hold as ``\\udcXX`` escapes instead of failing.

    A file name whose bytes are not UTF-8 (GBK, copied from Windows) reaches Python as
    surrogate escapes, which a strict UTF-8 stdout refuses to print. Python's stderr already
    escapes them this way; stdout does too now, so the output stays valid UTF-8 (and JSON)."""
    stream = sys.stdout
    if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (OSError, ValueError):  # a stream that cannot change (already written to)
            logging.getLogger(__name__).debug("stdout keeps strict encoding errors")


class _ClickContext(click.Context):
    formatter_class = HelpFormatter


# -- Chinese help ----------------------------------------------------------------------------
def command_key(click_ctx: click.Context) -> str:
    """The catalogue key of the command of ``click_ctx``: ``guotu`` and the subcommand names
    (``guotu plan list``), whatever the program was called."""
    names = []
    while click_ctx.parent is not None:
        names.append(click_ctx.command.name or "")
        click_ctx = click_ctx.parent
    return " ".join(["guotu", *reversed(names)])


def option_key(param: click.Parameter) -> str:
    """The catalogue name of an option: its first long name (``--workspace`` of
    ``-w/--workspace``)."""
    return next((o for o in param.opts if o.startswith("--")), param.opts[0])


def _metavar_zh(param: click.Option, click_ctx: click.Context) -> str:
    """The metavar of ``param`` in Chinese help: a declared one as the catalogue's
    placeholder (:func:`~guotu.cli.help_zh.placeholder`), click's type names in Chinese."""
    kind = param.type
    if param.metavar is not None:
        return help_zh.placeholder(
            command_key(click_ctx), param.make_metavar(click_ctx), option_key(param)
        )
    if isinstance(kind, click.Choice):
        return param.make_metavar(click_ctx)
    if isinstance(kind, click.DateTime):
        return "日期" if all("%H" not in f for f in kind.formats) else "日期时间"
    if isinstance(kind, click.Path):
        return "文件" if not kind.dir_okay else "文件夹" if not kind.file_okay else "路径"
    word = help_zh.TYPE_METAVARS.get(kind.name, kind.name.upper())
    return word + ("..." if param.nargs != 1 else "")


def _option_record_zh(param: click.Option, click_ctx: click.Context) -> tuple[str, str]:
    """(spec, help) of ``param`` in Chinese: the catalogue's text, click's extras in Chinese."""
    spec = join_options(param.opts)[0]
    if not param.is_flag and not param.count:
        spec += " " + _metavar_zh(param, click_ctx)
    if param.secondary_opts:
        spec += " / " + join_options(param.secondary_opts)[0]
    text = help_zh.option_help(command_key(click_ctx), option_key(param)) or param.help or ""
    extra = param.get_help_extra(click_ctx)
    items = []
    if "envvars" in extra:
        items.append("环境变量 " + "、".join(extra["envvars"]))
    if "default" in extra:
        items.append(f"默认 {help_zh.DEFAULT_VALUES.get(extra['default'], extra['default'])}")
    if "range" in extra:
        items.append(f"范围 {extra['range']}")
    if "required" in extra:
        items.append("必填")
    if items:
        text = f"{text}  [{'；'.join(items)}]" if text else f"[{'；'.join(items)}]"
    return spec, text


def _short_help_zh(text: str, limit: int) -> str:
    """The first sentence of a Chinese help text; when it is longer than ``limit`` columns,
    the part before its first （ or ：, else the sentence cut with …."""
    first = text.strip().split("\n", 1)[0].split("。", 1)[0]
    if display_width(first) <= limit:
        return first
    head = re.split("[（：]", first, maxsplit=1)[0]
    if 4 <= display_width(head) <= limit:
        return head
    cut = ""
    for ch in first:
        if display_width(cut + ch) > limit - 1:
            break
        cut += ch
    return cut + "…"


class _Localised(click.Command):
    """Help in the run's language: the English of the code, or the Chinese of
    :mod:`guotu.cli.help_zh`; every command gets ``--lang``."""

    context_class = _ClickContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not any(p.name == "lang" for p in self.params):
            self.params.append(click.Option(["--lang"], **_LANG_OPTION))

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        if _lang_of(ctx) != "zh":
            return pieces
        path = command_key(ctx)
        return [help_zh.USAGE_PIECES.get(p) or help_zh.placeholder(path, p) for p in pieces]

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if _lang_of(ctx) != "zh":
            super().format_usage(ctx, formatter)
            return
        formatter.write_usage(
            ctx.command_path,
            " ".join(self.collect_usage_pieces(ctx)),
            prefix=help_zh.CLICK_WORDS["usage"],
        )

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = help_zh.command_help(command_key(ctx)) if _lang_of(ctx) == "zh" else None
        if text is None:
            super().format_help_text(ctx, formatter)
            return
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(inspect.cleandoc(text))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if _lang_of(ctx) != "zh":
            super().format_options(ctx, formatter)
            return
        rows = [
            _option_record_zh(p, ctx)
            for p in self.get_params(ctx)
            if isinstance(p, click.Option) and not p.hidden
        ]
        if rows:
            with formatter.section(help_zh.CLICK_WORDS["options"]):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class GuotuCommand(_Localised, click.Command):
    """A guotu command: help in the run's language, ``--lang`` always accepted."""


class GuotuGroup(_Localised, click.Group):
    """A guotu command group: help in the run's language; its commands and subgroups are of
    these classes too; one mapping from errors to messages and exit codes."""

    command_class = GuotuCommand
    group_class = type  # subgroups are GuotuGroup

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if _lang_of(ctx) != "zh":
            super().format_commands(ctx, formatter)
            return
        commands = [
            (name, cmd)
            for name in self.list_commands(ctx)
            if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden
        ]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = []
        for name, cmd in commands:
            text = help_zh.command_help(f"{command_key(ctx)} {name}")
            rows.append(
                (
                    name,
                    _short_help_zh(text, limit)
                    if text is not None
                    else cmd.get_short_help_str(limit),
                )
            )
        with formatter.section(help_zh.CLICK_WORDS["commands"]):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # the reader of stdout has gone: stop quietly
            _quiet_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except GuotuError as exc:
            obj = ctx.find_object(Context) or Context()
            if obj.debug:
                raise
            prefix = obj.t("错误：", "Error: ")
            click.echo(f"{prefix}{exc.render(obj.lang)}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: exit 3, never 1 (which means "findings")
            obj = ctx.find_object(Context) or Context()
            if obj.debug:
                raise
            logging.getLogger(__name__).debug("Unexpected error", exc_info=exc)
            click.echo(
                obj.t(
                    f"内部错误：{type(exc).__name__}: {exc}。请加 --debug 重试，并报告此问题。",
                    f"Internal error: {type(exc).__name__}: {exc}. Run again with "
                    "--debug and report it.",
                ),
                err=True,
            )
            ctx.exit(3)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """click's ``main``, with the run's language decided first (:func:`run_language`)
        and click's own errors shown in it (:func:`show_click_error`)."""
        argv = list(sys.argv[1:] if args is None else args)
        obj = extra.setdefault("obj", Context(run_language(argv)))
        if not standalone_mode:
            return super().main(
                argv,
                prog_name,
                complete_var,
                False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        lang = obj.lang if isinstance(obj, Context) else run_language(argv)
        try:
            rv = super().main(
                argv,
                prog_name,
                complete_var,
                False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except click.ClickException as exc:
            show_click_error(exc, obj.lang if isinstance(obj, Context) else lang)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo(help_zh.CLICK_WORDS["aborted"] if lang == "zh" else "Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


# -- click's errors in Chinese ---------------------------------------------------------------
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
        return f"参数 {help_zh.placeholder(command_key(exc.ctx), param.make_metavar(exc.ctx))}"
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
        text = f"缺少{help_zh.PARAM_KINDS.get(kind, '参数')} {hint}。".replace(" 。", "。")
        if param is not None and isinstance(param.type, click.Choice):
            text += "可选：" + "、".join(map(str, param.type.choices)) + "。"
        elif exc.message:
            text += help_zh.translate_click_message(exc.message)
        return text
    if isinstance(exc, click.BadParameter):
        hint = _hint_zh(exc)
        message = help_zh.translate_click_message(exc.message)
        if not hint:
            return f"值无效：{message}"
        return f"{hint}{'' if hint.endswith('）') else ' '}的值无效：{message}"
    text = help_zh.translate_click_message(exc.message)
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
                help_zh.CLICK_WORDS["try_help"].format(
                    command=f"{ctx.command_path} {max(names, key=len)}"
                )
                + "\n"
            )
        click.echo(f"{ctx.get_usage()}\n{hint}", err=True)
    click.echo(help_zh.CLICK_WORDS["error"] + click_message_zh(exc), err=True)


def _package_version() -> str:
    try:
        return version("guotu")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _print_version(click_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or click_ctx.resilient_parsing:
        return
    lang = _lang_of(click_ctx)
    number = _package_version()
    click.echo(f"guotu {number}" if lang == "zh" else f"guotu, version {number}")
    click_ctx.exit()


@click.group(cls=GuotuGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=None,
    expose_value=False,
    callback=_set_lang,
    is_eager=True,
    envvar=ENV_LANG,
    show_envvar=True,
    help="Language of human output (default zh).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def root(click_ctx: click.Context, debug: bool) -> None:
    """guotu 国土: territorial spatial planning one map (一张图) for planning bureaus."""
    obj = click_ctx.ensure_object(Context)
    obj.debug = debug
    _tolerate_unencodable_stdout()
    if debug:
        logging.basicConfig(level=logging.DEBUG)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        try:
            root.main(args=argv, prog_name="guotu", standalone_mode=True)
        finally:
            sys.stdout.flush()  # output still buffered when the command returned
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(EXIT_BROKEN_PIPE)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)

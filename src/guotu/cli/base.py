"""The root click group, shared options, Chinese help and the one error-to-exit-code mapping.

Language
    A run has one language (:mod:`guotu.cli.language`): the last ``--lang zh|en`` on the
    command line, else ``GUOTU_LANG``, else Chinese. Command modules import what they use of it
    (:class:`Context`, :func:`pass_context`, :func:`t`, :func:`lang_option`,
    :func:`geometry_name`) from here, with the shared options.
Chinese help
    The English help stays in the code (docstrings and ``help=``). The Chinese texts are one
    catalogue, :mod:`guotu.cli.help_zh` (command path → help, option → help). The command and
    group classes here (:class:`GuotuCommand`, :class:`GuotuGroup`) apply it when help is
    written, with click's own words (用法、选项、命令、默认 …) in Chinese too, wrapped by display
    width (a Chinese character takes two columns).
Errors
    :class:`GuotuGroup` maps a :class:`~guotu.errors.GuotuError` to its message and exit code
    (an unexpected exception to exit 3), and click's usage errors ("No such option", "Missing
    argument" …) to Chinese in Chinese runs
    (:func:`guotu.cli.help_zh.click_words.show_click_error`).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import click
from click.formatting import join_options
from rich.console import Console

from guotu.cli import help_zh
from guotu.cli.help_format import HelpFormatter, display_width
from guotu.cli.help_zh import command_key, option_key, show_click_error
from guotu.cli.language import (
    ENV_LANG,
    LANG_OPTION,
    LANGS,
    Context,
    geometry_name,
    lang_of,
    lang_option,
    pass_context,
    run_language,
    set_lang,
    t,
)
from guotu.errors import GuotuError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "Context",
    "GuotuCommand",
    "GuotuGroup",
    "console",
    "emit_json",
    "geometry_name",
    "json_option",
    "lang_option",
    "main",
    "pass_context",
    "root",
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
            self.params.append(click.Option(["--lang"], **LANG_OPTION))

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        if lang_of(ctx) != "zh":
            return pieces
        path = command_key(ctx)
        return [help_zh.USAGE_PIECES.get(p) or help_zh.placeholder(path, p) for p in pieces]

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if lang_of(ctx) != "zh":
            super().format_usage(ctx, formatter)
            return
        formatter.write_usage(
            ctx.command_path,
            " ".join(self.collect_usage_pieces(ctx)),
            prefix=help_zh.CLICK_WORDS["usage"],
        )

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = help_zh.command_help(command_key(ctx)) if lang_of(ctx) == "zh" else None
        if text is None:
            super().format_help_text(ctx, formatter)
            return
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(inspect.cleandoc(text))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if lang_of(ctx) != "zh":
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
        if lang_of(ctx) != "zh":
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


def _package_version() -> str:
    try:
        return version("guotu")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _print_version(click_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or click_ctx.resilient_parsing:
        return
    lang = lang_of(click_ctx)
    number = _package_version()
    click.echo(f"guotu {number}" if lang == "zh" else f"guotu, version {number}")
    click_ctx.exit()


@click.group(cls=GuotuGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=None,
    expose_value=False,
    callback=set_lang,
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

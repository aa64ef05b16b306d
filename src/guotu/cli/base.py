"""The root click group, shared options and the one error-to-exit-code mapping."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from guotu.errors import GuotuError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "Context",
    "console",
    "emit_json",
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


class Context:
    """Options every command sees: language and debug flag."""

    def __init__(self, lang: str = "zh", debug: bool = False) -> None:
        self.lang = lang
        self.debug = debug

    def t(self, zh: str, en: str) -> str:
        """Pick the Chinese or English text."""
        return en if self.lang == "en" else zh


pass_context = click.make_pass_decorator(Context, ensure=True)


def t(ctx: Context, zh: str, en: str) -> str:
    """Pick the Chinese or English text for ``ctx``."""
    return ctx.t(zh, en)


def _set_lang(click_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        click_ctx.ensure_object(Context).lang = value
    return value


def lang_option(f: F) -> F:
    """``--lang zh|en`` on a command (also accepted on the root group)."""
    return click.option(
        "--lang", type=click.Choice(["zh", "en"]), default=None, expose_value=False,
        callback=_set_lang, is_eager=True, help="Language of human output (default zh).",
    )(f)


def json_option(f: F) -> F:
    """``--json``: print the machine-readable result on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)


def use_layer_option(f: F) -> F:
    """``--use-layer LAYER`` (repeatable): the layer of its role to use when the workspace
    holds several layers of that role (never guessed)."""
    return click.option(
        "--use-layer", "use_layers", multiple=True, metavar="LAYER",
        help="Use LAYER for its role where the workspace has several layers of that role "
        "(repeatable).")(f)


def workspace_option(required: bool = True) -> Callable[[F], F]:
    """``-w/--workspace LOCATION``: the workspace (a GeoPackage file, a ``postgresql://``
    or ``postgres://`` URL, or ``env:NAME``)."""

    def deco(f: F) -> F:
        return click.option(
            "-w", "--workspace", "workspace", required=required, metavar="LOCATION",
            type=click.Path(dir_okay=False), envvar="GUOTU_WORKSPACE",
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


class _Group(click.Group):
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
            click.echo(obj.t(f"内部错误：{type(exc).__name__}: {exc}。请加 --debug 重试，并报告此问题。",
                             f"Internal error: {type(exc).__name__}: {exc}. Run again with "
                             "--debug and report it."), err=True)
            ctx.exit(3)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of human output.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="guotu")
@click.pass_context
def root(click_ctx: click.Context, lang: str, debug: bool) -> None:
    """guotu 国土: territorial spatial planning one map (一张图) for planning bureaus."""
    obj = click_ctx.ensure_object(Context)
    obj.lang = lang
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

"""The language of a run of the command line: Chinese or English, decided once.

A run has one language, decided before click parses anything (:func:`run_language`): the last
``--lang zh|en`` on the command line, else the environment variable ``GUOTU_LANG``, else
Chinese. ``--lang`` is also an eager option of the root group and of every command (so it may
come after the subcommand, :func:`lang_option`); it sets :attr:`Context.lang`, which every
command reads (:func:`t` picks the Chinese or English text). :func:`geometry_name` writes a
geometry type in the run's language.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

__all__ = [
    "ENV_LANG",
    "LANGS",
    "LANG_OPTION",
    "Context",
    "geometry_name",
    "lang_of",
    "lang_option",
    "pass_context",
    "run_language",
    "set_lang",
    "t",
]

F = TypeVar("F", bound=Callable[..., Any])

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


def lang_of(click_ctx: click.Context | None) -> str:
    """The language of the run ``click_ctx`` belongs to (:func:`run_language` outside one)."""
    obj = click_ctx.find_object(Context) if click_ctx is not None else None
    return obj.lang if obj is not None else run_language()


def set_lang(click_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """The callback of ``--lang``: the run's language is ``value`` from now on."""
    if value is not None:
        click_ctx.ensure_object(Context).lang = value
    return value


#: ``--lang`` of a command (the root group's also reads GUOTU_LANG, see
#: :data:`guotu.cli.base.root`).
LANG_OPTION: dict[str, Any] = {
    "type": click.Choice(LANGS),
    "default": None,
    "expose_value": False,
    "callback": set_lang,
    "is_eager": True,
    "help": f"Language of human output (default zh, or {ENV_LANG}).",
}


def lang_option(f: F) -> F:
    """``--lang zh|en`` on a command (every command has it:
    :class:`~guotu.cli.base.GuotuCommand` adds it where a command does not declare it)."""
    return click.option("--lang", **LANG_OPTION)(f)


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

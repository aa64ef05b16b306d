"""The catalogue's entries and keys: an entry is ``(fingerprint, Chinese)``, the
:func:`fingerprint` of the English help it translates; a command is found by its path
(:func:`command_key`) and an option by its first long name (:func:`option_key`).
"""

from __future__ import annotations

import hashlib

import click

__all__ = ["Entry", "command_key", "fingerprint", "option_key"]

#: A catalogue entry: (the fingerprint of the English help it translates, the Chinese help).
Entry = tuple[str, str]


def fingerprint(english: str) -> str:
    """A short fingerprint of an English help text (the first 8 hex digits of its SHA-256,
    whitespace folded, so re-wrapping a docstring does not change it).

    Examples
    --------
    >>> fingerprint("Show this message and exit.") == fingerprint(" Show this  message and exit.")
    True
    >>> len(fingerprint("Output language."))
    8
    """
    return hashlib.sha256(" ".join(english.split()).encode("utf-8")).hexdigest()[:8]


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

"""The Chinese help of the command line: one catalogue, applied at help time.

The English help stays in the code (docstrings and ``help=``); this package holds the Chinese
of it, and of click's own words, so a Chinese run shows no English:

- :data:`COMMANDS` (:mod:`.commands`): command path (``guotu plan list``) → help text (the
  first sentence is the short help in a group's list of commands);
- :data:`SHARED_OPTIONS` (:mod:`.options`): option → help for the options the shared
  decorators add (the same meaning on every command: ``--workspace``, ``--json``, ``--lang``,
  ``--as-of`` …);
- :data:`OPTIONS` (:mod:`.options`): ``"command path --option"`` → help for the others (and
  where a shared option means something else on one command);
- :mod:`.access`: the entries of the identity and access commands (``guotu dept|user|role|
  policy|token|audit|admin``), merged into the three tables above and :data:`PLACEHOLDERS`;
- :mod:`.cases`: the entries of the approval-case commands (``guotu case …``), merged the same
  way;
- :data:`CLICK_WORDS`, :data:`USAGE_PIECES`, :data:`PLACEHOLDERS`, :data:`TYPE_METAVARS`,
  :data:`PARAM_KINDS` and :func:`translate_click_message` (:mod:`.click_words`): click's words
  and error messages, and :func:`show_click_error`, which shows one of click's errors in the
  run's language.

Each entry is ``(fingerprint, Chinese)``: the :func:`fingerprint` of the English help it
translates (:mod:`.catalogue`, with the keys :func:`command_key` and :func:`option_key`).
``tests/cli/test_help_zh.py`` walks the click tree from :data:`guotu.cli.root` and checks that
every command and every option has a Chinese text here, that no entry is stale, and that no
English help changed under its Chinese: when one did, the test names the entry and the new
fingerprint, to be written in with the Chinese brought up to date.
"""

from __future__ import annotations

from guotu.cli.help_zh.catalogue import Entry, command_key, fingerprint, option_key
from guotu.cli.help_zh.click_words import (
    CLICK_MESSAGES,
    CLICK_WORDS,
    PARAM_KINDS,
    PLACEHOLDERS,
    TYPE_METAVARS,
    USAGE_PIECES,
    click_message_zh,
    placeholder,
    show_click_error,
    translate_click_message,
)
from guotu.cli.help_zh.commands import COMMANDS, command_help
from guotu.cli.help_zh.options import DEFAULT_VALUES, OPTIONS, SHARED_OPTIONS, option_help

__all__ = [
    "CLICK_MESSAGES",
    "CLICK_WORDS",
    "COMMANDS",
    "DEFAULT_VALUES",
    "OPTIONS",
    "PARAM_KINDS",
    "PLACEHOLDERS",
    "SHARED_OPTIONS",
    "TYPE_METAVARS",
    "USAGE_PIECES",
    "Entry",
    "click_message_zh",
    "command_help",
    "command_key",
    "fingerprint",
    "option_help",
    "option_key",
    "placeholder",
    "show_click_error",
    "translate_click_message",
]

"""The one way guotu reads a YAML document that follows a JSON Schema: rule packs, check lists,
indicator catalogues.

:func:`read_document` reads the file with the capped safe loader
(:func:`guotu.io.safe_yaml.load_yaml`, which refuses a hostile file as bad input) and checks
it against the kind's schema (``guotu/schemas/<schema>.json``), listing every problem as a
:class:`~guotu.domain.core.documents.DocumentProblem` with its file and JSON path;
:func:`load_document` raises them all at once, in the one form of message of
:func:`~guotu.domain.core.documents.document_error`. What the schema cannot see (unknown
operators, duplicate ids …) is for the domain's parser of each kind, which reports in the same
form.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

import jsonschema

from guotu.domain.core.documents import DocumentKind, DocumentProblem, document_error
from guotu.io.safe_yaml import YamlSource, load_yaml

__all__ = ["load_document", "read_document", "schema_problems"]

_QUOTE_HINT = ' (quote codes, e.g. "0701": unquoted, YAML reads 0701 as the number 449)'


@functools.cache
def _validator(schema: str) -> jsonschema.Draft202012Validator:
    text = (files("guotu") / "schemas" / f"{schema}.json").read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def schema_problems(source: str, data: Any, kind: DocumentKind) -> list[DocumentProblem]:
    """Every place where ``data`` breaks the schema of ``kind``, in document order.

    A number where the schema wants text gets a hint: a land-use code written without quotes
    is read by YAML as a number (``0701`` as 449).

    Examples
    --------
    >>> from guotu.domain.core.documents import CHECK_LIST
    >>> [str(p) for p in schema_problems("c.yaml", {"schema_version": 1}, CHECK_LIST)]
    ["c.yaml: $: 'checks' is a required property"]
    """
    errors = sorted(
        _validator(kind.schema).iter_errors(data), key=lambda e: [str(x) for x in e.path]
    )
    out = []
    for e in errors:
        message = e.message
        if (
            e.validator == "type"
            and isinstance(e.instance, int)
            and not isinstance(e.instance, bool)
            and "string" in str(e.validator_value)
        ):
            message += _QUOTE_HINT
        out.append(DocumentProblem(source, e.json_path, message))
    return out


def read_document(source: YamlSource, kind: DocumentKind) -> tuple[str, Any, list[DocumentProblem]]:
    """The document at ``source`` (a path, or ``(name, content)`` for package data): its name
    as messages give it, its content, and the problems the schema finds in it.

    Raises
    ------
    InputError
        ``kind.error``, when the file cannot be read or :func:`~guotu.io.safe_yaml.load_yaml`
        refuses it (too large, not UTF-8, not YAML, anchors, too deep …).
    """
    name = source[0] if isinstance(source, tuple) else str(source)
    data = load_yaml(source, what_zh=kind.name_zh, what_en=kind.name_en, error=kind.error)
    return name, data, schema_problems(name, data, kind)


def load_document(source: YamlSource, kind: DocumentKind) -> tuple[str, Any]:
    """The document at ``source`` and its name, once it follows the schema of ``kind``.

    Raises
    ------
    InputError
        ``kind.error``: the file cannot be read or is refused, or it breaks the schema (every
        problem listed with its JSON path, and the fix).

    Examples
    --------
    >>> from guotu.domain.core.documents import CHECK_LIST
    >>> load_document(("c.yaml", "schema_version: 1\\nchecks: []\\n"), CHECK_LIST)
    ('c.yaml', {'schema_version': 1, 'checks': []})
    """
    name, data, problems = read_document(source, kind)
    if problems:
        raise document_error(kind, name, problems)
    return name, data

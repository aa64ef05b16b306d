"""The catalogue of monitoring indicators (体检评估指标目录): find it, read it, check it.

A catalogue is a YAML document following ``guotu/schemas/indicators-v1.json``, read by
:func:`guotu.io.yaml_documents.read_document` and parsed by
:func:`guotu.domain.monitoring.indicators.parse_catalogue`; every problem, the schema's and the
parser's, is listed at once with its file and path in the document.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from guotu.domain.core.documents import INDICATOR_CATALOGUE, DocumentProblem, document_error
from guotu.domain.core.roles import ROLES
from guotu.domain.monitoring.indicators import Catalogue, parse_catalogue
from guotu.errors import ConfigError
from guotu.io.yaml_documents import read_document

__all__ = ["BUILTIN_CATALOGUES", "find_catalogue", "load_catalogue"]

#: Catalogues shipped in the package (``guotu/catalogues``), by id.
BUILTIN_CATALOGUES = ("cn-core",)


def find_catalogue(name: str | Path) -> Path:
    """The file of a catalogue: a path, or a built-in id (``cn-core``).

    Examples
    --------
    >>> find_catalogue("cn-core").name
    'cn-core.yaml'
    """
    p = Path(name)
    if p.suffix.lower() in (".yaml", ".yml", ".json") or p.exists():
        return p
    builtin = files("guotu") / "catalogues" / f"{name}.yaml"
    if builtin.is_file():
        return Path(str(builtin))
    raise ConfigError(
        f"There is no indicator catalogue {name!r}.",
        fix=f"Give a YAML file or one of: {', '.join(BUILTIN_CATALOGUES)}.",
        message_zh=f"没有名为 {name!r} 的指标目录。",
        fix_zh=f"请指定 YAML 文件，或内置目录之一：{'、'.join(BUILTIN_CATALOGUES)}。",
    )


def _problem(source: str, text: str) -> DocumentProblem:
    """A problem :func:`parse_catalogue` reports as ``$: indicators[3] (id).formula: …``."""
    rest = text.removeprefix("$: ")
    if rest.startswith("indicators[") and ": " in rest:
        where, message = rest.split(": ", 1)
        return DocumentProblem(source, f"$.{where}", message)
    return DocumentProblem(source, "$", rest)


def load_catalogue(name: str | Path = "cn-core") -> Catalogue:
    """Read, schema-check and parse a catalogue; every problem is listed at once.

    Raises
    ------
    ConfigError
        A missing file, YAML that does not parse or that :func:`guotu.io.safe_yaml.load_yaml`
        refuses (too large, not UTF-8, anchors, too deep …), or any schema or semantic
        problem (each with its file and path in the document).

    Examples
    --------
    >>> cat = load_catalogue()
    >>> cat.get("cultivated_land").name_zh, cat.get("development_intensity").unit
    ('耕地保有量', '%')
    """
    source, data, problems = read_document(find_catalogue(name), INDICATOR_CATALOGUE)
    if not problems:
        catalogue, semantic = parse_catalogue(data, "$", {r.id for r in ROLES})
        problems += [_problem(source, text) for text in semantic]
    if problems:
        raise document_error(INDICATOR_CATALOGUE, source, problems)
    return catalogue

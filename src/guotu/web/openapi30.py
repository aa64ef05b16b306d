"""The app's OpenAPI document as OpenAPI 3.0, the version OGC API - Features Part 1 names
(conformance class ``oas30``) and that QGIS, GDAL and older tools read.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12). :func:`as_openapi30` rewrites the few 3.1
constructs it uses into their 3.0 forms:

* ``anyOf``/``oneOf`` with ``{"type": "null"}`` → the other schema with ``nullable: true``;
* ``"type": [T, "null"]`` → ``"type": T, "nullable": true``;
* ``examples`` (a list) in a schema → ``example`` (its first item);
* ``const: v`` → ``enum: [v]``;
* numeric ``exclusiveMinimum``/``exclusiveMaximum`` → ``minimum``/``maximum`` with the
  boolean flag;
* ``contentMediaType``/``contentEncoding`` of file fields → ``format: binary``.

References stay internal (``#/components/…``): the document has no external ``$ref``.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["as_openapi30"]

#: Keys whose values are maps of names to schemas or to objects holding schemas.
_MAPS = {"properties", "schemas", "patternProperties", "definitions", "$defs"}


def _schema(node: Any) -> Any:
    """One schema (and everything under it) in the 3.0 dialect."""
    if isinstance(node, list):
        return [_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _MAPS and isinstance(value, dict):
            out[key] = {k: _schema(v) for k, v in value.items()}
        elif key in ("examples",) and isinstance(value, list):
            if value:
                out["example"] = _schema(value[0])
        else:
            out[key] = _schema(value)
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and any(o == {"type": "null"} for o in options):
            rest = [o for o in options if o != {"type": "null"}]
            del out[key]
            if len(rest) == 1:
                merged = dict(rest[0])
                if "$ref" in merged:  # 3.0 ignores siblings of $ref: wrap it
                    merged = {"allOf": [merged]}
                for k, v in out.items():
                    merged.setdefault(k, v)
                out = merged
            else:
                out[key] = rest
            out["nullable"] = True
    kind = out.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
        if len(kinds) < len(kind):
            out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), (int, float)) and not isinstance(out[bound], bool):
            out[plain] = out.pop(bound)
            out[bound] = True
    if "contentMediaType" in out or "contentEncoding" in out:
        out.pop("contentMediaType", None)
        out.pop("contentEncoding", None)
        out.setdefault("format", "binary")
    return out


def _walk(node: Any) -> Any:
    """Every ``schema`` object of the document (parameters, bodies, responses, components)."""
    if isinstance(node, list):
        return [_walk(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = _schema(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {k: _schema(v) for k, v in value.items()}
        else:
            out[key] = _walk(value)
    return out


def as_openapi30(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of the OpenAPI 3.1 document ``doc`` in OpenAPI 3.0.3.

    Examples
    --------
    >>> doc = {"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"A": {
    ...     "properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}}}}
    >>> new = as_openapi30(doc)
    >>> new["openapi"], new["components"]["schemas"]["A"]["properties"]["n"]
    ('3.0.3', {'type': 'integer', 'nullable': True})
    """
    out: dict[str, Any] = _walk(copy.deepcopy(doc))
    out["openapi"] = "3.0.3"
    out.pop("jsonSchemaDialect", None)
    out.pop("webhooks", None)
    return out

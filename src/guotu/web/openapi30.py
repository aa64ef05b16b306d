"""The app's OpenAPI document as OpenAPI 3.0, the version OGC API - Features Part 1 names
(conformance class ``oas30``) and that QGIS, GDAL and older tools read, made true to what the
app answers: :func:`declare_errors` (the error responses of every route) and
:func:`with_ogc` (the OGC parameters, response schemas and one items path per collection).

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
import json
from typing import Any

__all__ = [
    "DATETIME_PATTERN",
    "ERROR_SCHEMA",
    "OGC_EXCEPTION_SCHEMA",
    "OGC_SCHEMAS",
    "as_openapi30",
    "column_schema",
    "declare_errors",
    "error_response",
    "ogc_parameters",
    "with_ogc",
]

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


# -- what the app adds to FastAPI's document ---------------------------------------------------
#: The JSON error envelope of every route outside the OGC API (see :mod:`guotu.web.errors`).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "status"],
    "properties": {
        "code": {"type": "string", "description": "Stable kebab-case error code."},
        "message": {
            "type": "string",
            "description": "A full sentence, in the "
            "language of `lang` (else Accept-Language; Chinese by default).",
        },
        "status": {"type": "integer"},
        "layer": {"type": "string"},
        "feature": {"type": "string"},
        "field": {"type": "string"},
        "fix": {"type": "string"},
        "fix_zh": {"type": "string"},
    },
}
#: The OGC API exception form, answered under ``/``, ``/conformance`` and ``/collections``.
OGC_EXCEPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
}

_ERROR_TEXT = {
    400: "Invalid parameter or request body.",
    404: "Something the request names is not in the workspace.",
    413: "The request body is larger than max_upload_mb.",
    429: "Too many jobs are waiting; try again later.",
    503: "The workspace cannot be opened now.",
}


def error_response(status: int, *, ogc: bool, description: str | None = None) -> dict[str, Any]:
    """The response object of an error ``status``: the envelope, or the OGC form.

    Examples
    --------
    >>> error_response(404, ogc=True)["content"]["application/json"]["schema"]
    {'$ref': '#/components/schemas/OGCException'}
    """
    name = "OGCException" if ogc else "Error"
    return {
        "description": description or _ERROR_TEXT.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def declare_errors(
    doc: dict[str, Any], reads_workspace: set[tuple[str, str]], is_ogc: Any
) -> dict[str, Any]:
    """``doc`` with the error responses the app really gives.

    FastAPI declares 422 for request validation; the app answers 400 (the envelope or the OGC
    form, :mod:`guotu.web.errors`). So on every operation: 422 becomes 400, declared whenever
    the operation takes parameters or a body; 404 when it has path parameters, or reads the
    workspace and names something in its query; 503 when it reads the workspace (the
    ``(path, method)`` pairs of ``reads_workspace``); and every declared error response without
    content gets the right error schema. ``is_ogc(path)`` tells the OGC form from the envelope.
    """
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["OGCException"] = OGC_EXCEPTION_SCHEMA
    for path, item in doc.get("paths", {}).items():
        ogc = bool(is_ogc(path))
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            responses.pop("422", None)
            params = op.get("parameters", [])
            has_input = bool(params) or "requestBody" in op
            in_path = any(p.get("in") == "path" for p in params if isinstance(p, dict))
            reads = (path, method.upper()) in reads_workspace
            wanted = set()
            if has_input:
                wanted.add(400)
            if in_path or (reads and has_input):
                wanted.add(404)
            if reads:
                wanted.add(503)
            for status in sorted(wanted):
                responses.setdefault(str(status), error_response(status, ogc=ogc))
            for status, response in responses.items():
                if status[:1] in "45" and "content" not in response:
                    response.update(
                        error_response(
                            int(status), ogc=ogc, description=response.get("description")
                        )
                    )
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f'"#/components/schemas/{unused}"' not in _text(doc):
            schemas.pop(unused)
    return doc


def _text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False)


# -- OGC API - Features: parameters, schemas, one items path per collection --------------------
#: RFC 3339 date, date-time (its offset may be left out: UTC), or an interval of them with
#: ``..`` or nothing for an open end; empty is today. What the items routes accept (month
#: lengths included; 29 February in years divisible by 4).
_YEAR = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_DAY = (
    f"({_YEAR}-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    f"|{_YEAR}-(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    f"|{_YEAR}-02-(0[1-9]|1[0-9]|2[0-8])"
    "|[0-9]{2}(0[48]|[2468][048]|[13579][26])-02-29)"
)
_INSTANT = (
    f"{_DAY}([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,6}})?"
    "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?"
)
DATETIME_PATTERN = f"^({_INSTANT}|({_INSTANT}|\\.\\.)?/({_INSTANT}|\\.\\.)?)?$"

_FEATURE_GEOMETRY = {
    "type": "object",
    "nullable": True,
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
                "GeometryCollection",
            ],
        }
    },
}
_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}

#: The response bodies of the OGC routes.
OGC_SCHEMAS: dict[str, Any] = {
    "Link": _LINK,
    "LandingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": _LINKS,
        },
    },
    "ConfClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "Collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": _LINKS,
            "itemType": {"type": "string"},
            "extent": {"type": "object"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
        },
    },
    "Collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _LINKS,
            "crs": {"type": "array", "items": {"type": "string"}},
            "collections": {"type": "array", "items": {"$ref": "#/components/schemas/Collection"}},
        },
    },
    "Feature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": _FEATURE_GEOMETRY,
            "properties": {"type": "object", "nullable": True},
            "links": _LINKS,
        },
    },
    "FeatureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
            "links": _LINKS,
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string"},
        },
    },
    "Queryables": {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["object"]},
            "title": {"type": "string"},
            "properties": {"type": "object"},
            "additionalProperties": {"type": "boolean"},
        },
    },
}


def ogc_parameters(*, default_limit: int, max_limit: int, crs_uris: list[str]) -> dict[str, Any]:
    """The query parameters of the OGC routes, for ``components/parameters``.

    ``limit`` states the server's default and maximum (GDAL's OAPIF driver reads them from the
    ``$ref``'d parameter to choose its page size; a larger value is clamped, as Part 1 asks);
    ``bbox`` is Part 1's array of four or six numbers; ``crs`` and ``bbox-crs`` list the CRSs
    the workspace offers (their URIs, and the short forms also accepted).

    Examples
    --------
    >>> ogc_parameters(default_limit=100, max_limit=10000, crs_uris=[])["limit"]["schema"]
    {'type': 'integer', 'minimum': 1, 'maximum': 10000, 'default': 100}
    """
    short = [
        u.replace("http://www.opengis.net/def/crs/EPSG/0/", "EPSG:").replace(
            "http://www.opengis.net/def/crs/OGC/1.3/", ""
        )
        for u in crs_uris
    ]
    crs_values = list(dict.fromkeys([*crs_uris, *short]))

    def query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema,
            **extra,
        }

    return {
        "limit": query(
            "limit",
            "Features per page. Without it, the server's default; a "
            "larger value than the maximum is clamped to it (not an error).",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            style="form",
            explode=False,
        ),
        "offset": query(
            "offset",
            "Features to skip (the `next` link carries it).",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
        "bbox": query(
            "bbox",
            "Lower corner, then upper corner, in the axis order of "
            "bbox-crs (CRS84: lon,lat); six numbers give heights too (ignored). "
            "Any size: a large box is paged like any other request.",
            {
                "type": "array",
                "items": {"type": "number"},
                "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
            },
            style="form",
            explode=False,
        ),
        "bbox-crs": query(
            "bbox-crs", "CRS of bbox (default CRS84).", {"type": "string", "enum": crs_values}
        ),
        "crs": query(
            "crs",
            "CRS of the answer's coordinates (default CRS84), in the axis "
            "order of its definition (EPSG:4490 is lat,lon).",
            {"type": "string", "enum": crs_values},
        ),
        "datetime": query(
            "datetime",
            "As-of date: a date, a date-time or an interval (its "
            "end is used; an open end is today).",
            {"type": "string", "pattern": DATETIME_PATTERN},
        ),
        "f": query(
            "f",
            "Output format: json (GeoJSON for features) or html.",
            {"type": "string", "enum": ["json", "html"]},
        ),
        "lang": query(
            "lang",
            "Language of error messages (default: Accept-Language, else Chinese).",
            {"type": "string", "enum": ["zh", "en"]},
        ),
    }


def column_schema(sql_type: str) -> dict[str, Any]:
    """The JSON Schema of a layer column, by its SQL type.

    Examples
    --------
    >>> column_schema("REAL"), column_schema("TEXT")
    ({'type': 'number'}, {'type': 'string'})
    """
    kind = sql_type.upper()
    if kind == "INTEGER":
        return {"type": "integer"}
    if kind in ("REAL", "DOUBLE", "FLOAT"):
        return {"type": "number"}
    return {"type": "string"}


def with_ogc(
    doc: dict[str, Any],
    parameters: dict[str, Any],
    ogc_paths: list[str],
    collections: dict[str, dict[str, str]],
    items_path: str,
) -> dict[str, Any]:
    """``doc`` with the OGC parameters as ``$ref``s on the OGC routes (``lang`` added to
    each), the OGC response schemas, and one ``items`` path per collection
    (``/collections/GHYD/items``) holding its property filters, copied from ``items_path``.

    ``collections`` maps each collection id to its filterable columns and their SQL types.
    """
    components = doc.setdefault("components", {})
    components.setdefault("parameters", {}).update(parameters)
    components.setdefault("schemas", {}).update(OGC_SCHEMAS)
    for path in ogc_paths:
        for op in doc["paths"].get(path, {}).values():
            params = [
                (
                    {"$ref": f"#/components/parameters/{p['name']}"}
                    if p.get("in") == "query" and p.get("name") in parameters
                    else p
                )
                for p in op.get("parameters", [])
            ]
            if "f" in {p.get("name") for p in op.get("parameters", [])}:
                params.append({"$ref": "#/components/parameters/lang"})
            op["parameters"] = params
    template = doc["paths"].get(items_path, {}).get("get")
    if template is None:
        return doc
    for name, columns in collections.items():
        if any(c in name for c in "/{}?#"):  # not a path segment: the template serves it
            continue
        op = copy.deepcopy(template)
        op["operationId"] = f"getFeatures_{name}"
        op["summary"] = f"Features of {name}"
        op["parameters"] = [p for p in op["parameters"] if p.get("in") != "path"] + [
            {
                "name": column,
                "in": "query",
                "required": False,
                "schema": column_schema(kind),
                "description": f"Features whose {column} equals this value.",
            }
            for column, kind in columns.items()
        ]
        op["responses"].pop("404", None)
        doc["paths"][items_path.replace("{layer}", name)] = {"get": op}
    return doc

"""The permanent link of a site query's answer and its printable sheet (规划条件查询单).

:func:`permalink` names the site, the as-of date, the record time and the data version, so the
same sheet comes back after later amendments; :func:`sheet_html` renders the sheet
(:func:`guotu.io.site_sheet.render_sheet`) with a QR code of that link (:func:`qr_svg`).
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from guotu.io.site_sheet import render_sheet

__all__ = ["permalink", "qr_svg", "sheet_html"]

log = logging.getLogger(__name__)


def permalink(doc: Mapping[str, Any], base: str = "", *, now: datetime | None = None) -> str:
    """The permanent URL of a sheet: the site, the as-of date, the record time and the data
    version (``dv``), so the same sheet comes back after later amendments.

    Examples
    --------
    >>> doc = {"site": {"kind": "point", "given": {"point": [1.0, 2.0], "crs": None}},
    ...        "as_of": "2026-01-01", "known_at": "2026-01-02T00:00:00", "data_version": "ab"}
    >>> permalink(doc, "http://gis.example/")
    'http://gis.example/query/sheet?point=1.0%2C2.0&as_of=2026-01-01&known_at=2026-01-02T00%3A00%3A00&dv=ab'
    """
    site = doc["site"]
    given = site.get("given") or {}
    params: dict[str, str] = {}
    if site.get("kind") == "point":
        x, y = given["point"]
        params["point"] = f"{x!r},{y!r}"
        if given.get("crs"):
            params["crs"] = str(given["crs"])
    elif site.get("kind") == "parcel":
        params["parcel"] = str(given["parcel"])
    else:
        geo = {"type": site["type"], "coordinates": site["coordinates"]}
        params["polygon"] = json.dumps(geo, separators=(",", ":"))
        params["crs"] = str(site.get("crs"))
    known = (
        doc.get("known_at")
        or (now or datetime.now(UTC).replace(tzinfo=None)).replace(microsecond=0).isoformat()
    )
    params.update(
        {"as_of": str(doc["as_of"]), "known_at": str(known), "dv": str(doc["data_version"])}
    )
    return f"{base.rstrip('/')}/query/sheet?{urlencode(params)}"


def qr_svg(text: str, *, lang: str = "zh") -> str | None:
    """An inline SVG QR code of the permanent link ``text``, titled in ``lang`` (``None``
    when it is too long for a QR code)."""
    import segno
    from segno import DataOverflowError

    try:
        code = segno.make(text, error="m", micro=False)
    except DataOverflowError:
        log.info("Permanent link of %d characters is too long for a QR code.", len(text))
        return None
    title = "Permanent link" if lang == "en" else "永久链接"
    return str(code.svg_inline(scale=3, title=title))


def sheet_html(doc: Mapping[str, Any], base: str = "", *, lang: str = "zh") -> str:
    """The printable sheet of a query answer, with a QR code of its permanent URL.

    Examples
    --------
    >>> doc = {"site": {"type": "Point", "coordinates": [1.0, 2.0], "crs": "EPSG:4527",
    ...                 "kind": "point", "given": {"point": [1.0, 2.0], "crs": None}},
    ...        "as_of": "2026-01-01", "known_at": "2026-01-02T00:00:00", "data_version": "ab",
    ...        "applies": [], "touching": [], "pending": [],
    ...        "allowed_uses": {"codes": [], "master_plan": []}}
    >>> page = sheet_html(doc, "http://127.0.0.1:8000")
    >>> "规划条件" in page, "http://127.0.0.1:8000/query/sheet?point=1.0%2C2.0" in page
    (True, True)
    """
    link = permalink(doc, base)
    page = render_sheet(doc, permalink=link, qr_svg=qr_svg(link, lang=lang), lang=lang)
    return _with_access_notes(page, doc, lang)


def _with_access_notes(page: str, doc: Mapping[str, Any], lang: str) -> str:
    """``page`` with the answer's access notes under its title: that layers the reader may
    not read were left out, or that only their own area's features are shown.

    Examples
    --------
    >>> _with_access_notes("<h1>规划条件</h1><h2>", {"restricted_layers_omitted": True,
    ...     "restricted_note": {"zh": "有受限图层未显示", "en": "Some restricted layers are not shown"}},
    ...     "zh")
    '<h1>规划条件</h1><p class="note" data-access-note>有受限图层未显示</p><h2>'
    """
    notes = [
        note[lang if lang in note else "zh"]
        for flag, key in (
            ("restricted_layers_omitted", "restricted_note"),
            ("region_limited", "region_note"),
        )
        if doc.get(flag) and isinstance(note := doc.get(key), Mapping)
    ]
    if not notes or "</h1>" not in page:
        return page
    shown = "".join(f'<p class="note" data-access-note>{html.escape(n)}</p>' for n in notes)
    return page.replace("</h1>", "</h1>" + shown, 1)

"""A corpus of malformed inputs, made from the demo county's own handover files.

Every case is a ``guotu`` command line on one damaged or hostile file, as a bureau would
meet it: truncated copies off a USB stick (every member file of a Shapefile, FileGDB,
GeoPackage, GeoJSON and XLSX cut at many offsets), flipped bytes, missing and lying
sidecars, wrong coordinate systems, coordinates that are not numbers, broken rings, mixed
geometry types, text in the wrong encoding, zip bombs and zips that point outside
themselves, YAML bombs, names that are not names.

:func:`make_corpus` writes the files into a folder and returns the :class:`Case` list;
``tests/services/test_malformed_corpus.py`` runs each one and checks that it is refused with
exit 2 and a Chinese message naming the file, or (for the few damages that leave a file
readable, such as a flipped byte inside a text value) imported exactly as GDAL reads it.

Run as a script (``python -m tests.corpus.malformed OUT_DIR FILES_DIR``) to look at the
files.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely

#: The workspace placeholder in a case's arguments.
WS = "{ws}"

REFUSE = "refuse"  # must be refused: exit 2
EITHER = "either"  # refused (exit 2), or imported and then verified against the file


@dataclass
class Case:
    """One malformed input and the command that meets it.

    Attributes
    ----------
    id
        Unique, readable id (``truncate/建设项目.dbf@50%``).
    kind
        The class of damage (``truncate``, ``flip``, ``sidecar``, ``geometry`` …).
    argv
        ``guotu`` arguments; :data:`WS` stands for the workspace.
    mode
        :data:`REFUSE` or :data:`EITHER`.
    names
        Texts the message must contain (the file's name; the layer, feature or field where
        there is one).
    layer
        The workspace layer an import writes (for verifying an accepted import).
    reference
        The file whose features an accepted import must hold exactly (default: the input).
    extra
        ``source_layer``: the layer of ``reference`` to compare with.
    env
        Environment variables for the run (a lowered limit, so that a file beyond it
        need not be gigabytes).
    """

    id: str
    kind: str
    argv: list[str]
    mode: str = REFUSE
    names: tuple[str, ...] = ()
    layer: str | None = None
    reference: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


# The handover files used, their role and an id field (for the messages).
_SHP = ("建设项目.shp", "construction_project")
_SHP2 = ("变化图斑.shp", "change_patch")
_GDB = ("规划用地.gdb", "planned_land_use", "GHYD")
_GPKG = ("三区三线.gpkg", "ecological_redline", "STBHHX")
_JSON = ("详细规划单元.geojson", "detailed_unit")
_XLSX = "地块控制指标.xlsx"
_PARCELS = "详细规划地块.geojson"

_FRACTIONS = (0.0, 0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.98, 0.999)


def _import(path: Path | str, role: str, layer: str, *extra: str) -> list[str]:
    return ["import", str(path), "--role", role, "--layer", layer, "-w", WS, *extra]


def _copy_set(src: Path, dst_dir: Path, stem: str) -> Path:
    """Copy a Shapefile (all its files) under a new stem; returns the new .shp."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    for p in src.parent.glob(src.stem + ".*"):
        if p.stem == src.stem:
            shutil.copy(p, dst_dir / (stem + p.suffix))
    return dst_dir / (stem + ".shp")


def _cut(path: Path, size: int) -> None:
    with path.open("r+b") as f:
        f.truncate(size)


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


class _Maker:
    """Writes cases into ``out`` from the handover files in ``files``."""

    def __init__(self, files: Path, out: Path) -> None:
        self.files = files
        self.out = out
        self.cases: list[Case] = []
        self.rng = random.Random(20261207)
        self.n = 0

    def folder(self, kind: str) -> Path:
        self.n += 1
        d = self.out / kind / f"{self.n:03d}"
        d.mkdir(parents=True)
        return d

    def add(self, case: Case) -> None:
        self.cases.append(case)

    # -- truncations of every member file ---------------------------------------------------
    def truncations(self) -> None:
        for name, role in (_SHP, _SHP2):
            src = self.files / name
            for suffix in (".shp", ".shx", ".dbf"):
                size = src.with_suffix(suffix).stat().st_size
                for frac in _FRACTIONS:
                    at = int(size * frac)
                    d = self.folder("truncate")
                    shp = _copy_set(src, d, src.stem)
                    _cut(shp.with_suffix(suffix), at)
                    self.add(
                        Case(
                            f"truncate/{src.stem}{suffix}@{at}",
                            "truncate",
                            _import(shp, role, "CUT"),
                            names=(src.stem,),
                            layer="CUT",
                            reference=src,
                        )
                    )
        gdb, role, layer = _GDB
        src = self.files / gdb
        members = sorted(p.name for p in src.iterdir())
        big = max(members, key=lambda m: (src / m).stat().st_size if m.endswith(".gdbtable") else 0)
        for member in members:
            size = (src / member).stat().st_size
            fractions = (
                _FRACTIONS if member in (big, big.replace(".gdbtable", ".gdbtablx")) else (0.0, 0.5)
            )
            # GDAL does not need the spatial and attribute indexes, the timestamps or the
            # 'gdb' marker to read the features: those may be accepted, when whole and right
            table_file = member.endswith((".gdbtable", ".gdbtablx"))
            for frac in fractions:
                at = int(size * frac)
                d = self.folder("truncate")
                shutil.copytree(src, d / gdb)
                _cut(d / gdb / member, at)
                self.add(
                    Case(
                        f"truncate/{gdb}/{member}@{at}",
                        "truncate",
                        _import(d / gdb, role, layer, "--replace", "--source-layer", layer),
                        mode=REFUSE if table_file else EITHER,
                        names=(gdb,),
                        layer=layer,
                        reference=src,
                        extra={"source_layer": layer, "fraction": str(frac)},
                    )
                )
        for name, role, layer in (_GPKG,):
            src = self.files / name
            size = src.stat().st_size
            for frac in _FRACTIONS:
                at = int(size * frac)
                d = self.folder("truncate")
                shutil.copy(src, d / name)
                _cut(d / name, at)
                self.add(
                    Case(
                        f"truncate/{name}@{at}",
                        "truncate",
                        _import(d / name, role, "CUT", "--source-layer", layer),
                        names=(name,),
                        layer="CUT",
                        reference=src,
                        extra={"source_layer": layer},
                    )
                )
        name, role = _JSON
        src = self.files / name
        size = src.stat().st_size
        for frac in _FRACTIONS[:-1]:
            at = int(size * frac)
            d = self.folder("truncate")
            shutil.copy(src, d / name)
            _cut(d / name, at)
            self.add(
                Case(
                    f"truncate/{name}@{at}",
                    "truncate",
                    _import(d / name, role, "CUT"),
                    names=(name,),
                )
            )
        table = self.files / _XLSX
        size = table.stat().st_size
        for frac in _FRACTIONS[:-1]:
            at = int(size * frac)
            d = self.folder("truncate")
            shutil.copy(table, d / _XLSX)
            _cut(d / _XLSX, at)
            self.add(
                Case(
                    f"truncate/{_XLSX}@{at}",
                    "truncate",
                    _import(
                        self.files / _PARCELS,
                        "detailed_parcel",
                        "CUT",
                        "--table",
                        str(d / _XLSX),
                        "--key",
                        "DKBH",
                    ),
                    names=(_XLSX,),
                )
            )

    # -- flipped bytes in headers and bodies ------------------------------------------------
    def flips(self) -> None:
        name, role = _SHP
        src = self.files / name
        header_offsets = {
            ".shp": (0, 2, 24, 27, 32),
            ".shx": (0, 24, 27, 103, 107),
            ".dbf": (4, 5, 8, 9, 10),
        }
        for suffix, offsets in header_offsets.items():
            for off in offsets:
                d = self.folder("flip")
                shp = _copy_set(src, d, src.stem)
                _flip(shp.with_suffix(suffix), off)
                self.add(
                    Case(
                        f"flip/{src.stem}{suffix}#{off}",
                        "flip",
                        _import(shp, role, "FLIP"),
                        mode=EITHER,
                        names=(src.stem,),
                        layer="FLIP",
                    )
                )
        for suffix in (".shp", ".dbf"):
            size = src.with_suffix(suffix).stat().st_size
            for off in sorted(self.rng.sample(range(120, size - 1), 5)):
                d = self.folder("flip")
                shp = _copy_set(src, d, src.stem)
                _flip(shp.with_suffix(suffix), off)
                self.add(
                    Case(
                        f"flip/{src.stem}{suffix}#{off}",
                        "flip",
                        _import(shp, role, "FLIP"),
                        mode=EITHER,
                        names=(src.stem,),
                        layer="FLIP",
                    )
                )
        gdb, role, layer = _GDB
        table = max((self.files / gdb).glob("*.gdbtable"), key=lambda p: p.stat().st_size)
        for off in (0, 4, 24, 28, 32, 40, 50, 60):
            d = self.folder("flip")
            shutil.copytree(self.files / gdb, d / gdb)
            _flip(d / gdb / table.name, off)
            self.add(
                Case(
                    f"flip/{gdb}/{table.name}#{off}",
                    "flip",
                    _import(d / gdb, role, "FLIP", "--source-layer", layer),
                    mode=EITHER,
                    names=(gdb,),
                    layer="FLIP",
                    extra={"source_layer": layer},
                )
            )
        name, role, layer = _GPKG
        size = (self.files / name).stat().st_size
        for off in (0, 16, 18, 28, 100, 4096, 8192 + 8, size // 2, size - 100):
            d = self.folder("flip")
            shutil.copy(self.files / name, d / name)
            _flip(d / name, off)
            self.add(
                Case(
                    f"flip/{name}#{off}",
                    "flip",
                    _import(d / name, role, "FLIP", "--source-layer", layer),
                    mode=EITHER,
                    names=(name,),
                    layer="FLIP",
                    extra={"source_layer": layer},
                )
            )

    # -- sidecars missing, lying or from another file ---------------------------------------
    def sidecars(self) -> None:
        name, role = _SHP
        src = self.files / name
        for suffix in (".shx", ".dbf", ".prj"):
            d = self.folder("sidecar")
            shp = _copy_set(src, d, src.stem)
            shp.with_suffix(suffix).unlink()
            self.add(
                Case(
                    f"sidecar/missing{suffix}",
                    "sidecar",
                    _import(shp, role, "SIDE"),
                    names=(src.stem,),
                )
            )
        other = self.files / _SHP2[0]
        for suffix in (".shx", ".dbf"):
            d = self.folder("sidecar")
            shp = _copy_set(src, d, src.stem)
            shutil.copy(other.with_suffix(suffix), shp.with_suffix(suffix))
            self.add(
                Case(
                    f"sidecar/foreign{suffix}",
                    "sidecar",
                    _import(shp, role, "SIDE"),
                    names=(src.stem,),
                )
            )
        # lying .prj: the same Gauss-Krüger coordinates declared in other systems
        for epsg in (3857, 4326, 4490, 4548, 4528, 4526, 32650, 2385, 4214):
            d = self.folder("sidecar")
            shp = _copy_set(src, d, src.stem)
            gpd.read_file(src).set_crs(epsg, allow_override=True).to_file(
                d / "tmp.shp", encoding="UTF-8"
            )
            shutil.copy(d / "tmp.prj", shp.with_suffix(".prj"))
            self.add(
                Case(
                    f"sidecar/prj-epsg{epsg}", "crs", _import(shp, role, "SIDE"), names=(src.stem,)
                )
            )
        d = self.folder("sidecar")
        shp = _copy_set(src, d, src.stem)
        shp.with_suffix(".prj").write_text("GEOGCS[nonsense")
        self.add(Case("sidecar/prj-garbage", "crs", _import(shp, role, "SIDE"), names=(src.stem,)))
        # lying .cpg (the data are UTF-8) and a .cpg that names nothing known
        for cpg in ("GBK", "936", "1252", "ISO-8859-1", "BIG5", "klingon"):
            d = self.folder("sidecar")
            shp = _copy_set(src, d, src.stem)
            shp.with_suffix(".cpg").write_text(cpg)
            self.add(
                Case(
                    f"sidecar/cpg-{cpg}", "encoding", _import(shp, role, "SIDE"), names=(src.stem,)
                )
            )
        # GBK data with a .cpg saying UTF-8, and with one saying 1252
        gbk = gpd.read_file(src)
        for cpg in ("UTF-8", "1252", "ISO-8859-1"):
            d = self.folder("sidecar")
            gbk.to_file(d / "gbk.shp", encoding="GBK")
            (d / "gbk.cpg").write_text(cpg)
            self.add(
                Case(
                    f"sidecar/gbk-data-cpg-{cpg}",
                    "encoding",
                    _import(d / "gbk.shp", role, "SIDE"),
                    names=("gbk",),
                )
            )

    # -- geometry that is not geometry ------------------------------------------------------
    def geometry(self) -> None:
        ring = [
            [39540000.0, 4052000.0],
            [39540100.0, 4052000.0],
            [39540100.0, 4052100.0],
            [39540000.0, 4052100.0],
            [39540000.0, 4052000.0],
        ]
        good = {"type": "Polygon", "coordinates": [ring]}
        nan = float("nan")
        bad_geometries: dict[str, object] = {
            "nan-vertex": {"type": "Polygon", "coordinates": [[ring[0], [nan, nan], *ring[2:]]]},
            "nan-point-x": {
                "type": "Polygon",
                "coordinates": [[ring[0], [nan, 4052000.0], *ring[2:]]],
            },
            "all-nan-ring": {"type": "Polygon", "coordinates": [[[nan, nan]] * 5]},
            "inf": {"type": "Polygon", "coordinates": [[ring[0], [1e309, 4052000.0], *ring[2:]]]},
            "1e300": {
                "type": "Polygon",
                "coordinates": [[[1e300, 1e300], [2e300, 1e300], [2e300, 2e300], [1e300, 1e300]]],
            },
            "string-coords": {"type": "Polygon", "coordinates": [[["a", "b"], *ring[1:]]]},
            "string-number-coords": {
                "type": "Polygon",
                "coordinates": [[[str(x), str(y)] for x, y in ring]],
            },
            "type-typo": {"type": "Polygonx", "coordinates": [ring]},
            "type-missing": {"coordinates": [ring]},
            "unclosed": {"type": "Polygon", "coordinates": [ring[:4]]},
            "two-points": {"type": "Polygon", "coordinates": [[ring[0], ring[1]]]},
            "empty-ring": {"type": "Polygon", "coordinates": [[]]},
            "null": None,
            "empty-collection": {"type": "GeometryCollection", "geometries": []},
            "point-in-polygons": {"type": "Point", "coordinates": ring[0]},
            "line-in-polygons": {"type": "LineString", "coordinates": ring[:3]},
            "nested-collection": {"type": "GeometryCollection", "geometries": [good]},
            "coordinates-not-list": {"type": "Polygon", "coordinates": 5},
        }
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4527"}}
        for key, geom in bad_geometries.items():
            d = self.folder("geometry")
            path = d / f"geom_{key}.geojson"
            feats = [
                {
                    "type": "Feature",
                    "properties": {"YDYHFLDM": "0701", "BSM": f"B{i}"},
                    "geometry": g,
                }
                for i, g in enumerate((good, geom, good), start=1)
            ]
            text = json.dumps(
                {"type": "FeatureCollection", "crs": crs, "features": feats}, allow_nan=True
            ).replace("Infinity", "1e999")
            path.write_text(text, encoding="utf-8")
            self.add(
                Case(
                    f"geometry/{key}",
                    "geometry",
                    _import(path, "planned_land_use", "GEOM"),
                    names=(path.name,),
                )
            )
        # the same damages as stored binary geometry in a GeoPackage and a Shapefile
        base = gpd.GeoDataFrame(
            {"YDYHFLDM": ["0701", "0702", "0703"], "BSM": ["B1", "B2", "B3"]},
            geometry=[shapely.Polygon(ring)] * 3,
            crs="EPSG:4527",
        )
        blobs = {
            "garbage-wkb": b"\x01\x99\x00\x00\x00garbage",
            "short-wkb": shapely.to_wkb(shapely.Polygon(ring))[:20],
            "unclosed-wkb": _polygon_wkb(ring[:4]),
            "two-point-wkb": _polygon_wkb(ring[:2]),
            "nan-wkb": _polygon_wkb([ring[0], [nan, nan], *ring[2:]]),
            "empty-blob": b"",
        }
        for key, blob in blobs.items():
            d = self.folder("geometry")
            path = d / f"geom_{key}.gpkg"
            base.to_file(path, layer="GHYD")
            _set_gpkg_geometry(path, "GHYD", 2, blob)
            self.add(
                Case(
                    f"geometry/gpkg-{key}",
                    "geometry",
                    _import(path, "planned_land_use", "GEOM"),
                    names=(path.name,),
                )
            )
        d = self.folder("geometry")
        path = d / "geom_shp-null-shape.shp"
        base.set_geometry([base.geometry.iloc[0], None, base.geometry.iloc[2]]).to_file(
            path, encoding="UTF-8"
        )
        self.add(
            Case(
                "geometry/shp-null-shape",
                "geometry",
                _import(path, "planned_land_use", "GEOM"),
                names=(path.name,),
            )
        )
        for key, value in (("shp-nan", nan), ("shp-inf", float("inf"))):
            d = self.folder("geometry")
            path = d / f"geom_{key}.shp"
            base.to_file(path, encoding="UTF-8")
            _set_shp_vertex(path, record=2, vertex=1, value=value)
            self.add(
                Case(
                    f"geometry/{key}",
                    "geometry",
                    _import(path, "planned_land_use", "GEOM"),
                    names=(path.name,),
                )
            )
        # mixed types in one Shapefile set cannot be written; a GeoPackage can hold them
        d = self.folder("geometry")
        path = d / "geom_mixed.gpkg"
        mixed = base.set_geometry(
            [shapely.Polygon(ring), shapely.Point(ring[0]), shapely.LineString(ring[:3])]
        )
        mixed.to_file(path, layer="GHYD")
        self.add(
            Case(
                "geometry/gpkg-mixed-types",
                "geometry",
                _import(path, "planned_land_use", "GEOM"),
                names=(path.name,),
            )
        )

    # -- coordinates in the wrong system ----------------------------------------------------
    def crs(self) -> None:
        name, role = _JSON
        src = gpd.read_file(self.files / name).to_crs(4527)  # the file is lon/lat
        variants = {
            "lonlat-declared-gk": (src.to_crs(4490).set_crs(4527, allow_override=True), None),
            "gk-declared-lonlat": (src.set_crs(4490, allow_override=True), None),
            "gk-declared-webmercator": (src.set_crs(3857, allow_override=True), None),
            "gk-no-zone-declared": (src.set_crs(4548, allow_override=True), None),
            "swapped-axes": (
                src.set_geometry(shapely.transform(src.geometry.values, lambda c: c[:, ::-1])),
                None,
            ),
            "gk-option-webmercator": (src, "EPSG:3857"),
            "gk-option-utm": (src, "EPSG:32650"),
            "gk-option-zone-41": (src, "EPSG:4529"),
            "gk-option-unknown": (src, "EPSG:999999"),
            "gk-option-garbage": (src, "not a crs"),
        }
        for key, (frame, option) in variants.items():
            d = self.folder("crs")
            path = d / f"crs_{key}.geojson"
            frame.to_file(path, driver="GeoJSON")
            extra = ["--crs", option] if option else []
            self.add(
                Case(
                    f"crs/{key}",
                    "crs",
                    _import(path, role, "CRS", *extra),
                    names=(path.name,) if not option else (),
                )
            )

    # -- text in the wrong encoding, names that are not UTF-8 -------------------------------
    def encodings(self) -> None:
        name, role = _JSON
        text = (self.files / name).read_text(encoding="utf-8")
        for codec in ("gbk", "utf-16", "big5", "latin-1"):
            d = self.folder("encoding")
            path = d / f"enc_{codec}.geojson"
            path.write_bytes(text.encode(codec, errors="replace"))
            self.add(
                Case(
                    f"encoding/geojson-{codec}",
                    "encoding",
                    _import(path, role, "ENC"),
                    names=(path.name,),
                )
            )
        d = self.folder("encoding")
        raw = os.fsencode(d) + b"/" + "规划单元".encode("gbk") + b".geojson"
        with open(raw, "wb") as f:
            f.write(text.encode("utf-8"))
        self.add(
            Case(
                "encoding/gbk-file-name",
                "encoding",
                _import(os.fsdecode(raw), role, "ENC"),
                names=("规划单元",),
            )
        )
        d = self.folder("encoding")
        shp = _copy_set(self.files / _SHP[0], d, "x")
        raw = os.fsencode(d) + b"/" + "项目".encode("gbk")
        for p in d.iterdir():
            os.rename(os.fsencode(p), raw + os.fsencode(p.suffix))
        self.add(
            Case(
                "encoding/gbk-shapefile-name",
                "encoding",
                _import(os.fsdecode(raw + b".shp"), _SHP[1], "ENC"),
                names=("项目",),
            )
        )
        del shp

    # -- zips: bombs, links and paths outside ----------------------------------------------
    def zips(self) -> None:
        name, role = _SHP
        src = self.files / name
        members = [p for p in src.parent.glob(src.stem + ".*") if p.stem == src.stem]

        def zipped(
            key: str,
            extra: Callable[[zipfile.ZipFile], None] | None = None,
            rename: Callable[[str], str] = lambda n: n,
        ) -> None:
            d = self.folder("zip")
            path = d / f"zip_{key}.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                for p in members:
                    z.write(p, rename(p.name))
                if extra:
                    extra(z)
            self.add(Case(f"zip/{key}", "zip", _import(path, role, "ZIP"), names=(path.name,)))

        def bomb(z: zipfile.ZipFile, megabytes: int = 64) -> None:
            info = zipfile.ZipInfo("padding.bin")
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as f:
                block = b"\0" * (1 << 20)
                for _ in range(megabytes):  # zeros: 1000 times their packed size
                    f.write(block)

        def link(z: zipfile.ZipFile) -> None:
            info = zipfile.ZipInfo("link.prj")
            info.external_attr = 0o120777 << 16
            z.writestr(info, "/etc/passwd")

        zipped("bomb", bomb)
        zipped("traversal", rename=lambda n: "../../" + n)
        zipped("absolute", lambda z: z.writestr(zipfile.ZipInfo("/tmp/guotu-abs/a.prj"), "x"))
        zipped("symlink", link)
        zipped("two-datasets", lambda z: z.write(self.files / _JSON[0], "other.geojson"))
        zipped("empty", rename=lambda n: n + ".txt")
        d = self.folder("zip")
        path = d / "zip_truncated.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for p in members:
                z.write(p, p.name)
        _cut(path, path.stat().st_size // 2)
        self.add(Case("zip/truncated", "zip", _import(path, role, "ZIP"), names=(path.name,)))
        # an XLSX that unpacks to gigabytes (a zip bomb given with --table)
        d = self.folder("zip")
        xlsx = d / "bomb.xlsx"
        shutil.copy(self.files / _XLSX, xlsx)
        with zipfile.ZipFile(xlsx, "a", zipfile.ZIP_DEFLATED) as z:
            bomb(z, 600)  # beyond max_table_mb (500)
        self.add(
            Case(
                "zip/xlsx-bomb",
                "zip",
                _import(
                    self.files / _PARCELS,
                    "detailed_parcel",
                    "ZIP",
                    "--table",
                    str(xlsx),
                    "--key",
                    "DKBH",
                ),
                names=("bomb.xlsx",),
            )
        )
        for key, content in (
            ("xlsx-not-zip", b"DKBH,RJL\n1,2\n"),
            ("xlsx-garbage-zip", b"PK\x03\x04" + b"\0" * 200),
        ):
            d = self.folder("zip")
            xlsx = d / f"{key}.xlsx"
            xlsx.write_bytes(content)
            self.add(
                Case(
                    f"table/{key}",
                    "table",
                    _import(
                        self.files / _PARCELS,
                        "detailed_parcel",
                        "TAB",
                        "--table",
                        str(xlsx),
                        "--key",
                        "DKBH",
                    ),
                    names=(xlsx.name,),
                )
            )

    # -- attribute tables and values --------------------------------------------------------
    def tables(self) -> None:
        d = self.folder("table")
        big = d / "big.csv"
        with big.open("w", encoding="utf-8") as f:
            f.write("DKBH,RJL\n")
            row = "X" * 1000 + ",1\n"
            for _ in range(12_000):  # 12 MB, beyond a limit of 10 MB set for the case
                f.write(row)
        self.add(
            Case(
                "table/csv-too-large",
                "table",
                _import(
                    self.files / _PARCELS,
                    "detailed_parcel",
                    "TAB",
                    "--table",
                    str(big),
                    "--key",
                    "DKBH",
                ),
                names=("big.csv", "max_table_mb"),
                env={"GUOTU_MAX_TABLE_MB": "10"},
            )
        )
        d = self.folder("table")
        rows = d / "rows.csv"
        rows.write_text("DKBH,RJL\n" + "".join(f"K{i},1\n" for i in range(2000)), encoding="utf-8")
        self.add(
            Case(
                "table/csv-too-many-rows",
                "table",
                _import(
                    self.files / _PARCELS,
                    "detailed_parcel",
                    "TAB",
                    "--table",
                    str(rows),
                    "--key",
                    "DKBH",
                ),
                names=("rows.csv", "max_table_rows"),
                env={"GUOTU_MAX_TABLE_ROWS": "1000"},
            )
        )
        for key, content in (
            ("csv-unclosed-quote", b'"DKBH,RJL\n"a,1\n'),
            ("csv-binary", bytes(range(256)) * 20),
            ("csv-duplicate-keys", b"DKBH,RJL\nA1,1\nA1,2\n"),
            ("csv-no-key", b"X,RJL\n1,2\n"),
        ):
            d = self.folder("table")
            csv = d / f"{key}.csv"
            csv.write_bytes(content)
            self.add(
                Case(
                    f"table/{key}",
                    "table",
                    _import(
                        self.files / _PARCELS,
                        "detailed_parcel",
                        "TAB",
                        "--table",
                        str(csv),
                        "--key",
                        "DKBH",
                    ),
                    names=(csv.name,),
                )
            )
        name, role = _SHP
        frame = gpd.read_file(self.files / name)
        values = {
            "MJ-text": ("MJ", "abc"),
            "MJ-huge": ("MJ", 1e300),
            "date-bad": ("PZRQ", "2024-13-45"),
        }
        for key, (col, value) in values.items():
            d = self.folder("table")
            bad = frame.copy()
            bad[col] = [value] + [None] * (len(bad) - 1)
            path = d / f"val_{key}.geojson"
            bad.to_file(path, driver="GeoJSON")
            self.add(Case(f"value/{key}", "value", _import(path, role, "VAL"), names=(path.name,)))

    # -- YAML bombs in every YAML guotu reads ----------------------------------------------
    def yaml(self) -> None:
        laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        for i in range(1, 10):
            prev = chr(ord("a") + i - 1)
            cur = chr(ord("a") + i)
            laughs += (
                f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},"
                f"*{prev},*{prev},*{prev}]\n"
            )
        docs = {
            "billion-laughs": laughs.encode(),
            "huge-string": b"id: x\nrules: '" + b"A" * (10 << 20) + b"'\n",
            "deep-nesting": b"a: " + b"[" * 20000 + b"]" * 20000 + b"\n",
            "gbk": "id: 测试\ntitle: 规则包\n".encode("gbk"),
            "binary": bytes(range(256)),
            "duplicate-keys": b"id: a\nid: b\n",
            "not-a-mapping": b"- 1\n- 2\n",
            "python-tag": b"!!python/object/apply:os.system ['true']\n",
        }
        for key, content in docs.items():
            d = self.folder("yaml")
            path = d / f"pack_{key}.yaml"
            path.write_bytes(content)
            self.add(
                Case(
                    f"yaml/rules-validate-{key}",
                    "yaml",
                    ["rules", "validate", str(path)],
                    names=(path.name,),
                )
            )
            if key in ("billion-laughs", "deep-nesting", "huge-string"):
                self.add(
                    Case(
                        f"yaml/review-pack-{key}",
                        "yaml",
                        ["review", "master-plan", "-w", WS, "--rules", str(path)],
                        names=(path.name,),
                    )
                )
                self.add(
                    Case(
                        f"yaml/checks-{key}",
                        "yaml",
                        ["check", "-w", WS, "--checks", str(path)],
                        names=(path.name,),
                    )
                )

    # -- names that would become tables, URLs and files -------------------------------------
    def names(self) -> None:
        name, role = _SHP
        for key, layer in (
            ("html", "<img src=x onerror=alert(1)>"),
            ("traversal", "../../etc/passwd"),
            ("long", "图" * 5000),
            ("space", "a b"),
            ("quote", 'a"b'),
            ("reserved", "gpkg_contents"),
            ("sql", "x; DROP TABLE GHYD"),
            ("empty", " "),
            ("newline", "a\nb"),
            ("dot", "a.b"),
        ):
            self.add(
                Case(f"name/layer-{key}", "name", _import(self.files / name, role, layer), names=())
            )
        for key, plan in (
            ("html", "<script>alert(1)</script>"),
            ("slash", "a/b"),
            ("long", "规" * 500),
        ):
            self.add(
                Case(
                    f"name/plan-{key}",
                    "name",
                    ["plan", "create", plan, "--level", "县", "--type", "总体规划", "-w", WS],
                    names=(),
                )
            )


def _polygon_wkb(coords: list[list[float]]) -> bytes:
    """Little-endian WKB of a one-ring polygon, whatever its ring (GEOS would refuse to
    make the geometry)."""
    import struct

    body = struct.pack("<BIII", 1, 3, 1, len(coords))
    for x, y in coords:
        body += struct.pack("<dd", x, y)
    return body


def _set_shp_vertex(shp: Path, *, record: int, vertex: int, value: float) -> None:
    """Overwrite x and y of one vertex of a polygon record in a .shp (GDAL will not write
    NaN itself)."""
    import struct

    shx = shp.with_suffix(".shx").read_bytes()
    offset = struct.unpack(">i", shx[100 + 8 * (record - 1) : 104 + 8 * (record - 1)])[0] * 2
    data = bytearray(shp.read_bytes())
    content = offset + 8
    num_parts = struct.unpack("<i", data[content + 36 : content + 40])[0]
    points = content + 44 + 4 * num_parts
    struct.pack_into("<dd", data, points + 16 * vertex, value, value)
    shp.write_bytes(bytes(data))


def _set_gpkg_geometry(path: Path, table: str, fid: int, wkb: bytes) -> None:
    """Put ``wkb`` (after a GeoPackage blob header) into feature ``fid``, with the R-tree
    triggers out of the way (they call SpatiaLite functions plain sqlite3 lacks)."""
    conn = sqlite3.connect(path)
    try:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
        ).fetchall()
        for trigger, _sql in triggers:
            conn.execute(f'DROP TRIGGER "{trigger}"')
        header = b"GP\x00\x01" + (4527).to_bytes(4, "little")
        conn.execute(
            f'UPDATE "{table}" SET geom = ? WHERE fid = ?', (header + wkb if wkb else b"", fid)
        )
        conn.commit()
    finally:
        conn.close()


def make_corpus(files: Path, out: Path) -> list[Case]:
    """Write the corpus into ``out`` (emptied first) from the demo handover files in
    ``files``; returns its cases."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    maker = _Maker(files, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL and shapely on purpose-made damage
        for part in (
            maker.truncations,
            maker.flips,
            maker.sidecars,
            maker.geometry,
            maker.crs,
            maker.encodings,
            maker.zips,
            maker.tables,
            maker.yaml,
            maker.names,
        ):
            part()
    ids = [c.id for c in maker.cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return maker.cases


if __name__ == "__main__":  # pragma: no cover - a look at the files by hand
    cases = make_corpus(Path(sys.argv[2]), Path(sys.argv[1]))
    for c in cases:
        print(c.id, c.mode, " ".join(c.argv))
    print(len(cases), "cases")

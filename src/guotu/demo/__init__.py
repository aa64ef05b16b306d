"""The demo county 示范县: a deterministic synthetic county with known planted answers.

:func:`generate_county` builds every layer in memory; :func:`write_handover_files` writes them
as the files a planning bureau hands over; :func:`build_demo` does both, imports the files
into a workspace and writes ``manifest.json``. See ``docs/demo_county.md``.
"""

from __future__ import annotations

from guotu.demo.build import DemoResult, build_demo, default_out_dir
from guotu.demo.county import MIN_PARCELS, County, generate_county
from guotu.demo.files import HANDOVER, Handover, write_handover_files
from guotu.demo.manifest import ID_FIELDS, Item

__all__ = [
    "HANDOVER",
    "ID_FIELDS",
    "MIN_PARCELS",
    "County",
    "DemoResult",
    "Handover",
    "Item",
    "build_demo",
    "default_out_dir",
    "generate_county",
    "write_handover_files",
]

"""What the PDF tests need: the CJK font (Debian fonts-wqy-microhei) and poppler's pdffonts,
pdftotext and pdftoppm (Debian poppler-utils).

Without them the tests that need them skip, except under ``CI=true``, where they fail:
``.ci/run`` installs both packages, so a skip there would hide a broken set-up.
"""

from __future__ import annotations

import shutil

import pytest

from guotu.io import fonts

from ..conftest import unavailable

POPPLER = ("pdffonts", "pdftotext", "pdftoppm", "pdfinfo")


@pytest.fixture(autouse=True)
def _no_font_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """A GUOTU_PDF_FONT of the developer's shell does not reach these tests."""
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)


@pytest.fixture
def poppler(cjk_font: fonts.PdfFont) -> None:
    """The font and poppler's command-line tools (skips without them, fails under CI=true)."""
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not found (apt-get install poppler-utils)")

"""What the PDF tests need: the CJK font (Debian fonts-wqy-microhei) and poppler's pdffonts,
pdftotext and pdftoppm (Debian poppler-utils).

Without them the tests that need them skip, except under ``CI=true``, where they fail:
``.ci/run`` installs both packages, so a skip there would hide a broken set-up.
"""

from __future__ import annotations

import os
import shutil

import pytest

from guotu.errors import ConfigError, EnvironmentSetupError
from guotu.io import fonts

POPPLER = ("pdffonts", "pdftotext", "pdftoppm", "pdfinfo")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the PDF tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _no_font_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """A GUOTU_PDF_FONT of the developer's shell does not reach these tests."""
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)


@pytest.fixture
def cjk_font(_no_font_override: None) -> fonts.PdfFont:
    """The font the PDFs embed (skips without it, fails under CI=true)."""
    try:
        return fonts.find_cjk_font()
    except (EnvironmentSetupError, ConfigError) as exc:
        _unavailable(exc.render("en"))
        raise  # not reached: _unavailable skips or fails


@pytest.fixture
def poppler(cjk_font: fonts.PdfFont) -> None:
    """The font and poppler's command-line tools (skips without them, fails under CI=true)."""
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        _unavailable(f"{', '.join(missing)} not found (apt-get install poppler-utils)")

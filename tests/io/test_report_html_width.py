"""The HTML reports printed on A4 in headless Chromium (Debian's, driven by Playwright): no
table runs past the page, and no id or code breaks across lines.

Without Chromium or Playwright these tests skip, except under ``CI=true``, where they fail
(``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guotu.io.monitor_report import render_monitor_html
from guotu.io.review_report import write_review_html
from tests.io.test_monitor_report import make_monitor_doc
from tests.io.test_review_report import make_doc

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("GUOTU_TEST_CHROMIUM", "/usr/bin/chromium")
#: A4 less the 14 mm print margins of the review report, in CSS pixels (96 per inch).
PRINT_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)


def _missing() -> str | None:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install --group test)"
    return None


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1000})
        page.emulate_media(media="print")
        yield page
        browser.close()


def _html(which: str, tmp_path: Path) -> Path:
    if which == "review":
        return write_review_html(make_doc(), tmp_path / "审查报告.html")
    path = tmp_path / "体检评估报告.html"
    path.write_text(render_monitor_html(make_monitor_doc()), encoding="utf-8")
    return path


@pytest.mark.parametrize("which", ["review", "monitor"])
def test_no_table_runs_past_an_a4_page(which: str, browser_page: Any, tmp_path: Path) -> None:
    browser_page.goto(_html(which, tmp_path).as_uri())
    wide = browser_page.evaluate("""() => [...document.querySelectorAll('table')]
        .filter(t => t.getBoundingClientRect().right > document.body.getBoundingClientRect().right + 1)
        .map(t => t.querySelector('th') ? t.querySelector('th').textContent : t.className)""")
    assert wide == []
    assert browser_page.evaluate("document.documentElement.scrollWidth") <= PRINT_WIDTH_PX


def test_ids_in_the_findings_table_stay_on_one_line(browser_page: Any, tmp_path: Path) -> None:
    browser_page.goto(_html("review", tmp_path).as_uri())
    broken = browser_page.evaluate("""() => [...document.querySelectorAll('table.list .nb')]
        .filter(s => s.getClientRects().length > 1).map(s => s.textContent)""")
    shown = browser_page.evaluate(
        "[...document.querySelectorAll('table.list .nb')].map(s => s.textContent)"
    )
    assert "BSM=GH00028903" in shown and broken == []

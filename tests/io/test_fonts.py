"""Finding the CJK font every PDF embeds: the setting, the Debian path, the fallbacks, and a
clear environment error when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from guotu.errors import ConfigError, EnvironmentSetupError
from guotu.io import fonts

ROOT = Path(__file__).resolve().parents[2]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def test_the_debian_package_file_is_looked_at_first() -> None:
    assert fonts.KNOWN_FONTS[0] == "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    assert fonts.DEBIAN_PACKAGE == "fonts-wqy-microhei"


def test_ci_installs_the_font_and_poppler() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert fonts.KNOWN_FONTS[0] in ci and fonts.DEBIAN_PACKAGE in ci
    assert "poppler-utils" in ci and "apt-get install" in ci


def test_candidates_are_tried_in_order_skipping_unusable_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cjk_font: fonts.PdfFont
) -> None:
    not_a_font = tmp_path / "broken.ttf"
    not_a_font.write_bytes(b"\0\1\0\0 not really")
    tried = [str(tmp_path / "absent.ttc"), str(not_a_font)]
    if DEJAVU.is_file():
        tried.append(str(DEJAVU))  # loads, but has no Chinese glyphs
    tried.append(str(cjk_font.path))
    monkeypatch.setattr(fonts, "_candidates", lambda: iter(tried))
    assert fonts.find_cjk_font().path == cjk_font.path


def test_the_setting_wins_over_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cjk_font: fonts.PdfFont
) -> None:
    chosen = tmp_path / "单位字体.ttc"
    chosen.symlink_to(cjk_font.path)
    monkeypatch.setattr(fonts, "_candidates", lambda: iter(()))
    monkeypatch.setenv(fonts.FONT_ENV, str(chosen))
    assert fonts.find_cjk_font().path == chosen
    # an explicit path (from a caller's setting) wins over the environment
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "absent.ttf"))
    assert fonts.find_cjk_font(chosen).path == chosen


def test_a_missing_font_file_in_the_setting_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "absent.ttf"))
    with pytest.raises(ConfigError) as info:
        fonts.find_cjk_font()
    assert info.value.exit_code == 2 and info.value.file == str(tmp_path / "absent.ttf")
    assert info.value.render("zh").startswith(
        f"GUOTU_PDF_FONT={tmp_path / 'absent.ttf'} 指向的字体文件不存在。解决办法："
    )


def test_no_font_at_all_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_candidates", lambda: iter(()))
    with pytest.raises(EnvironmentSetupError) as info:
        fonts.find_cjk_font()
    err = info.value
    assert err.exit_code == 3 and err.code == "environment-error"
    assert err.render("zh") == (
        "找不到可嵌入 PDF 的中文 TrueType 字体；guotu 不会生成中文显示为方框的 PDF。解决办法：请安装 Debian "
        "软件包 fonts-wqy-microhei（apt-get install fonts-wqy-microhei），或将环境变量 "
        "GUOTU_PDF_FONT 设为含中文字形的 .ttf 或 .ttc 字体文件。"
    )


def test_the_font_has_every_character_the_reports_print(cjk_font: fonts.PdfFont) -> None:
    assert cjk_font.missing(fonts.REQUIRED_TEXT + "亩公顷㎡·→●【】") == ""
    assert cjk_font.fit("10⁸ m³") in ("10⁸ m³", "108 m³")

"""The Chinese font every PDF guotu writes embeds (as a subset).

A PDF a bureau files must show the same on every reader, so the font travels inside it.
reportlab embeds TrueType outlines only (``.ttf``, or one face of a ``.ttc`` collection);
OpenType/CFF fonts such as Noto Sans CJK or Source Han Sans cannot be embedded and are
skipped. The project's set-up installs Debian's ``fonts-wqy-microhei`` (文泉驿微米黑,
Apache-2.0 or GPL-3+ with the font exception, see docs/review.md).

:func:`find_cjk_font` takes, in this order:

1. the file given by the caller, else the one named by the environment variable
   ``GUOTU_PDF_FONT`` (an unusable file there is a :class:`~guotu.errors.ConfigError`, never a
   silent fallback);
2. the usual paths of WenQuanYi, Droid Sans Fallback and AR PL on Debian and Fedora, and of
   SimSun, 微软雅黑 and 黑体 on Windows and macOS;
3. the other fonts ``fc-list :lang=zh`` lists, regular weights first.

A font is usable when reportlab can load it and it has a glyph for every character of
:data:`REQUIRED_TEXT` (Chinese, ``m²``, ``·``, ``—`` …). With none, writing a PDF fails with
:class:`~guotu.errors.EnvironmentSetupError` naming the Debian package to install: guotu never
writes a PDF whose characters show as empty boxes.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from guotu.errors import ConfigError, EnvironmentSetupError
from guotu.settings import load_settings

__all__ = [
    "DEBIAN_PACKAGE",
    "FONT_ENV",
    "KNOWN_FONTS",
    "REQUIRED_TEXT",
    "PdfFont",
    "find_cjk_font",
    "load_font",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the font file to embed.
FONT_ENV = "GUOTU_PDF_FONT"
#: The Debian package the project's set-up installs (``.ci/run``).
DEBIAN_PACKAGE = "fonts-wqy-microhei"
#: Where fonts with Chinese TrueType outlines usually are, the Debian package's file first.
KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)
#: Characters every report prints: a font lacking one of them is not used.
REQUIRED_TEXT = "国土空间规划审查意见报告面积公顷亩平方米（）：，。、；“”m²·—≥≤%0123456789"


@dataclass(frozen=True)
class PdfFont:
    """A loaded TrueType font: its reportlab name, its file and the characters it has."""

    name: str
    path: Path
    chars: frozenset[int] = field(default=frozenset(), compare=False, repr=False)

    def missing(self, text: str) -> str:
        """The characters of ``text`` the font has no glyph for, each once, in order.

        Examples
        --------
        >>> PdfFont("x", Path("x.ttf"), frozenset(map(ord, "ab"))).missing("abcac")
        'c'
        """
        return "".join(
            dict.fromkeys(c for c in text if ord(c) not in self.chars and not c.isspace())
        )

    def fit(self, text: str) -> str:
        """``text`` with each character the font lacks replaced by its compatibility form
        when the font has that (``⁸`` → ``8``, ``㎡`` → ``m2``); others are kept and logged.

        Examples
        --------
        >>> PdfFont("x", Path("x.ttf"), frozenset(map(ord, "10 m8"))).fit("10⁸ m")
        '108 m'
        """
        lacking = self.missing(text)
        if not lacking:
            return text
        out = []
        for c in text:
            if c in lacking:
                plain = unicodedata.normalize("NFKC", c)
                if plain != c and not self.missing(plain):
                    c = plain
            out.append(c)
        still = self.missing("".join(out))
        if still:
            logger.warning("The PDF font %s has no glyph for %r.", self.path.name, still)
        return "".join(out)


def load_font(path: str | Path) -> PdfFont:
    """Register the TrueType font file ``path`` with reportlab (once; the first face of a
    ``.ttc``) and return it.

    Raises
    ------
    TTFError, OSError
        The file is missing, not TrueType, or has CFF outlines reportlab cannot embed.

    Examples
    --------
    >>> load_font("/no/such/font.ttf")
    Traceback (most recent call last):
    ...
    FileNotFoundError: /no/such/font.ttf
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(str(path))
    name = "GuotuCJK-" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    face = pdfmetrics.getFont(name).face
    return PdfFont(name, path, frozenset(face.charToGlyph))


def _fc_list() -> list[str]:
    """Font files ``fc-list :lang=zh`` knows, regular weights first; ``[]`` without it."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh", "--format=%{file}\\n"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        logger.info("fc-list failed; only the usual font paths are looked at: %s", exc)
        return []
    files = sorted({line.strip() for line in out.splitlines() if line.strip()})
    heavy = ("bold", "black", "heavy", "light", "thin", "medium", "semibold")
    return sorted(
        files,
        key=lambda f: (
            any(w in f.lower() for w in heavy),
            not f.lower().endswith((".ttf", ".ttc")),
            f,
        ),
    )


def _candidates() -> Iterator[str]:
    yield from KNOWN_FONTS
    yield from _fc_list()


def _no_font_error() -> EnvironmentSetupError:
    return EnvironmentSetupError(
        "No Chinese TrueType font was found to embed in the PDF, and guotu does not write a "
        "PDF whose Chinese text would show as empty boxes.",
        fix=f"Install Debian's {DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}), or set "
        f"{FONT_ENV} to a .ttf or .ttc font file with Chinese glyphs.",
        message_zh="找不到可嵌入 PDF 的中文 TrueType 字体；guotu 不会生成中文显示为方框的 PDF。",
        fix_zh=f"请安装 Debian 软件包 {DEBIAN_PACKAGE}（apt-get install {DEBIAN_PACKAGE}），"
        f"或将环境变量 {FONT_ENV} 设为含中文字形的 .ttf 或 .ttc 字体文件。",
    )


def find_cjk_font(path: str | Path | None = None) -> PdfFont:
    """The font to embed (see the module docstring for the search order).

    Parameters
    ----------
    path
        A font file to use instead of the search (e.g. from a setting); ``GUOTU_PDF_FONT``
        when not given.

    Raises
    ------
    ConfigError
        The given file (or ``GUOTU_PDF_FONT``) is not a TrueType font with Chinese glyphs.
    EnvironmentSetupError
        No usable font is installed.

    Examples
    --------
    >>> find_cjk_font("/nonexistent/font.ttf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    guotu.errors.ConfigError: GUOTU_PDF_FONT=/nonexistent/font.ttf: there is no such file. Fix: ...
    """
    chosen = str(path) if path else load_settings().pdf_font
    if chosen:
        if not Path(chosen).is_file():
            raise ConfigError(
                f"{FONT_ENV}={chosen}: there is no such file.",
                file=chosen,
                fix=f"Point {FONT_ENV} to a .ttf or .ttc font with Chinese glyphs (for example "
                f"{KNOWN_FONTS[0]}), or unset it.",
                message_zh=f"{FONT_ENV}={chosen} 指向的字体文件不存在。",
                fix_zh=f"请将 {FONT_ENV} 指向含中文字形的 .ttf 或 .ttc 字体（如 {KNOWN_FONTS[0]}），"
                "或取消该设置。",
            )
        try:
            font = load_font(chosen)
        except (TTFError, OSError) as exc:
            raise ConfigError(
                f"{FONT_ENV}={chosen} is not a TrueType font file reportlab can embed: {exc}.",
                file=chosen,
                fix=f"Point {FONT_ENV} to a .ttf or .ttc font with Chinese glyphs "
                f"(for example {KNOWN_FONTS[0]}), or unset it.",
                message_zh=f"{FONT_ENV}={chosen} 不是可嵌入的 TrueType 字体文件：{exc}。",
                fix_zh=f"请将 {FONT_ENV} 指向含中文字形的 .ttf 或 .ttc 字体（如 {KNOWN_FONTS[0]}），"
                "或取消该设置。",
            ) from exc
        lacking = font.missing(REQUIRED_TEXT)
        if lacking:
            raise ConfigError(
                f"{FONT_ENV}={chosen} has no glyphs for {lacking}: Chinese text would show as "
                "empty boxes.",
                file=chosen,
                fix=f"Point {FONT_ENV} to a font with Chinese glyphs (for example "
                f"{KNOWN_FONTS[0]}), or unset it.",
                message_zh=f"{FONT_ENV}={chosen} 缺少“{lacking}”等字形，中文会显示为方框。",
                fix_zh=f"请将 {FONT_ENV} 指向含中文字形的字体（如 {KNOWN_FONTS[0]}），或取消该设置。",
            )
        return font
    for candidate in dict.fromkeys(_candidates()):
        if not Path(candidate).is_file():
            continue
        try:
            font = load_font(candidate)
        except (TTFError, OSError) as exc:
            logger.info("Font %s skipped: %s", candidate, exc)
            continue
        if font.missing(REQUIRED_TEXT):
            logger.info("Font %s skipped: no glyphs for %s", candidate, font.missing(REQUIRED_TEXT))
            continue
        return font
    raise _no_font_error()

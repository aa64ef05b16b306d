"""The QR code of a decision document's verification URL, drawn as vector squares in the PDF.

The code is segno's (error correction level M, never a Micro QR), with its four-module quiet
zone painted white so it scans on tinted paper too. Dark modules of a row are drawn as runs
(one rectangle per run), and the whole code is a link to the URL, so a reader of the PDF file
can click what a reader of the paper scans.
"""

from __future__ import annotations

from typing import Any

import segno
from reportlab.lib import colors
from reportlab.platypus import Flowable
from segno import DataOverflowError

from guotu.errors import InputError

__all__ = ["QR_BORDER", "QrCode", "qr_runs"]

#: Modules of white quiet zone around the code (the QR standard asks for four).
QR_BORDER = 4


def qr_runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The code of ``url`` as its side in modules (quiet zone included) and its dark runs,
    each ``(row, first column, length)`` counted from the top-left corner.

    Raises
    ------
    InputError
        ``url`` is too long for a QR code.

    Examples
    --------
    >>> side, runs = qr_runs("https://gis.example/v/1")
    >>> side, runs[0]
    (33, (4, 4, 7))
    """
    try:
        code = segno.make(url, error="m", micro=False)
    except DataOverflowError as exc:
        raise InputError(
            f"The verification URL of {len(url)} characters is too long for a QR code.",
            field="verification_url",
            fix="Give a shorter permanent URL (a few hundred characters at most).",
            message_zh=f"核验链接长 {len(url)} 个字符，超出二维码的容量。",
            fix_zh="请给出较短的永久链接（最多几百个字符）。",
        ) from exc
    rows = [list(row) for row in code.matrix_iter(border=QR_BORDER)]
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return len(rows), runs


class QrCode(Flowable):  # type: ignore[misc]  # reportlab ships no type hints
    """A square QR code ``size`` points wide (quiet zone included), linked to ``url``."""

    def __init__(self, url: str, size: float) -> None:
        super().__init__()
        self.url = url
        self.size = size
        self.side, self.runs = qr_runs(url)
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        canvas: Any = self.canv
        module = self.size / self.side
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for row, col, length in self.runs:
            y = self.size - (row + 1) * module
            canvas.rect(col * module, y, length * module, module, stroke=0, fill=1)
        canvas.restoreState()
        canvas.linkURL(self.url, (0, 0, self.size, self.size), relative=1, thickness=0)
